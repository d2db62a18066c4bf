"""Step 2: themes, wishes, booking with calendar invitations, held sessions, the weekly list."""

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from followup import services as outbox
from jarfalla import ical
from rollout import services as engine
from rollout.models import Rollout, RolloutStatus, Step, StepState, StepStatus
from tests.factories import UnitFactory, book_session
from training import services
from training.models import SessionStatus, Theme, TrainingSession
from units.models import Unit, User

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def rollout(coordinator: User, unit_a: Unit) -> Rollout:
    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)
    services.themes_ensure_defaults(municipality=unit_a.municipality)
    return rollout


def in_days(days: int, hour: int = 13) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=STOCKHOLM)


def booking(when: dt.datetime, **overrides) -> dict:
    data = {
        "date": when.date().isoformat(),
        "time": when.strftime("%H:%M"),
        "duration_minutes": "120",
        "place": "Rum 3; plan 2, Kvarnskolan",
        "video_url": "",
        "expected_participants": "18",
        "leader": "",
        "confirm": "",
    }
    return data | overrides


def parse(payload: str | bytes) -> icalendar.Calendar:
    text = payload.decode() if isinstance(payload, bytes) else payload
    for line in text.split("\r\n"):
        assert len(line.encode()) <= 75, line
    assert "\n" not in text.replace("\r\n", "")
    return icalendar.Calendar.from_ical(text)


def calendar_part(message) -> str:
    (content, mimetype) = next(a for a in message.alternatives if a[1].startswith("text/calendar"))
    assert "method=" in mimetype
    return content


@pytest.mark.django_db
def test_default_theme_catalogue_is_seeded_once(unit_a: Unit) -> None:
    services.themes_ensure_defaults(municipality=unit_a.municipality)
    services.themes_ensure_defaults(municipality=unit_a.municipality)
    names = list(
        Theme.objects.filter(municipality=unit_a.municipality).values_list("name", flat=True)
    )
    assert len(names) == 7
    assert "Tecken och tidig upptäckt" in names


@pytest.mark.django_db
def test_manager_picks_themes_and_the_coordinator_sees_them_with_step_1(
    client: Client, manager_a: User, coordinator: User, unit_a: Unit, rollout: Rollout
) -> None:
    client.force_login(manager_a)
    url = reverse("training:targeted", args=[unit_a.pk])
    theme = Theme.objects.get(municipality=unit_a.municipality, name="Tecken och tidig upptäckt")
    response = client.post(
        url, {"themes": [theme.pk], "suggested_dates": "tisdagar efter 15", "note": ""}
    )
    assert response.status_code == 302
    client.force_login(coordinator)
    page = client.get(url).content.decode()
    assert "Tecken och tidig upptäckt" in page
    assert "tisdagar efter 15" in page
    assert "Vad steg 1 visade" in page


@pytest.mark.django_db
def test_step_2_shows_the_latest_of_step_1_and_links_to_the_rest(
    client: Client, coordinator: User, unit_a: Unit, rollout: Rollout
) -> None:
    from training.models import WebCourseReport
    from training.selectors import STEP_ONE_REFLECTIONS

    today = timezone.localdate()
    url = reverse("training:targeted", args=[unit_a.pk])
    client.force_login(coordinator)

    def add(age: int, reflections: str, level: int = 3) -> None:
        WebCourseReport.objects.create(
            rollout=rollout,
            reported_on=today - dt.timedelta(days=age),
            completed_count=1,
            mode="groups",
            knowledge_level=level,
            reflections=reflections,
            headcount_at_report=unit_a.headcount,
        )

    assert "Ingen kunskapsnivå rapporterad." in client.get(url).content.decode()
    for age in range(STEP_ONE_REFLECTIONS, 0, -1):  # oldest first, as they were reported
        add(age, f"Reflektion {age}")
    add(0, "", level=4)  # the latest report has no reflections
    page = client.get(url).content.decode()
    assert "Senast rapporterad kunskapsnivå: 4 av 5." in page
    assert page.count("<li>Reflektion ") == STEP_ONE_REFLECTIONS
    assert page.index("<li>Reflektion 1<") < page.index(f"<li>Reflektion {STEP_ONE_REFLECTIONS}<")
    assert "Alla rapporter från steg 1" not in page

    add(STEP_ONE_REFLECTIONS + 1, "Den äldsta")
    page = client.get(url).content.decode()
    assert page.count("<li>Reflektion ") == STEP_ONE_REFLECTIONS
    assert "Den äldsta" not in page
    assert (
        f'href="{reverse("training:web_course", args=[unit_a.pk])}">Alla rapporter från steg 1'
        in page
    )


