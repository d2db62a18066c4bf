"""Defects found by the reviewers in step 3: unknown versions of the document, the document's
header, empty routines sent for review, approvals recorded twice, units without a manager who
can approve, and implementation dates decades back."""

import datetime as dt
import html
import io
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from rollout import services as engine
from rollout.models import Rollout, Step, StepState, StepStatus, TimelineEvent
from routines import pdf, services
from routines.models import SECTION_KEYS, Routine, RoutineStatus
from units.models import Unit, User

STOCKHOLM = ZoneInfo("Europe/Stockholm")
TODAY = dt.date(2027, 3, 15)


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=STOCKHOLM)


def text_of(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def messages_of(response: object) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]


@pytest.fixture
def rollout(coordinator: User, unit_a: Unit) -> Rollout:
    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    for step in (Step.WEB_COURSE, Step.TRAINING):
        engine.step_complete(actor=coordinator, rollout=rollout, step=step)
    return rollout


@pytest.fixture
def routine(rollout: Rollout, coordinator: User) -> Routine:
    return services.routine_start(actor=coordinator, rollout=rollout)


def save(routine: Routine, actor: User, **changes: str) -> None:
    routine.refresh_from_db()
    current = routine.versions.get(number=routine.current_version).sections
    services.routine_save(
        actor=actor,
        routine=routine,
        base_version=routine.current_version,
        sections=dict(current) | changes,
    )
    routine.refresh_from_db()


def approve_both(routine: Routine, manager: User, coordinator: User) -> None:
    services.routine_send_for_review(actor=manager, routine=routine)
    for actor, as_coordinator in ((manager, False), (coordinator, True)):
        services.routine_approve(
            actor=actor,
            routine=routine,
            version=routine.current_version,
            as_coordinator=as_coordinator,
        )
    routine.refresh_from_db()


# --- 1. An unknown or malformed version is not found ------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["routines:document", "routines:pdf"])
@pytest.mark.parametrize("number", ["99", "abc", "0", "-1", "1.0", "²", ""])
def test_an_unknown_or_malformed_version_of_the_document_is_not_found(
    client: Client, routine: Routine, manager_a: User, unit_a: Unit, name: str, number: str
) -> None:
    client.force_login(manager_a)
    response = client.get(reverse(name, args=[unit_a.pk]), {"version": number})
    assert response.status_code == 404


@pytest.mark.django_db
def test_a_known_version_of_the_document_is_shown(
    client: Client, routine: Routine, manager_a: User, coordinator: User, unit_a: Unit
) -> None:
    save(routine, coordinator, signs="- Ny text om tecken")
    client.force_login(manager_a)
    url = reverse("routines:document", args=[unit_a.pk])
    first = client.get(url, {"version": "1"})
    assert first.status_code == 200
    assert "Ny text om tecken" not in first.content.decode()
    assert "Ny text om tecken" in client.get(url).content.decode()  # the current one


# --- 2. The header names the version once ------------------------------------------------------


@pytest.mark.django_db
def test_the_document_header_names_the_version_once(
    client: Client, routine: Routine, manager_a: User, unit_a: Unit, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    save(routine, manager_a, signs="- Ändrat")  # version 2
    client.force_login(manager_a)
    page = text_of(client.get(reverse("routines:document", args=[unit_a.pk])).content.decode())
    assert "Version Version" not in page
    assert "Version 2 Sparad" in page  # the label, then the number
    content = pdf.build_pdf(routine.versions.get(number=2))
    text = " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split()
    )
    assert "Version Version" not in text
    assert f"{unit_a.name} Version 2 Sida 1 av" in text  # the page's margin says which version


# --- 3. A routine without its core cannot be sent for review -----------------------------------


