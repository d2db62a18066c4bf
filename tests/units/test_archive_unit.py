"""Archiving a unit: what it stops (pending invitations, mail still waiting to go out about the
unit), the confirmation page that says so before, and the message that says so after."""

import datetime as dt
import re
from html import unescape

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from followup import services as outbox
from followup.models import CancelReason, Reminder, ReminderStatus
from rollout import services as engine
from tests.factories import UnitFactory
from units import pagecache, services
from units.models import AuditEvent, Invitation, InvitationStatus, Municipality, Role, Unit, User

ICS = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"


def invite(unit: Unit, coordinator: User, email: str) -> tuple[Invitation, str]:
    return services.invitation_create(
        actor=coordinator,
        email=email,
        municipality=unit.municipality,
        role=Role.MANAGER,
        unit=unit,
    )


def queue(
    recipient: User, unit: Unit, kind: str, key: str, ics: str = "", ics_method: str = ""
) -> Reminder:
    reminder, _created = outbox.schedule(
        recipient=recipient,
        kind=kind,
        subject_key=key,
        due_on=dt.date(2026, 12, 1),
        subject=f"Om {unit.name}",
        body="Något väntar.",
        unit=unit,
        ics=ics,
        ics_method=ics_method,
    )
    return reminder


def archive_url(unit: Unit) -> str:
    return reverse("units:archive", args=[unit.pk])


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def status(reminder: Reminder) -> tuple[str, str]:
    reminder.refresh_from_db()
    return reminder.status, reminder.cancel_reason


@pytest.fixture
def in_flight(coordinator: User, manager_a: User, manager_b: User, unit_a: Unit, unit_b: Unit):
    """Two pending invitations and three queued reminders about unit A, and things that are not
    pending or not about unit A."""
    first, first_token = invite(unit_a, coordinator, "ny1@kommun.se")
    second, _token = invite(unit_a, coordinator, "ny2@kommun.se")
    expired, _token = invite(unit_a, coordinator, "gammal@kommun.se")
    Invitation.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - dt.timedelta(days=1)
    )
    elsewhere, _token = invite(unit_b, coordinator, "annan@kommun.se")
    reminders = {
        "nudge": queue(manager_a, unit_a, "nudge", "web_course:1"),
        "escalation": queue(coordinator, unit_a, "escalation", "web_course:1"),
        "notice": queue(manager_a, unit_a, "meeting", "followup-soon:abc:0"),
        # A calendar message about a booking that still stands (see unit_set_archived).
        "calendar": queue(
            manager_a, unit_a, "training", "training:abc:0", ics=ICS, ics_method="REQUEST"
        ),
        "elsewhere": queue(manager_b, unit_b, "nudge", "web_course:2"),
    }
    return {
        "pending": [first, second],
        "token": first_token,
        "expired": expired,
        "elsewhere": elsewhere,
        "reminders": reminders,
    }


# --- What archiving stops ---------------------------------------------------------------------


@pytest.mark.django_db
def test_archiving_revokes_the_units_pending_invitations_and_audits_each(
    client: Client, coordinator: User, unit_a: Unit, in_flight: dict
) -> None:
    services.unit_set_archived(actor=coordinator, unit=unit_a, archived=True)
    now = timezone.now()
    for invitation in in_flight["pending"]:
        invitation.refresh_from_db()
        assert invitation.status_at(now) == InvitationStatus.REVOKED
    for untouched in (in_flight["expired"], in_flight["elsewhere"]):
        untouched.refresh_from_db()
        assert untouched.revoked_at is None
    events = AuditEvent.objects.filter(action="invitation.revoked").order_by("target_id")
    assert [(e.target_id, e.actor, e.unit, e.changes) for e in events] == [
        (invitation.pk, coordinator, unit_a, {"unit_is_active": [True, False]})
        for invitation in sorted(in_flight["pending"], key=lambda i: i.pk)
    ]
    response = client.get(reverse("units:invitation_accept", args=[in_flight["token"]]))
    assert response.status_code == 410
    assert "Enheten är arkiverad. Kontakta den som bjöd in dig." in text(response.content.decode())


