"""Defects found by reviewers who used steps 1 and 2: the themes and the leader as people read
them, weeks at the edge of the calendar, numbers and texts too large, and the hour that does not
exist on the night summer time begins."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from followup.models import Reminder
from rollout import services as engine
from rollout.models import Rollout, Step
from tests.factories import book_session
from tests.training.test_sessions import booking
from tests.training.test_web_course import report
from training import services
from training.models import Theme, TrainingSession, TrainingWish, WebCourseReport
from units.models import Unit, User

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def step_one(coordinator: User, unit_a: Unit) -> Rollout:
    return engine.rollout_start(actor=coordinator, unit=unit_a)


@pytest.fixture
def step_two(coordinator: User, unit_a: Unit, step_one: Rollout) -> Rollout:
    engine.step_complete(actor=coordinator, rollout=step_one, step=Step.WEB_COURSE)
    services.themes_ensure_defaults(municipality=unit_a.municipality)
    return step_one


def next_week_at(hour: int) -> dt.datetime:
    today = timezone.localdate()
    monday = today + dt.timedelta(days=7 - today.weekday())
    return dt.datetime.combine(monday + dt.timedelta(days=2), dt.time(hour), tzinfo=STOCKHOLM)


def named(user: User, first: str, last: str) -> User:
    user.first_name, user.last_name = first, last
    user.save(update_fields=["first_name", "last_name"])
    return user


# --- 1. The themes in the invitation -----------------------------------------------------------


@pytest.mark.django_db
def test_the_invitation_names_the_themes_and_the_leader(
    coordinator: User, manager_a: User, unit_a: Unit, step_two: Rollout
) -> None:
    named(coordinator, "Anna", "Lindqvist")
    themes = list(
        Theme.objects.filter(
            municipality=unit_a.municipality,
            name__in=["Tecken och tidig upptäckt", "Skydd och stöd"],
        )
    )
    book_session(step_two, coordinator, next_week_at(9), themes=themes)

    body = Reminder.objects.get(recipient=manager_a, kind="training").body
    assert "Teman: Tecken och tidig upptäckt, Skydd och stöd\n" in body
    assert "QuerySet" not in body
    # The leader as the booking form names them, with the address to reach them.
    assert f"Ansvarig: Anna Lindqvist ({coordinator.email})" in body


# --- 2. The leader by name ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_leader_is_shown_by_name_where_the_form_shows_it(
    client: Client, coordinator: User, unit_a: Unit, step_two: Rollout
) -> None:
    named(coordinator, "Anna", "Lindqvist")
    when = next_week_at(9)
    session = book_session(step_two, coordinator, when)
    client.force_login(coordinator)

    form = client.get(
        reverse("training:session_edit", args=[unit_a.pk, session.pk])
    ).content.decode()
    assert f'<option value="{coordinator.pk}" selected>Anna Lindqvist</option>' in form
    targeted = client.get(reverse("training:targeted", args=[unit_a.pk])).content.decode()
    assert "5 väntade deltagare · ansvarig Anna Lindqvist" in targeted
    week = f"{when.isocalendar()[0]}-W{when.isocalendar()[1]:02d}"
    listing = client.get(reverse("training:week"), {"vecka": week}).content.decode()
    assert "<td>Anna Lindqvist</td>" in listing
    assert f"<td>{coordinator.email}</td>" not in listing


@pytest.mark.django_db
def test_a_leader_without_a_name_is_shown_by_e_mail(
    client: Client, coordinator: User, unit_a: Unit, step_two: Rollout
) -> None:
    named(coordinator, "", "")
    when = next_week_at(9)
    book_session(step_two, coordinator, when)
    client.force_login(coordinator)

    targeted = client.get(reverse("training:targeted", args=[unit_a.pk])).content.decode()
    assert f"5 väntade deltagare · ansvarig {coordinator.email}" in targeted
    week = f"{when.isocalendar()[0]}-W{when.isocalendar()[1]:02d}"
    listing = client.get(reverse("training:week"), {"vecka": week}).content.decode()
    assert f"<td>{coordinator.email}</td>" in listing


@pytest.mark.django_db
def test_an_overlap_warning_names_the_leader(
    client: Client, coordinator: User, unit_a: Unit, unit_b: Unit, step_two: Rollout
) -> None:
    named(coordinator, "Anna", "Lindqvist")
    other = engine.rollout_start(actor=coordinator, unit=unit_b)
    engine.step_complete(actor=coordinator, rollout=other, step=Step.WEB_COURSE)
    when = next_week_at(9)
    book_session(other, coordinator, when)
    client.force_login(coordinator)

    page = client.post(
        reverse("training:session_book", args=[unit_a.pk]),
        booking(when, leader=coordinator.pk, expected_participants="5"),
    ).content.decode()
    assert f"Anna Lindqvist har redan ett tillfälle då: {unit_b.name}" in page


# --- 3. Weeks at the edge of the calendar ------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("week", ["9999-W52", "1-W01", "9999-W99", "0-W01", "99999999999-W01"])
def test_a_week_at_the_edge_of_the_calendar_shows_this_week(
    client: Client, coordinator: User, week: str
) -> None:
    client.force_login(coordinator)
    response = client.get(reverse("training:week"), {"vecka": week})

    assert response.status_code == 200
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    assert response.context["monday"] == monday
    page = response.content.decode()
    assert f"{monday:%Y-%m-%d} – {monday + dt.timedelta(days=6):%Y-%m-%d}" in page
    assert "Föregående vecka" in page
    assert "Nästa vecka" in page


@pytest.mark.django_db
def test_the_last_and_first_weeks_that_can_be_shown_have_no_link_beyond(
    client: Client, coordinator: User
) -> None:
    client.force_login(coordinator)
    url = reverse("training:week")

    last = client.get(url, {"vecka": "9999-W51"})
    assert last.status_code == 200
    assert last.context["monday"] == dt.date(9999, 12, 20)
    page = last.content.decode()
    assert "Nästa vecka" not in page
    assert 'href="?vecka=9999-W50"' in page

    first = client.get(url, {"vecka": "1-W02"})
    assert first.status_code == 200
    assert first.context["monday"] == dt.date(1, 1, 8)
    page = first.content.decode()
    assert "Föregående vecka" not in page
    assert 'href="?vecka=1-W03"' in page


# --- 4. Numbers too large for step 1 -----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides",
    [
        {"completed_count": "99999999999"},
        {"new_headcount": "99999999999"},
        {"group_sessions": "99999999999"},
        {"completed_count": "100001", "new_headcount": "100001"},
    ],
)
def test_numbers_too_large_for_step_1_are_explained(
    client: Client, manager_a: User, unit_a: Unit, step_one: Rollout, overrides: dict
) -> None:
    client.force_login(manager_a)
    response = client.post(reverse("training:web_course", args=[unit_a.pk]), report(**overrides))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Formuläret innehåller fel" in html
    assert "mindre än eller lika med 100000" in html
    assert not WebCourseReport.objects.exists()
    unit_a.refresh_from_db()
    assert unit_a.headcount == 20


@pytest.mark.django_db
def test_the_largest_numbers_step_1_takes_are_saved(
    client: Client, manager_a: User, unit_a: Unit, step_one: Rollout
) -> None:
    client.force_login(manager_a)
    response = client.post(
        reverse("training:web_course", args=[unit_a.pk]),
        report(completed_count="100000", new_headcount="100000", group_sessions="100000"),
    )
    assert response.status_code == 302
    assert WebCourseReport.objects.get().completed_count == 100000


@pytest.mark.django_db
def test_a_refusal_by_the_models_rules_comes_back_as_form_errors(
    client: Client, manager_a: User, unit_a: Unit, step_one: Rollout, monkeypatch
) -> None:
    """Whatever the model's own validation refuses (here a rule the form does not repeat) is
    shown in the form, next to its field, not answered with a server error."""
    from django.core.exceptions import ValidationError

    def refuse(self: WebCourseReport, *args: object, **kwargs: object) -> None:
        raise ValidationError(
            {"completed_count": ["Regeln i modellen."], "rollout": ["Utan eget fält."]}
        )

    monkeypatch.setattr(WebCourseReport, "full_clean", refuse)
    client.force_login(manager_a)
    response = client.post(reverse("training:web_course", args=[unit_a.pk]), report())

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["completed_count"] == ["Regeln i modellen."]
    assert "Utan eget fält." in form.non_field_errors()
    assert "Formuläret innehåller fel" in response.content.decode()
    assert not WebCourseReport.objects.exists()


# --- 5. The hour that does not exist -----------------------------------------------------------


@pytest.mark.django_db
def test_a_time_that_does_not_exist_when_summer_time_begins_is_refused(
    client: Client, coordinator: User, unit_a: Unit, step_two: Rollout
) -> None:
    with time_machine.travel(dt.datetime(2027, 3, 1, 10, tzinfo=STOCKHOLM), tick=False):
        client.force_login(coordinator)
        response = client.post(
            reverse("training:session_book", args=[unit_a.pk]),
            booking(
                dt.datetime(2027, 3, 28, 2, 30),
                leader=coordinator.pk,
                expected_participants="5",
            ),
        )

    assert response.status_code == 200
    assert response.context["form"].errors["time"] == [
        "Klockan 02:30 finns inte den 2027-03-28, eftersom klockan ställs fram en timme till "
        "sommartid den natten. Välj en annan tid."
    ]
    assert not TrainingSession.objects.exists()


@pytest.mark.django_db
def test_the_hour_after_the_change_to_summer_time_is_booked_as_given(
    client: Client, coordinator: User, unit_a: Unit, step_two: Rollout
) -> None:
    with time_machine.travel(dt.datetime(2027, 3, 1, 10, tzinfo=STOCKHOLM), tick=False):
        client.force_login(coordinator)
        response = client.post(
            reverse("training:session_book", args=[unit_a.pk]),
            booking(
                dt.datetime(2027, 3, 28, 3, 30),
                leader=coordinator.pk,
                expected_participants="5",
            ),
        )

    assert response.status_code == 302
    assert timezone.localtime(TrainingSession.objects.get().starts_at) == dt.datetime(
        2027, 3, 28, 3, 30, tzinfo=STOCKHOLM
    )


# --- 6. Free text with a limit -----------------------------------------------------------------


@pytest.mark.django_db
def test_step_1_reflections_are_limited(
    client: Client, manager_a: User, unit_a: Unit, step_one: Rollout
) -> None:
    client.force_login(manager_a)
    url = reverse("training:web_course", args=[unit_a.pk])
    assert 'maxlength="2000"' in client.get(url).content.decode()

    response = client.post(url, report(reflections="a" * 2001))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Formuläret innehåller fel" in html
    assert "Säkerställ att detta värde har som mest 2000 tecken (den har 2001)." in html
    assert not WebCourseReport.objects.exists()

    assert client.post(url, report(reflections="a" * 2000)).status_code == 302


@pytest.mark.django_db
def test_the_wish_note_is_limited(
    client: Client, manager_a: User, unit_a: Unit, step_two: Rollout
) -> None:
    client.force_login(manager_a)
    url = reverse("training:targeted", args=[unit_a.pk])
    assert 'maxlength="2000"' in client.get(url).content.decode()

    response = client.post(url, {"suggested_dates": "", "note": "a" * 2001})
    assert response.status_code == 200
    assert "Säkerställ att detta värde har som mest 2000 tecken (den har 2001)." in (
        response.content.decode()
    )
    assert not TrainingWish.objects.exists()

    assert client.post(url, {"suggested_dates": "", "note": "a" * 2000}).status_code == 302
    assert len(TrainingWish.objects.get().note) == 2000


@pytest.mark.django_db
def test_the_hour_that_comes_twice_in_autumn_is_asked_about_and_booked_in_summer_time(
    client: Client, coordinator: User, unit_a: Unit, step_two: Rollout
) -> None:
    """02:30 comes twice the night summer time ends: the form says which one it books (the
    first, as the clocks show it before they are turned back) and asks before it does."""
    url = reverse("training:session_book", args=[unit_a.pk])
    form = booking(
        dt.datetime(2027, 10, 31, 2, 30), leader=coordinator.pk, expected_participants="5"
    )
    with time_machine.travel(dt.datetime(2027, 10, 1, 10, tzinfo=STOCKHOLM), tick=False):
        client.force_login(coordinator)
        asked = client.post(url, form)
        assert asked.status_code == 200
        assert (
            "Klockan 02:30 kommer två gånger den 2027-10-31, eftersom klockan ställs tillbaka "
            "till vintertid den natten. Tillfället bokas den första gången, i sommartid."
        ) in asked.content.decode()
        assert not TrainingSession.objects.exists()
        response = client.post(url, {**form, "confirm": "on"})

    assert response.status_code == 302
    assert TrainingSession.objects.get().starts_at == dt.datetime(
        2027, 10, 31, 0, 30, tzinfo=dt.UTC
    )


@pytest.mark.django_db
def test_numbers_too_large_for_a_session_are_explained(
    client: Client, coordinator: User, unit_a: Unit, step_two: Rollout
) -> None:
    client.force_login(coordinator)
    response = client.post(
        reverse("training:session_book", args=[unit_a.pk]),
        booking(
            next_week_at(9),
            leader=coordinator.pk,
            expected_participants="99999999999",
            confirm="on",
        ),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["expected_participants"] == [
        "Kontrollera att detta värde är mindre än eller lika med 100000."
    ]
    assert not TrainingSession.objects.exists()

    session = book_session(step_two, coordinator, timezone.now() - dt.timedelta(hours=2))
    response = client.post(
        reverse("training:session_held", args=[unit_a.pk, session.pk]),
        {"participants": "99999999999", "exercises": "", "rating": "4", "notes": ""},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["participants"] == [
        "Kontrollera att detta värde är mindre än eller lika med 100000."
    ]
    session.refresh_from_db()
    assert session.participants is None