@pytest.mark.django_db
def test_an_empty_routine_is_saved_but_not_sent_for_review(
    routine: Routine, coordinator: User
) -> None:
    save(routine, coordinator, **dict.fromkeys(SECTION_KEYS, "  "))
    assert routine.current_version == 2  # an empty draft can still be saved
    with pytest.raises(engine.RolloutError) as refused:
        services.routine_send_for_review(actor=coordinator, routine=routine)
    message = str(refused.value)
    assert "Tecken att vara uppmärksam på" in message
    assert "Så agerar du, steg för steg" in message
    assert "När och hur du gör en orosanmälan till socialtjänsten" in message
    assert "Syfte och omfattning" not in message  # only the core is required
    routine.refresh_from_db()
    assert routine.status == RoutineStatus.DRAFT
    assert not TimelineEvent.objects.filter(kind="routine.review").exists()


@pytest.mark.django_db
def test_only_the_missing_core_sections_are_named(
    client: Client, routine: Routine, coordinator: User, unit_a: Unit
) -> None:
    save(routine, coordinator, signs="", purpose="", review="")
    client.force_login(coordinator)
    page = client.get(reverse("routines:routine", args=[unit_a.pk])).content.decode()
    assert "Fyll i det här innan rutinen skickas för granskning" in text_of(page)
    response = client.post(reverse("routines:review", args=[unit_a.pk]))
    assert response.status_code == 302
    [message] = messages_of(response)
    assert "Tecken att vara uppmärksam på" in message
    assert "Så agerar du" not in message
    routine.refresh_from_db()
    assert routine.status == RoutineStatus.DRAFT

    save(routine, coordinator, signs="- Plötslig frånvaro")
    page = client.get(reverse("routines:routine", args=[unit_a.pk])).content.decode()
    assert "Fyll i det här innan rutinen skickas för granskning" not in text_of(page)
    client.post(reverse("routines:review", args=[unit_a.pk]))
    routine.refresh_from_db()
    assert routine.status == RoutineStatus.REVIEW


# --- 4. A second approval of the same version records nothing ----------------------------------


@pytest.mark.django_db
def test_approving_the_same_version_twice_records_it_once(
    client: Client, routine: Routine, manager_a: User, coordinator: User, unit_a: Unit
) -> None:
    services.routine_send_for_review(actor=coordinator, routine=routine)
    url = reverse("routines:approve", args=[unit_a.pk])
    client.force_login(manager_a)
    client.post(url, {"version": "1"}, follow=True)  # the message shown and gone
    again = client.post(url, {"version": "1"})  # a double click
    assert again.status_code == 302
    assert messages_of(again) == ["Enhetschefen har redan godkänt version 1. Inget nytt sparades."]
    approvals = TimelineEvent.objects.filter(kind="routine.approved")
    assert approvals.count() == 1

    other = Client()
    other.force_login(coordinator)
    other.post(url, {"version": "1"}, follow=True)
    routine.refresh_from_db()
    assert routine.status == RoutineStatus.APPROVED
    late = other.post(url, {"version": "1"})  # after both approved
    assert messages_of(late) == ["Samordnaren har redan godkänt version 1. Inget nytt sparades."]
    assert approvals.count() == 2
    routine.refresh_from_db()
    assert routine.status == RoutineStatus.APPROVED


@pytest.mark.django_db
def test_a_second_manager_approving_the_same_version_records_nothing(
    routine: Routine, manager_a: User, unit_a: Unit
) -> None:
    from tests.factories import make_manager

    second = make_manager(unit_a, email="chef2.a@example.se")
    services.routine_send_for_review(actor=manager_a, routine=routine)
    services.routine_approve(actor=manager_a, routine=routine, version=1, as_coordinator=False)
    with pytest.raises(services.RoutineAlreadyApproved):
        services.routine_approve(actor=second, routine=routine, version=1, as_coordinator=False)
    routine.refresh_from_db()
    assert routine.manager_approved_by == manager_a
    assert TimelineEvent.objects.filter(kind="routine.approved").count() == 1


# --- 5. A unit without a manager says why the routine cannot be approved -----------------------