@pytest.mark.django_db
def test_booking_sends_a_valid_invitation_and_moving_it_a_higher_sequence(
    client: Client,
    coordinator: User,
    manager_a: User,
    unit_a: Unit,
    rollout: Rollout,
    django_capture_on_commit_callbacks,
) -> None:
    client.force_login(coordinator)
    when = in_days(10)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("training:session_book", args=[unit_a.pk]), booking(when, leader=coordinator.pk)
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert len(mail.outbox) == 1
    first = mail.outbox[0]
    assert first.to == [manager_a.email]
    cal = parse(calendar_part(first))
    assert str(cal["METHOD"]) == "REQUEST"
    event = cal.walk("VEVENT")[0]
    assert event.decoded("SEQUENCE") == 0
    assert event.decoded("DTSTART") == when
    assert event.decoded("DTEND") == when + dt.timedelta(hours=2)
    assert str(event["LOCATION"]) == "Rum 3; plan 2, Kvarnskolan"
    assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Stockholm"]
    assert any(a.filename == "inbjudan.ics" for a in first.attachments)

    session = TrainingSession.objects.get()
    later = in_days(12, hour=9)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("training:session_edit", args=[unit_a.pk, session.pk]),
            booking(later, leader=coordinator.pk),
        )
    assert len(mail.outbox) == 2
    moved = parse(calendar_part(mail.outbox[1])).walk("VEVENT")[0]
    assert str(moved["UID"]) == str(event["UID"])
    assert moved.decoded("SEQUENCE") == 1
    assert moved.decoded("DTSTART") == later
    assert "Ändrad tid" in mail.outbox[1].subject


