"""Defects found by the reviewers on the dashboard and the unit table: a step started early waits
for someone too (its action is not hidden behind the lowest open step's), and units without a
date stay last however the table is sorted by date."""

import datetime as dt
import html
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.http import QueryDict
from django.test import Client
from django.urls import reverse

from rollout import board, engine
from rollout import services as rollout_services
from rollout.models import Rollout, Step
from routines import services as routines
from tests.factories import UnitFactory
from training import services as training
from units.models import Municipality, Unit, User

STOCKHOLM = ZoneInfo("Europe/Stockholm")
TODAY = dt.date(2027, 3, 15)


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=STOCKHOLM)


def routine_in_review_early(rollout: Rollout, coordinator: User, manager: User) -> None:
    """Step 3 started early with a reason while step 2 is open, its routine sent for review."""
    rollout_services.step_start_early(
        actor=coordinator, rollout=rollout, step=Step.ROUTINES, reason="Chefen vill börja nu"
    )
    routine = routines.routine_start(actor=manager, rollout=rollout)
    routines.routine_send_for_review(actor=manager, routine=routine)


def row_of(municipality: Municipality, unit: Unit) -> board.UnitRow:
    with time_machine.travel(at(TODAY), tick=False):
        return {row.unit_id: row for row in board.unit_rows(municipality=municipality)}[unit.pk]


def text_of(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


@pytest.fixture
def early_review(
    municipality: Municipality, coordinator: User, manager_a: User, unit_a: Unit
) -> Rollout:
    with time_machine.travel(at(TODAY - dt.timedelta(days=10)), tick=False):
        rollout = rollout_services.rollout_start(actor=coordinator, unit=unit_a)
        rollout_services.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)
        routine_in_review_early(rollout, coordinator, manager_a)
    return rollout


@pytest.mark.django_db
def test_a_routine_in_review_in_a_step_started_early_needs_the_coordinator(
    municipality: Municipality, unit_a: Unit, early_review: Rollout
) -> None:
    row = row_of(municipality, unit_a)
    # The lowest open step still gives the one next action and the stage.
    assert row.action is not None
    assert (row.action.code, row.stage) == ("book_training", "2")
    assert [action.code for action in row.actions] == ["book_training", "approve_routine"]
    lists = board.attention([row], TODAY)
    assert [r.unit_id for r in lists.get("routines_to_review", [])] == [unit_a.pk]
    assert [r.unit_id for r in lists.get("sessions_to_book", [])] == [unit_a.pk]
    review = board.attention_action(row, "routines_to_review", TODAY)
    assert review is not None
    assert (review.code, review.step) == ("approve_routine", Step.ROUTINES)


