"""What comes next: the unit page's next action is a link to where it is done, in words that
match the state; confirmations of step transitions say what comes next; routines never show raw
reference placeholders; small display gaps on the unit page and the booking form."""

import datetime as dt
import re
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from followup import followups
from followup.models import FollowUp
from rollout import services as engine
from rollout.models import Rollout, Step
from routines import services as routines
from routines.models import ReferenceEntry, Routine
from tests.factories import MunicipalityFactory, UnitFactory, book_session, make_coordinator
from training.models import TrainingSession
from units import pagecache
from units.models import Unit, User

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def next_action(client: Client, unit: Unit) -> tuple[str, str]:
    """(the text, the link) of the unit page's "Nästa sak att göra"."""
    # The services' changes commit only when the test ends, so the page kept for the unit's
    # municipality is not renewed by them as it is in production.
    pagecache.clear()
    html = client.get(reverse("units:detail", args=[unit.pk])).content.decode()
    match = re.search(r'<div class="next-action.*?</div></div>', html, re.S)
    assert match is not None, "no next action on the unit page"
    link = re.search(r'<a\b[^>]*href="([^"]+)"[^>]*>(.*?)</a>', match.group(0), re.S)
    assert link is not None, f"the next action is not a link: {match.group(0)}"
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", link.group(2))).split())
    return text, unescape(link.group(1))


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def links_in(html: str) -> dict[str, str]:
    return {
        " ".join(unescape(re.sub(r"<[^>]+>", " ", text)).split()): unescape(href)
        for href, text in re.findall(r'<a\b[^>]*href="([^"]+)"[^>]*>(.*?)</a>', html, re.S)
    }


def to_routines(rollout: Rollout, coordinator: User) -> None:
    for step in (Step.WEB_COURSE, Step.TRAINING):
        engine.step_complete(actor=coordinator, rollout=rollout, step=step)


def implemented(rollout: Rollout, manager: User, coordinator: User) -> Routine:
    to_routines(rollout, coordinator)
    routine = routines.routine_start(actor=manager, rollout=rollout)
    routines.routine_send_for_review(actor=manager, routine=routine)
    routines.routine_approve(actor=manager, routine=routine, version=1, as_coordinator=False)
    routines.routine_approve(actor=coordinator, routine=routine, version=1, as_coordinator=True)
    today = timezone.localdate()
    routines.routine_implement(
        actor=manager,
        routine=routine,
        implemented_on=today,
        business_plan_location="VP 4.2",
        staff_informed_on=today,
    )
    return routine


def record_answers(**extra: Any) -> dict[str, Any]:
    return {
        "routine_in_use": "yes",
        "times_used": "1",
        "consultations": "0",
        "reports_of_concern": "0",
        "support_needed": "none",
        "effect": "4",
        "lessons": "",
    } | extra


# --- 1. The next action is a link, in words that match the state ------------------------------


@pytest.mark.django_db
def test_the_next_action_links_to_where_it_is_done_through_the_steps(
    client: Client, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    pk = unit_a.pk
    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    client.force_login(coordinator)
    assert next_action(client, unit_a) == ("Rapportera webbkursen", f"/units/{pk}/webbkurs/")

    engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)
    assert next_action(client, unit_a) == (
        "Boka riktad utbildning",
        reverse("training:session_book", args=[pk]),
    )
    # The manager cannot book: their link goes to the step's page, which they may read.
    manager = Client()
    manager.force_login(manager_a)
    assert next_action(manager, unit_a) == (
        "Boka riktad utbildning",
        reverse("training:targeted", args=[pk]),
    )

    engine.step_complete(actor=coordinator, rollout=rollout, step=Step.TRAINING)
    assert next_action(client, unit_a) == ("Skriv rutinen", reverse("routines:routine", args=[pk]))
    routine = routines.routine_start(actor=manager_a, rollout=rollout)
    assert next_action(client, unit_a) == ("Skriv rutinen", reverse("routines:edit", args=[pk]))
    routines.routine_send_for_review(actor=manager_a, routine=routine)
    routines.routine_approve(actor=manager_a, routine=routine, version=1, as_coordinator=False)
    assert next_action(client, unit_a) == (
        "Godkänn rutinen",
        reverse("routines:routine", args=[pk]),
    )
    routines.routine_approve(actor=coordinator, routine=routine, version=1, as_coordinator=True)
    text, url = next_action(client, unit_a)
    assert url == reverse("routines:implement", args=[pk])
    assert "registrera att den är införd" in text

    engine.rollout_pause(actor=coordinator, rollout=rollout, reason="Ny chef.")
    text, url = next_action(client, unit_a)
    assert url.startswith("#")
    html = client.get(reverse("units:detail", args=[pk])).content.decode()
    assert f'id="{url[1:]}"' in html  # the anchor is on the page
    engine.rollout_resume(actor=coordinator, rollout=rollout)