@pytest.mark.django_db
def test_archiving_costs_the_same_for_1_and_20_invitations(
    coordinator: User, municipality: Municipality
) -> None:
    costs = {}
    for count in (1, 20):
        unit = UnitFactory.create(municipality=municipality)
        for n in range(count):
            invite(unit, coordinator, f"ny{n}@kommun.se")
        with CaptureQueriesContext(connection) as queries:
            services.unit_set_archived(actor=coordinator, unit=unit, archived=True)
        assert Invitation.objects.filter(unit=unit, revoked_at__isnull=False).count() == count
        costs[count] = len(queries)
    assert costs[1] == costs[20], costs


@pytest.mark.django_db
def test_queued_mail_about_the_unit_stops_and_is_not_dispatched(
    coordinator: User, unit_a: Unit, in_flight: dict
) -> None:
    reminders = in_flight["reminders"]
    services.unit_set_archived(actor=coordinator, unit=unit_a, archived=True)
    for name in ("nudge", "escalation", "notice"):
        assert status(reminders[name]) == (ReminderStatus.CANCELLED, CancelReason.OUTDATED), name
    assert status(reminders["calendar"]) == (ReminderStatus.PENDING, "")
    assert status(reminders["elsewhere"]) == (ReminderStatus.PENDING, "")
    mail.outbox.clear()
    assert outbox.dispatch().sent == 2
    assert {(m.to[0], m.subject) for m in mail.outbox} == {
        (reminders["calendar"].recipient.email, f"Om {unit_a.name}"),
        (reminders["elsewhere"].recipient.email, f"Om {reminders['elsewhere'].unit.name}"),
    }
    assert status(reminders["nudge"]) == (ReminderStatus.CANCELLED, CancelReason.OUTDATED)


@pytest.mark.django_db
def test_the_outbox_page_says_why_in_words(
    client: Client, coordinator: User, unit_a: Unit, in_flight: dict
) -> None:
    services.unit_set_archived(actor=coordinator, unit=unit_a, archived=True)
    client.force_login(coordinator)
    page = client.get(reverse("followup:outbox", args=[unit_a.municipality_id]))
    assert page.status_code == 200
    assert "Det som utskicket gällde är gjort eller har ändrats." in text(page.content.decode())


@pytest.mark.django_db
def test_restoring_brings_no_invitation_back(
    client: Client, coordinator: User, unit_a: Unit, in_flight: dict
) -> None:
    services.unit_set_archived(actor=coordinator, unit=unit_a, archived=True)
    services.unit_set_archived(actor=coordinator, unit=unit_a, archived=False)
    now = timezone.now()
    for invitation in in_flight["pending"]:
        invitation.refresh_from_db()
        assert invitation.status_at(now) == InvitationStatus.REVOKED
    response = client.get(reverse("units:invitation_accept", args=[in_flight["token"]]))
    assert response.status_code == 410
    assert "Inbjudan har återkallats" in text(response.content.decode())
    assert AuditEvent.objects.filter(action="invitation.revoked").count() == 2


# --- Before: the confirmation page --------------------------------------------------------------


@pytest.mark.django_db
def test_the_unit_page_leads_to_the_confirmation(
    client: Client, coordinator: User, unit_a: Unit
) -> None:
    client.force_login(coordinator)
    page = client.get(reverse("units:detail", args=[unit_a.pk])).content.decode()
    assert f'href="{archive_url(unit_a)}"' in page
    assert 'name="archive" value="1"' not in page  # no archiving in one click


@pytest.mark.django_db
def test_the_confirmation_page_says_what_archiving_will_do(
    client: Client, coordinator: User, unit_a: Unit, in_flight: dict
) -> None:
    client.force_login(coordinator)
    response = client.get(archive_url(unit_a))
    assert response.status_code == 200
    html = response.content.decode()
    page = text(html)
    assert f"Arkivera {unit_a.name}?" in page
    assert "2 väntande inbjudningar återkallas." in page
    assert "3 utskick som väntar stoppas." in page
    assert "Enheten finns kvar i historiken och kan återställas." in page
    assert re.search(
        rf'<form method="post" action="{archive_url(unit_a)}">.*name="archive" value="1"',
        html,
        re.S,
    )
    assert f'href="{reverse("units:detail", args=[unit_a.pk])}">Avbryt</a>' in html