@pytest.mark.django_db
def test_a_unit_without_a_manager_says_that_nobody_can_approve_for_the_unit(
    client: Client, routine: Routine, coordinator: User, unit_a: Unit
) -> None:
    services.routine_send_for_review(actor=coordinator, routine=routine)
    services.routine_approve(actor=coordinator, routine=routine, version=1, as_coordinator=True)
    client.force_login(coordinator)
    page = client.get(reverse("routines:routine", args=[unit_a.pk])).content.decode()
    assert "Enheten har ingen enhetschef i verktyget som kan godkänna rutinen" in text_of(page)
    assert f'href="{reverse("units:invite_manager", args=[unit_a.pk])}"' in page


@pytest.mark.django_db
def test_a_deactivated_manager_cannot_approve_either(
    client: Client, routine: Routine, manager_a: User, coordinator: User, observer: User
) -> None:
    unit_id = routine.rollout.unit_id
    url = reverse("routines:routine", args=[unit_id])
    client.force_login(coordinator)
    assert "ingen enhetschef i verktyget" not in text_of(client.get(url).content.decode())
    manager_a.is_active = False
    manager_a.save()
    assert "ingen enhetschef i verktyget" in text_of(client.get(url).content.decode())
    client.force_login(observer)  # reads it too, without the link it may not follow
    page = client.get(url).content.decode()
    assert "ingen enhetschef i verktyget" in text_of(page)
    assert reverse("units:invite_manager", args=[unit_id]) not in page


# --- 6. An implementation date long ago needs a confirmation ----------------------------------


def implement_form(day: dt.date, **extra: str) -> dict[str, str]:
    return {
        "implemented_on": day.isoformat(),
        "business_plan_location": "VP 2027, 4.2",
        "staff_informed_on": TODAY.isoformat(),
        **extra,
    }


@pytest.fixture
def approved(routine: Routine, manager_a: User, coordinator: User) -> Routine:
    with time_machine.travel(at(TODAY - dt.timedelta(days=20)), tick=False):
        approve_both(routine, manager_a, coordinator)
    return routine


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("day", "warning"),
    [
        (dt.date(1990, 1, 1), "ligger mer än ett år bakåt i tiden"),
        (TODAY - dt.timedelta(days=30), "före godkännandet (2027-02-23)"),
    ],
)
def test_an_implementation_date_long_ago_needs_a_confirmation(
    client: Client,
    approved: Routine,
    manager_a: User,
    unit_a: Unit,
    rollout: Rollout,
    day: dt.date,
    warning: str,
) -> None:
    url = reverse("routines:implement", args=[unit_a.pk])
    client.force_login(manager_a)
    with time_machine.travel(at(TODAY), tick=False):
        assert 'name="confirm"' not in client.get(url).content.decode()  # no box in advance
        response = client.post(url, implement_form(day))
        page = text_of(response.content.decode())
        assert response.status_code == 200
        assert warning in page
        assert "Kontrollera varningen och kryssa i rutan för att registrera ändå." in page
        approved.refresh_from_db()
        assert approved.status == RoutineStatus.APPROVED
        assert StepState.objects.get(rollout=rollout, step=Step.ROUTINES).status != (
            StepStatus.DONE
        )

        confirmed = client.post(url, implement_form(day, confirm="on"))
    assert confirmed.status_code == 302
    approved.refresh_from_db()
    assert (approved.status, approved.implemented_on) == (RoutineStatus.IMPLEMENTED, day)


@pytest.mark.django_db
def test_a_recent_implementation_date_needs_no_confirmation_and_the_future_is_refused(
    client: Client, approved: Routine, manager_a: User, unit_a: Unit
) -> None:
    url = reverse("routines:implement", args=[unit_a.pk])
    client.force_login(manager_a)
    with time_machine.travel(at(TODAY), tick=False):
        future = client.post(url, implement_form(TODAY + dt.timedelta(days=1), confirm="on"))
        assert future.status_code == 200
        assert "Datumet kan inte ligga i framtiden." in future.content.decode()
        approved.refresh_from_db()
        assert approved.status == RoutineStatus.APPROVED
        response = client.post(url, implement_form(TODAY - dt.timedelta(days=20)))
    assert response.status_code == 302
    approved.refresh_from_db()
    assert approved.status == RoutineStatus.IMPLEMENTED