@pytest.mark.django_db
def test_the_follow_up_next_action_says_book_hold_or_record_and_links_there(
    client: Client, coordinator: User, manager_a: User, unit_a: Unit, time_machine: Any
) -> None:
    time_machine.move_to(dt.datetime(2026, 9, 1, 9, tzinfo=STOCKHOLM))
    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    implemented(rollout, manager_a, coordinator)
    six = FollowUp.objects.get(rollout=rollout, offset_months=6)
    client.force_login(coordinator)

    assert next_action(client, unit_a) == (
        "Boka uppföljningen efter 6 månader",
        reverse("followup:book", args=[unit_a.pk, six.pk]),
    )

    followups.book(
        actor=coordinator,
        follow_up=six,
        starts_at=dt.datetime(2027, 2, 20, 10, tzinfo=STOCKHOLM),
        mode="meeting",
        place="Konferensrummet",
    )
    assert next_action(client, unit_a) == (
        "Genomför uppföljningen efter 6 månader (bokad 2027-02-20)",
        reverse("followup:record", args=[unit_a.pk, six.pk]),
    )

    time_machine.move_to(dt.datetime(2027, 2, 20, 11, tzinfo=STOCKHOLM))
    assert next_action(client, unit_a) == (
        "Registrera uppföljningen efter 6 månader",
        reverse("followup:record", args=[unit_a.pk, six.pk]),
    )


@pytest.mark.django_db
def test_a_booked_session_is_held_then_recorded_as_held(
    client: Client, coordinator: User, unit_a: Unit, time_machine: Any
) -> None:
    time_machine.move_to(dt.datetime(2026, 9, 1, 9, tzinfo=STOCKHOLM))
    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)
    book_session(rollout, coordinator, dt.datetime(2026, 9, 3, 13, tzinfo=STOCKHOLM))
    client.force_login(coordinator)
    targeted = reverse("training:targeted", args=[unit_a.pk])
    assert next_action(client, unit_a) == ("Genomför den riktade utbildningen", targeted)
    time_machine.move_to(dt.datetime(2026, 9, 3, 15, tzinfo=STOCKHOLM))
    assert next_action(client, unit_a) == (
        "Registrera den riktade utbildningen som genomförd",
        targeted,
    )


# --- 2. Confirmations say what comes next -------------------------------------------------------


@pytest.mark.django_db
def test_closing_step_1_says_what_comes_next_with_a_link(
    client: Client, coordinator: User, unit_a: Unit
) -> None:
    engine.rollout_start(actor=coordinator, unit=unit_a)
    client.force_login(coordinator)
    response = client.post(reverse("training:web_course_complete", args=[unit_a.pk]), follow=True)
    (message,) = messages_of(response)
    assert text_of(message).startswith("Steg 1 är klart.")
    assert links_in(message) == {
        "Boka riktad utbildning": reverse("training:session_book", args=[unit_a.pk])
    }
    # Rendered as a link on the page, and nothing else of the message is markup.
    assert (
        f'<a href="{reverse("training:session_book", args=[unit_a.pk])}">Boka riktad utbildning</a>'
        in response.content.decode()
    )


@pytest.mark.django_db
def test_recording_the_last_session_held_says_to_close_step_2(
    client: Client, coordinator: User, unit_a: Unit, time_machine: Any
) -> None:
    time_machine.move_to(dt.datetime(2026, 9, 1, 9, tzinfo=STOCKHOLM))
    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)
    session = book_session(rollout, coordinator, dt.datetime(2026, 9, 3, 13, tzinfo=STOCKHOLM))
    time_machine.move_to(dt.datetime(2026, 9, 4, 9, tzinfo=STOCKHOLM))
    client.force_login(coordinator)
    response = client.post(
        reverse("training:session_held", args=[unit_a.pk, session.pk]),
        {"participants": "12", "exercises": "Fall", "rating": "4", "notes": ""},
        follow=True,
    )
    assert TrainingSession.objects.get(pk=session.pk).status == "held"
    (message,) = messages_of(response)
    assert text_of(message).startswith("Tillfället är registrerat som genomfört.")
    assert "steg 2" in text_of(message).lower()
    assert list(links_in(message).values()) == [
        reverse("training:targeted", args=[unit_a.pk]) + "#step-complete"
    ]
    assert 'id="step-complete"' in response.content.decode()