@pytest.mark.django_db
def test_the_confirmation_page_counts_one_in_the_singular_and_leaves_out_none(
    client: Client, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    client.force_login(coordinator)
    page = text(client.get(archive_url(unit_a)).content.decode())
    assert "återkallas" not in page
    assert "stoppas" not in page
    invite(unit_a, coordinator, "ny@kommun.se")
    queue(manager_a, unit_a, "nudge", "web_course:1")
    page = text(client.get(archive_url(unit_a)).content.decode())
    assert "1 väntande inbjudan återkallas." in page
    assert "1 utskick som väntar stoppas." in page


@pytest.mark.django_db
def test_the_confirmation_and_the_message_in_english(
    client: Client, settings, coordinator: User, unit_a: Unit, in_flight: dict
) -> None:
    client.force_login(coordinator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = text(client.get(archive_url(unit_a)).content.decode())
    assert f"Archive {unit_a.name}?" in page
    assert "2 pending invitations will be revoked." in page
    assert "3 emails waiting to be sent will be stopped." in page
    assert "The unit stays in the history and can be restored." in page
    response = client.post(archive_url(unit_a), {"archive": "1"})
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.endswith(
        "2 pending invitations were revoked. 3 emails waiting to be sent were stopped."
    )


@pytest.mark.django_db
def test_looking_at_the_confirmation_changes_nothing(
    client: Client, coordinator: User, unit_a: Unit, in_flight: dict
) -> None:
    client.force_login(coordinator)
    events = AuditEvent.objects.count()
    assert client.get(archive_url(unit_a)).status_code == 200
    unit_a.refresh_from_db()
    assert unit_a.is_active
    assert unit_a.archived_at is None
    assert AuditEvent.objects.count() == events
    for invitation in in_flight["pending"]:
        invitation.refresh_from_db()
        assert invitation.revoked_at is None
    assert not Reminder.objects.filter(status=ReminderStatus.CANCELLED).exists()


@pytest.mark.django_db
def test_an_archived_unit_has_nothing_to_confirm(
    client: Client, coordinator: User, unit_a: Unit
) -> None:
    services.unit_set_archived(actor=coordinator, unit=unit_a, archived=True)
    client.force_login(coordinator)
    response = client.get(archive_url(unit_a))
    assert response.status_code == 302
    assert response["Location"] == reverse("units:detail", args=[unit_a.pk])


# --- After: the message -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_message_after_archiving_says_what_was_stopped(
    client: Client, coordinator: User, unit_a: Unit, in_flight: dict
) -> None:
    client.force_login(coordinator)
    response = client.post(archive_url(unit_a), {"archive": "1"})
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Enheten är arkiverad. Den finns kvar i historiken. "
        "2 väntande inbjudningar återkallades. 3 utskick som väntade stoppades."
    ]
    unit_a.refresh_from_db()
    assert not unit_a.is_active


@pytest.mark.django_db
def test_restoring_needs_no_confirmation(client: Client, coordinator: User, unit_a: Unit) -> None:
    services.unit_set_archived(actor=coordinator, unit=unit_a, archived=True)
    client.force_login(coordinator)
    page = client.get(reverse("units:detail", args=[unit_a.pk])).content.decode()
    assert 'name="archive" value="0"' in page
    response = client.post(archive_url(unit_a), {"archive": "0"})
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Enheten är aktiv igen."]
    unit_a.refresh_from_db()
    assert unit_a.is_active


# --- Who may ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "expected"),
    [("manager_a", 403), ("observer", 403), ("other_coordinator", 404)],
)
def test_only_a_coordinator_of_the_municipality_sees_or_archives(
    request: pytest.FixtureRequest,
    client: Client,
    unit_a: Unit,
    in_flight: dict,
    persona: str,
    expected: int,
) -> None:
    client.force_login(request.getfixturevalue(persona))
    assert client.get(archive_url(unit_a)).status_code == expected
    assert client.post(archive_url(unit_a), {"archive": "1"}).status_code == expected
    unit_a.refresh_from_db()
    assert unit_a.is_active
    assert not Invitation.objects.filter(revoked_at__isnull=False).exists()
    assert not Reminder.objects.filter(status=ReminderStatus.CANCELLED).exists()


# --- Nothing new waits for an archived unit ---------------------------------------------------