@pytest.mark.django_db
def test_cancelling_sends_method_cancel(
    coordinator: User,
    manager_a: User,
    unit_a: Unit,
    rollout: Rollout,
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        session = book_session(
            rollout,
            coordinator,
            in_days(5),
            duration_minutes=90,
            place="Aulan",
            video_url="",
            expected_participants=10,
        )
        services.session_cancel(actor=coordinator, session=session, reason="Sjukdom")
    cal = parse(calendar_part(mail.outbox[-1]))
    assert str(cal["METHOD"]) == "CANCEL"
    event = cal.walk("VEVENT")[0]
    assert (str(event["STATUS"]), event.decoded("SEQUENCE")) == ("CANCELLED", 1)
    with pytest.raises(engine.RolloutError, match="inställt"):
        services.session_reschedule(
            actor=coordinator,
            session=session,
            starts_at=in_days(6),
            duration_minutes=90,
            place="",
            video_url="",
            themes=[],
            expected_participants=10,
            leader=coordinator,
        )


def test_text_is_escaped_and_folded_without_splitting_characters() -> None:
    assert ical.escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    line = "DESCRIPTION:" + "Hedersrelaterat våld och förtryck – åäö " * 5
    folded = ical.fold(line)
    parts = folded.split("\r\n")
    assert all(len(part.encode()) <= 75 for part in parts)
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == line


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"date": (timezone.localdate() - dt.timedelta(days=1)).isoformat()}, "bakåt i tiden"),
        ({"video_url": "ftp://möte.example.se/rum"}, "https:// eller http://"),
        ({"duration_minutes": "5"}, "större än eller lika med 15"),
        ({"expected_participants": "0"}, "större än eller lika med 1"),
        ({"expected_participants": "40"}, "Fler deltagare (40) än enheten har anställda (20)."),
    ],
)
def test_bad_bookings_are_explained(
    client: Client, coordinator: User, unit_a: Unit, rollout: Rollout, overrides: dict, message: str
) -> None:
    client.force_login(coordinator)
    response = client.post(
        reverse("training:session_book", args=[unit_a.pk]),
        booking(in_days(3), leader=coordinator.pk, **overrides),
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not TrainingSession.objects.exists()


@pytest.mark.django_db
def test_overlap_warns_and_books_after_confirmation(
    client: Client, coordinator: User, unit_a: Unit, unit_b: Unit, rollout: Rollout
) -> None:
    other = engine.rollout_start(actor=coordinator, unit=unit_b)
    engine.step_complete(actor=coordinator, rollout=other, step=Step.WEB_COURSE)
    when = in_days(4)
    book_session(other, coordinator, when + dt.timedelta(minutes=30))
    client.force_login(coordinator)
    url = reverse("training:session_book", args=[unit_a.pk])
    warned = client.post(url, booking(when, leader=coordinator.pk))
    # The leader as the form's list names them (User.__str__: the name, else the e-mail).
    assert f"{coordinator} har redan ett tillfälle då: {unit_b.name}" in warned.content.decode()
    assert TrainingSession.objects.filter(rollout=rollout).count() == 0
    confirmed = client.post(url, booking(when, leader=coordinator.pk, confirm="on"))
    assert confirmed.status_code == 302
    assert TrainingSession.objects.filter(rollout=rollout).count() == 1


@pytest.mark.django_db
def test_a_clash_in_another_municipality_says_busy_but_not_where(
    client: Client, coordinator: User, unit_a: Unit, unit_x: Unit, rollout: Rollout
) -> None:
    from tests.factories import make_coordinator
    from units.models import MunicipalRole, Role

    shared = make_coordinator(unit_a.municipality, email="delad@example.se")
    MunicipalRole.objects.create(
        user=shared, municipality=unit_x.municipality, role=Role.COORDINATOR
    )
    elsewhere = engine.rollout_start(actor=shared, unit=unit_x)
    engine.step_complete(actor=shared, rollout=elsewhere, step=Step.WEB_COURSE)
    when = in_days(4)
    book_session(elsewhere, shared, when)
    client.force_login(coordinator)
    url = reverse("training:session_book", args=[unit_a.pk])
    page = client.post(url, booking(when, leader=shared.pk)).content.decode()
    assert f"{shared.get_full_name()} har ett annat åtagande vid den tiden." in page
    assert unit_x.name not in page
    assert TrainingSession.objects.filter(rollout=rollout).count() == 0


@pytest.mark.django_db
def test_a_session_left_in_an_ended_round_can_be_cancelled_not_moved(
    coordinator: User, manager_a: User, unit_a: Unit, rollout: Rollout
) -> None:
    session = book_session(rollout, coordinator, in_days(3), place="Aulan", video_url="")
    Rollout.objects.filter(pk=rollout.pk).update(status=RolloutStatus.COMPLETED)
    with pytest.raises(engine.RolloutError, match="Ställ in tillfället i stället"):
        services.session_reschedule(
            actor=coordinator,
            session=session,
            starts_at=in_days(5),
            duration_minutes=60,
            place="Aulan",
            video_url="",
            themes=[],
            expected_participants=5,
            leader=coordinator,
        )
    cancelled = services.session_cancel(actor=coordinator, session=session, reason="Avslutat")
    assert cancelled.status == SessionStatus.CANCELLED


@pytest.mark.django_db
def test_held_session_then_step_2_done_and_routines_next(
    client: Client, coordinator: User, unit_a: Unit, rollout: Rollout
) -> None:
    session = book_session(
        rollout,
        coordinator,
        in_days(1),
        duration_minutes=120,
        place="Aulan",
        video_url="",
        expected_participants=18,
    )
    client.force_login(coordinator)
    early = client.post(reverse("training:targeted_complete", args=[unit_a.pk]), follow=True)
    assert "minst ett utbildningstillfälle är genomfört" in early.content.decode()
    TrainingSession.objects.filter(pk=session.pk).update(
        starts_at=timezone.now() - dt.timedelta(hours=3)
    )
    bad = client.post(
        reverse("training:session_held", args=[unit_a.pk, session.pk]),
        {"participants": "16", "exercises": "", "rating": "7", "notes": "Pratade om 811218-9876"},
    )
    assert "personnummer" in bad.content.decode()
    assert "Välj ett giltigt alternativ" in bad.content.decode()
    client.post(
        reverse("training:session_held", args=[unit_a.pk, session.pk]),
        {"participants": "16", "exercises": "Fallövning om tecken", "rating": "4", "notes": ""},
    )
    session.refresh_from_db()
    assert (session.status, session.participants, session.rating) == (SessionStatus.HELD, 16, 4)
    client.post(reverse("training:targeted_complete", args=[unit_a.pk]))
    assert StepState.objects.get(rollout=rollout, step=Step.TRAINING).status == StepStatus.DONE
    page = client.get(reverse("units:detail", args=[unit_a.pk])).content.decode()
    assert "Skriv rutinen" in page


@pytest.mark.django_db
def test_weekly_list_has_a_fixed_number_of_queries(
    client: Client,
    coordinator: User,
    municipality,
    django_assert_num_queries,
    django_assert_max_num_queries,
) -> None:
    monday = timezone.localdate() + dt.timedelta(days=7 - timezone.localdate().weekday())
    week = f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}"
    client.force_login(coordinator)
    url = reverse("training:week")
    client.get(url)

    def book(count: int) -> None:
        for index in range(count):
            unit = UnitFactory.create(municipality=municipality)
            rollout = engine.rollout_start(actor=coordinator, unit=unit)
            engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)
            start = dt.datetime.combine(
                monday + dt.timedelta(days=index % 5), dt.time(9 + index % 6), tzinfo=STOCKHOLM
            )
            book_session(
                rollout,
                coordinator,
                start,
                place="A",
                video_url="",
                themes=list(Theme.objects.filter(municipality=municipality)[:2]),
            )

    services.themes_ensure_defaults(municipality=municipality)
    book(2)
    with django_assert_max_num_queries(15) as few:
        page = client.get(url, {"vecka": week}).content.decode()
    assert page.count("<tr>") == 3
    book(10)
    with django_assert_num_queries(len(few.captured_queries)):
        page = client.get(url, {"vecka": week}).content.decode()
    assert page.count("<tr>") == 13