@pytest.mark.django_db
def test_the_second_approval_says_to_register_the_implementation(
    client: Client, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    to_routines(rollout, coordinator)
    routine = routines.routine_start(actor=manager_a, rollout=rollout)
    routines.routine_send_for_review(actor=manager_a, routine=routine)
    client.force_login(coordinator)
    first = client.post(
        reverse("routines:approve", args=[unit_a.pk]), {"version": "1"}, follow=True
    )
    (message,) = messages_of(first)
    assert text_of(message).startswith("Du har godkänt version 1.")
    assert "enhetschef" in text_of(message)  # who approves next

    manager = Client()
    manager.force_login(manager_a)
    second = manager.post(
        reverse("routines:approve", args=[unit_a.pk]), {"version": "1"}, follow=True
    )
    (message,) = messages_of(second)
    assert text_of(message).startswith("Du har godkänt version 1.")
    assert "registrera att den är införd" in text_of(message)
    assert list(links_in(message).values()) == [reverse("routines:implement", args=[unit_a.pk])]


@pytest.mark.django_db
def test_the_follow_up_messages_say_what_comes_next_and_the_last_offers_the_certificate(
    client: Client, coordinator: User, manager_a: User, unit_a: Unit, time_machine: Any
) -> None:
    time_machine.move_to(dt.datetime(2026, 9, 1, 9, tzinfo=STOCKHOLM))
    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    implemented(rollout, manager_a, coordinator)
    six, twelve = FollowUp.objects.filter(rollout=rollout).order_by("offset_months")
    client.force_login(coordinator)
    response = client.post(
        reverse("followup:record", args=[unit_a.pk, six.pk]), record_answers(), follow=True
    )
    (message,) = messages_of(response)
    assert text_of(message).startswith("Uppföljningen är registrerad.")
    assert links_in(message) == {
        "Boka uppföljningen efter 12 månader": reverse("followup:book", args=[unit_a.pk, twelve.pk])
    }

    response = client.post(
        reverse("followup:record", args=[unit_a.pk, twelve.pk]), record_answers(), follow=True
    )
    (message,) = messages_of(response)
    assert text_of(message).startswith("Uppföljningen är registrerad. Alla fyra steg är klara")
    assert list(links_in(message).values()) == [reverse("rollout:certificate", args=[unit_a.pk])]


# --- 3. Reference data in a new municipality's routine -------------------------------------------


@pytest.mark.django_db
def test_a_new_municipality_routine_shows_no_raw_placeholders(client: Client) -> None:
    municipality = MunicipalityFactory.create(name="Nyby", slug="nyby")
    unit = UnitFactory.create(municipality=municipality, duty_to_report=True)
    coordinator = make_coordinator(municipality)
    rollout = engine.rollout_start(actor=coordinator, unit=unit)
    to_routines(rollout, coordinator)
    routines.routine_start(actor=coordinator, rollout=rollout)
    client.force_login(coordinator)
    references_url = reverse("routines:references", args=[municipality.pk])

    page = client.get(reverse("routines:routine", args=[unit.pk])).content.decode()
    assert "[[" not in page
    assert "ej ifylld: Socialtjänstens mottagning (telefon)" in text_of(page)
    assert f'href="{references_url}"' in page
    edit = client.get(reverse("routines:edit", args=[unit.pk])).content.decode()
    assert f'href="{references_url}"' in edit
    document = client.get(reverse("routines:document", args=[unit.pk])).content.decode()
    assert "[[" not in document
    assert "ej ifylld: Lagrum för anmälningsplikt" in text_of(document)

    ReferenceEntry.objects.filter(municipality=municipality, key="socialtjanst").update(
        value="08-123 45 67"
    )
    page = client.get(reverse("routines:routine", args=[unit.pk])).content.decode()
    assert "08-123 45 67" in page
    assert "ej ifylld: Socialtjänstens mottagning" not in text_of(page)


@pytest.mark.django_db
def test_the_manager_sees_the_marker_without_the_coordinators_link(
    client: Client, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    to_routines(rollout, coordinator)
    routines.routine_start(actor=manager_a, rollout=rollout)
    client.force_login(manager_a)
    page = client.get(reverse("routines:routine", args=[unit_a.pk])).content.decode()
    assert "[[" not in page
    assert "ej ifylld:" in text_of(page)
    assert reverse("routines:references", args=[unit_a.municipality_id]) not in page


# --- 4-6. The unit page and the booking form ----------------------------------------------------


@pytest.mark.django_db
def test_a_manager_without_a_name_is_listed_by_e_mail_once(
    client: Client, coordinator: User, unit_a: Unit, manager_a: User
) -> None:
    manager_a.first_name = manager_a.last_name = ""
    manager_a.save()
    client.force_login(coordinator)
    html = client.get(reverse("units:detail", args=[unit_a.pk])).content.decode()
    section = html.split('id="managers-heading"')[1].split("</ul>")[0]
    item = section.split("Ta bort som enhetschef")[0]  # the button names the person too
    assert item.count(manager_a.email) == 1

    manager_a.first_name, manager_a.last_name = "Kim", "Berg"
    manager_a.save()
    pagecache.clear()
    html = client.get(reverse("units:detail", args=[unit_a.pk])).content.decode()
    item = html.split('id="managers-heading"')[1].split("Ta bort som enhetschef")[0]
    assert "Kim Berg" in item
    assert item.count(manager_a.email) == 1


@pytest.mark.django_db
def test_the_book_anyway_box_shows_only_with_warnings_and_is_still_needed(
    client: Client, coordinator: User, unit_a: Unit
) -> None:
    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)
    client.force_login(coordinator)
    url = reverse("training:session_book", args=[unit_a.pk])
    assert 'name="confirm"' not in client.get(url).content.decode()

    day = timezone.localdate() + dt.timedelta(days=7)
    data = {
        "date": day.isoformat(),
        "time": "13:00",
        "duration_minutes": "90",
        "place": "Aulan",
        "video_url": "",
        "expected_participants": str(unit_a.headcount + 5),  # a warning
        "leader": str(coordinator.pk),
    }
    # Another error and no warning checked yet: no box without warnings.
    no_warning = data | {"expected_participants": "1", "place": "", "date": ""}
    assert 'name="confirm"' not in client.post(url, no_warning).content.decode()

    refused = client.post(url, data)
    assert refused.status_code == 200
    assert 'name="confirm"' in refused.content.decode()
    assert "Jag har sett varningarna och vill boka ändå" in refused.content.decode()
    assert not TrainingSession.objects.filter(rollout=rollout).exists()

    booked = client.post(url, data | {"confirm": "on"})
    assert booked.status_code == 302
    assert TrainingSession.objects.filter(rollout=rollout).count() == 1


@pytest.mark.django_db
def test_the_unit_page_always_links_to_the_full_timeline_when_there_are_events(
    client: Client, coordinator: User, unit_a: Unit
) -> None:
    client.force_login(coordinator)
    timeline_url = reverse("rollout:timeline", args=[unit_a.pk])
    html = client.get(reverse("units:detail", args=[unit_a.pk])).content.decode()
    assert f'href="{timeline_url}"' not in html  # no events at all
    assert "Inga händelser ännu." in html

    engine.rollout_start(actor=coordinator, unit=unit_a)
    pagecache.clear()  # the change commits only when the test ends
    html = client.get(reverse("units:detail", args=[unit_a.pk])).content.decode()
    assert links_in(html)["Visa hela tidslinjen (1 händelse)"] == timeline_url


@pytest.mark.django_db
def test_starting_accepting_and_resuming_a_round_say_what_comes_next_with_a_link(
    client: Client, coordinator: User, manager_a: User, unit_a: Unit, unit_b: Unit
) -> None:
    web_course = {"Rapportera webbkursen": "/units/{}/webbkurs/"}
    client.force_login(coordinator)
    started = client.post(reverse("rollout:start", args=[unit_a.pk]), follow=True)
    (message,) = messages_of(started)
    assert text_of(message).startswith(
        "Införandet har startat. Steg 1, Webbkurs Heder, pågår nu. Nästa sak att göra:"
    )
    # The coordinator follows the unit's report: the link goes to the step's page.
    assert links_in(message) == {k: v.format(unit_a.pk) for k, v in web_course.items()}

    engine.rollout_request(actor=manager_a, unit=unit_b)
    accepted = client.post(reverse("rollout:accept", args=[unit_b.pk]), follow=True)
    (message,) = messages_of(accepted)
    assert text_of(message).startswith("Förfrågan är godtagen och införandet har startat.")
    assert links_in(message) == {k: v.format(unit_b.pk) for k, v in web_course.items()}

    rollout = Rollout.objects.get(unit=unit_a)
    engine.rollout_pause(actor=coordinator, rollout=rollout, reason="Omorganisation")
    resumed = client.post(reverse("rollout:resume", args=[unit_a.pk]), follow=True)
    (message,) = messages_of(resumed)
    assert text_of(message).startswith("Införandet är återupptaget. Nästa sak att göra:")
    assert links_in(message) == {k: v.format(unit_a.pk) for k, v in web_course.items()}
    # A refusal stays a plain error without a link.
    again = client.post(reverse("rollout:start", args=[unit_a.pk]), follow=True)
    (message,) = messages_of(again)
    assert links_in(message) == {}