@pytest.mark.django_db
def test_archiving_in_the_admin_stops_the_same(
    client: Client, superuser: User, unit_a: Unit, in_flight: dict
) -> None:
    client.force_login(superuser)
    response = client.post(
        reverse("admin:units_unit_change", args=[unit_a.pk]),
        {
            "municipality": unit_a.municipality_id,
            "name": unit_a.name,
            "sector": unit_a.sector_id,
            "kind": unit_a.kind,
            "headcount": unit_a.headcount,
            "functional_email": "",
        },
    )
    assert response.status_code == 302
    unit_a.refresh_from_db()
    assert not unit_a.is_active
    assert unit_a.archived_at is not None
    for invitation in in_flight["pending"]:
        invitation.refresh_from_db()
        assert invitation.revoked_at is not None
    assert status(in_flight["reminders"]["nudge"]) == (
        ReminderStatus.CANCELLED,
        CancelReason.OUTDATED,
    )
    revoked = AuditEvent.objects.filter(action="invitation.revoked", actor=superuser)
    assert revoked.count() == len(in_flight["pending"])


@pytest.mark.django_db
def test_an_archived_unit_gets_no_new_invitation(
    client: Client, coordinator: User, unit_a: Unit, in_flight: dict
) -> None:
    services.unit_set_archived(actor=coordinator, unit=unit_a, archived=True)
    client.force_login(coordinator)
    page = client.get(reverse("units:detail", args=[unit_a.pk])).content.decode()
    assert reverse("units:invite_manager", args=[unit_a.pk]) not in page
    before = Invitation.objects.count()
    for method in (client.get, client.post):
        response = method(
            reverse("units:invite_manager", args=[unit_a.pk]), {"email": "ny3@kommun.se"}
        )
        assert response.status_code == 302
        assert [str(m) for m in get_messages(response.wsgi_request)][-1] == (
            "Enheten är arkiverad. Återställ den först om den ska ha en enhetschef i verktyget."
        )
    # An expired invitation of the unit is still listed: a new link is refused the same way.
    response = client.post(reverse("units:invitation_resend", args=[in_flight["expired"].pk]))
    assert "Enheten är arkiverad." in str(list(get_messages(response.wsgi_request))[-1])
    with pytest.raises(ValidationError):
        invite(unit_a, coordinator, "ny4@kommun.se")
    assert Invitation.objects.count() == before


@pytest.mark.django_db
def test_an_archived_units_expired_invitation_offers_no_new_link(
    client: Client, coordinator: User, unit_a: Unit, in_flight: dict
) -> None:
    """The action would only be refused: the list says why instead, and revoking stays."""
    resend = reverse("units:invitation_resend", args=[in_flight["expired"].pk])
    revoke = reverse("units:invitation_revoke", args=[in_flight["expired"].pk])
    client.force_login(coordinator)
    pages = (
        reverse("units:detail", args=[unit_a.pk]),
        reverse("units:people", args=[unit_a.municipality_id]),
    )
    for url in pages:
        assert resend in client.get(url).content.decode()
    services.unit_set_archived(actor=coordinator, unit=unit_a, archived=True)
    pagecache.clear()  # the change is seen once it commits; a test's transaction never does
    for url in pages:
        page = client.get(url).content.decode()
        assert resend not in page
        assert revoke in page
        assert "Enheten är arkiverad; ingen ny länk kan skickas." in text(page)


@pytest.mark.django_db
def test_an_archived_units_rollout_offers_no_work(
    client: Client, coordinator: User, unit_a: Unit
) -> None:
    """No next thing to do, no check-in, no pause, no early start: the page says why instead."""
    engine.rollout_start(actor=coordinator, unit=unit_a)
    client.force_login(coordinator)
    url = reverse("units:detail", args=[unit_a.pk])
    offered = (
        "Nästa sak att göra",
        "Inget nytt sedan sist",
        "Pausa införandet",
        "Påbörja i förtid",
    )
    page = text(client.get(url).content.decode())
    assert all(words in page for words in offered)
    services.unit_set_archived(actor=coordinator, unit=unit_a, archived=True)
    pagecache.clear()
    page = text(client.get(url).content.decode())
    assert [words for words in offered if words in page] == []
    assert "Enheten är arkiverad: införandet står still" in page