@pytest.mark.django_db
def test_private_feed_lists_sessions_and_can_be_revoked(
    client: Client, coordinator: User, unit_a: Unit, rollout: Rollout
) -> None:
    book_session(rollout, coordinator, in_days(2), place="Aulan", video_url="")
    client.force_login(coordinator)
    address = client.post(reverse("training:calendar_feed_settings")).context["feed_url"]
    anonymous = Client()
    response = anonymous.get(address)
    assert response.status_code == 200
    events = list(parse(response.content).walk("VEVENT"))
    assert len(events) == 1
    client.post(reverse("training:calendar_feed_settings"))
    assert anonymous.get(address).status_code == 404


@pytest.mark.django_db
def test_calendar_entries_are_written_in_the_active_language(
    coordinator: User, unit_a: Unit, rollout: Rollout
) -> None:
    from django.utils import translation

    from training import ical as training_ical

    session = book_session(rollout, coordinator, in_days(3))
    swedish = training_ical.session_event(session)
    assert swedish.summary == f"Riktad utbildning: {unit_a.name}"
    assert "Videolänk: https://video.example.se/x" in swedish.description
    with translation.override("en"):
        english = training_ical.session_event(session)
    assert english.summary == f"Targeted training: {unit_a.name}"
    assert "Video link: https://video.example.se/x" in english.description


@pytest.mark.django_db
def test_each_manager_gets_the_invitation_alone_in_their_own_language(
    coordinator: User, manager_a: User, unit_a: Unit, rollout: Rollout
) -> None:
    from followup.models import NotificationSettings
    from tests.factories import make_manager

    unit_a.name = "Barn & unga"
    unit_a.save()
    NotificationSettings.objects.create(user=manager_a, language="en")
    swedish = make_manager(unit_a, email="chef.a2@example.se")
    make_manager(unit_a, email="slutat@example.se", is_active=False)
    session = services.session_book(
        actor=coordinator,
        rollout=rollout,
        starts_at=in_days(10),
        duration_minutes=90,
        place="Aulan",
        video_url="",
        themes=[],
        expected_participants=10,
        leader=coordinator,
    )
    # Queued in the outbox with the booking, one row for each manager; again adds nothing.
    assert services.session_invitation_queue(session=session) == 0
    mail.outbox.clear()
    assert outbox.dispatch().sent == 2
    by_recipient = {tuple(m.to): m for m in mail.outbox}
    assert set(by_recipient) == {(manager_a.email,), (swedish.email,)}  # nobody who left
    english, svenska = by_recipient[(manager_a.email,)], by_recipient[(swedish.email,)]
    assert english.subject == "Invitation: targeted training for Barn & unga"
    assert svenska.subject == "Inbjudan: riktad utbildning för Barn & unga"
    assert str(parse(calendar_part(english)).walk("VEVENT")[0]["SUMMARY"]) == (
        "Targeted training: Barn & unga"
    )
    assert all(m.extra_headers["Auto-Submitted"] == "auto-generated" for m in mail.outbox)
    # The calendar file downloaded from the page names the same people as the e-mailed one.
    mailed = parse(calendar_part(svenska)).walk("VEVENT")[0].get("ATTENDEE")
    client = Client()
    client.force_login(coordinator)
    response = client.get(reverse("training:session_ics", args=[unit_a.pk, session.pk]))
    downloaded = parse(response.content).walk("VEVENT")[0].get("ATTENDEE")
    assert sorted(map(str, downloaded)) == sorted(map(str, mailed))
    assert not any("slutat@example.se" in str(attendee) for attendee in downloaded)