@pytest.mark.django_db
def test_a_step_started_early_that_waits_for_the_coordinator_makes_the_unit_need_attention(
    municipality: Municipality, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    with time_machine.travel(at(TODAY - dt.timedelta(days=10)), tick=False):
        rollout = rollout_services.rollout_start(actor=coordinator, unit=unit_a)
        training.web_course_report(
            actor=manager_a,
            unit_id=unit_a.pk,
            reported_on=TODAY - dt.timedelta(days=10),
            completed_count=1,
            mode="groups",
            group_sessions=1,
            knowledge_level=3,
            reflections="",
        )
        row = row_of(municipality, unit_a)
        # Step 1 waits for the manager, on time: nothing for the coordinator yet.
        assert (row.status, [a.code for a in row.actions]) == ("on_track", ["report_web_course"])
        routine_in_review_early(rollout, coordinator, manager_a)
    row = row_of(municipality, unit_a)
    assert [a.code for a in row.actions] == ["report_web_course", "approve_routine"]
    assert row.status == "attention"
    assert "routines_to_review" in board.attention_kind(row, TODAY)


@pytest.mark.django_db
def test_the_dashboard_lists_the_routine_to_review_with_its_own_action_and_page(
    client: Client,
    municipality: Municipality,
    coordinator: User,
    unit_a: Unit,
    early_review: Rollout,
) -> None:
    with time_machine.travel(at(TODAY), tick=False):
        client.force_login(coordinator)
        page = client.get(reverse("rollout:dashboard", args=[municipality.pk]))
    content = page.content.decode()
    cards = {
        text_of(match.group(1)): match.group(2)
        for match in re.finditer(
            r'<h3 class="h5 card-title">(.*?)</h3>\s*<ul class="mb-2">(.*?)</ul>', content, re.S
        )
    }
    review = next(card for title, card in cards.items() if "väntar på granskning" in title)
    routine_page = reverse("routines:routine", args=[unit_a.pk])
    assert f'href="{routine_page}"' in review
    assert "Godkänn rutinen" in text_of(review)
    assert "Boka riktad utbildning" not in text_of(review)
    booking = next(card for title, card in cards.items() if "att boka" in title)
    assert f'href="{reverse("training:targeted", args=[unit_a.pk])}"' in booking
    assert "Boka riktad utbildning" in text_of(booking)


@pytest.mark.django_db
def test_the_unit_table_shows_every_open_steps_action_and_filters_on_them(
    client: Client,
    municipality: Municipality,
    coordinator: User,
    unit_a: Unit,
    unit_b: Unit,
    early_review: Rollout,
) -> None:
    url = reverse("rollout:unit_table", args=[municipality.pk])
    with time_machine.travel(at(TODAY), tick=False):
        client.force_login(coordinator)
        table = client.get(url).content.decode()
        waiting = client.get(url, {"behov": "routines_to_review"}).content.decode()
    row = next(
        tr for tr in re.findall(r"<tr>(.*?)</tr>", table, re.S) if unit_a.name in html.unescape(tr)
    )
    assert "Boka riktad utbildning" in text_of(row)
    assert "Godkänn rutinen" in text_of(row)
    assert unit_a.name in html.unescape(waiting)
    assert unit_b.name not in html.unescape(waiting)


@pytest.mark.django_db
def test_units_without_a_date_come_last_in_both_directions(
    client: Client, municipality: Municipality, coordinator: User
) -> None:
    # Started on different days, none reported: the web course's first report is due 30 days on.
    early, late, reported, _not_started = (
        UnitFactory.create(municipality=municipality, name=name, headcount=10)
        for name in ("Ekebo", "Björkhaga", "Almen", "Duvan")
    )
    for unit, started in ((early, 40), (late, 5), (reported, 20)):
        with time_machine.travel(at(TODAY - dt.timedelta(days=started)), tick=False):
            rollout_services.rollout_start(actor=coordinator, unit=unit)
    with time_machine.travel(at(TODAY - dt.timedelta(days=19)), tick=False):
        # Once reported, step 1 has no date.
        training.web_course_report(
            actor=coordinator,
            unit_id=reported.pk,
            reported_on=TODAY - dt.timedelta(days=19),
            completed_count=2,
            mode="groups",
            group_sessions=1,
            knowledge_level=2,
            reflections="",
        )
    with time_machine.travel(at(TODAY), tick=False):
        rows = board.unit_rows(municipality=municipality)
    assert {row.name for row in rows if row.due is not None} == {"Ekebo", "Björkhaga"}

    def order(sort: str) -> list[str]:
        table_filter = board.TableFilter.from_params(QueryDict(f"sort={sort}"), sector_ids=[])
        return [row.name for row in table_filter.apply(rows, TODAY)]

    # Without a date: in name order at the end, both ways.
    assert order("due") == ["Ekebo", "Björkhaga", "Almen", "Duvan"]
    assert order("-due") == ["Björkhaga", "Ekebo", "Almen", "Duvan"]
    with time_machine.travel(at(TODAY), tick=False):
        client.force_login(coordinator)
        page = client.get(reverse("rollout:unit_table", args=[municipality.pk]), {"sort": "-due"})
    names = [
        html.unescape(name)
        for name in re.findall(
            r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>', page.content.decode()
        )
    ]
    assert names == ["Björkhaga", "Ekebo", "Almen", "Duvan"]


def test_open_actions_start_with_the_next_action() -> None:
    snapshot = engine.RolloutSnapshot(
        status="active",
        steps={
            1: engine.StepSnapshot("done", dt.date(2027, 1, 1), dt.date(2027, 2, 1)),
            2: engine.StepSnapshot("in_progress", dt.date(2027, 2, 1)),
            3: engine.StepSnapshot("in_progress", dt.date(2027, 2, 10)),
            4: engine.StepSnapshot("not_started"),
        },
        facts={3: {"awaiting_approval": True}},
        today=TODAY,
    )
    actions = engine.open_actions(snapshot)
    assert actions[0] == engine.next_action(snapshot)
    assert [(a.code, a.step) for a in actions] == [("book_training", 2), ("approve_routine", 3)]
    paused = engine.RolloutSnapshot(status="paused", steps=snapshot.steps, today=TODAY)
    assert [a.code for a in engine.open_actions(paused)] == ["resume"]


@pytest.mark.django_db
def test_the_managers_unit_list_shows_the_early_steps_action_too(
    client: Client, manager_a: User, unit_a: Unit, early_review: Rollout
) -> None:
    with time_machine.travel(at(TODAY), tick=False):
        client.force_login(manager_a)
        content = client.get(reverse("units:list")).content.decode()
    found = re.search(
        rf'<a href="{reverse("units:detail", args=[unit_a.pk])}">.*?</tr>', content, flags=re.S
    )
    assert found is not None
    assert "Boka riktad utbildning" in text_of(found.group(0))
    assert "Godkänn rutinen" in text_of(found.group(0))
