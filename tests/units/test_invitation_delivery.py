"""Whether an invitation's mail went out: sent (and when), still queued, or refused by the mail
server (and why), in words on the people page and the unit page. Permanent refusals are recorded
and not retried; a server that is away or busy is tried again by the task."""

import datetime as dt
import smtplib
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from jarfalla.mail import transient
from tests.conftest import SmtpServer
from tests.units.test_import import csv_bytes, text
from units import imports, invitation_imports, services, tasks
from units.models import Invitation, Municipality, Role, Unit, User

HEADER = "enhet;e-post"
NOW = dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.UTC)


def imported(coordinator: User, municipality: Municipality, address: str) -> Invitation:
    """An invitation from the file import: stored, its mail left to tasks.send_invitation."""
    (invitation,) = services.invitations_import(
        actor=coordinator,
        municipality=municipality,
        rows=imports.parse(
            csv_bytes(HEADER, f"Solrosens förskola;{address}"), spec=invitation_imports.SPEC
        ).rows,
    )
    return invitation


def fresh(invitation: Invitation) -> Invitation:
    return Invitation.objects.get(pk=invitation.pk)


# --- The classifier shared with the reminders ---------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (smtplib.SMTPDataError(451, b"4.3.0 Try again later"), True),
        (smtplib.SMTPDataError(550, b"5.1.1 No such user"), False),
        (smtplib.SMTPRecipientsRefused({"a@kommun.se": (550, b"5.1.1 No such user")}), False),
        (smtplib.SMTPRecipientsRefused({"a@kommun.se": (450, b"4.2.1 Mailbox busy")}), True),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), True),
        (ConnectionRefusedError(111, "Connection refused"), True),
        (TimeoutError("timed out"), True),
    ],
)
def test_one_classifier_tells_permanent_from_transient_failures(
    error: Exception, expected: bool
) -> None:
    assert transient(error) is expected


def test_the_reminders_use_the_same_classifier() -> None:
    from followup import services as outbox

    assert outbox.transient is transient


# --- The task (file import) ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_task_records_when_the_mail_reached_the_server(
    smtp_server: SmtpServer, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    invitation = imported(coordinator, municipality, "a@kommun.se")
    assert fresh(invitation).sent_at is None  # queued: nothing sent in the request
    with time_machine.travel(NOW, tick=False):
        assert tasks.send_invitation(invitation.pk) is True
    assert len(smtp_server.sink.messages) == 1
    sent = fresh(invitation)
    assert sent.sent_at == NOW
    assert sent.send_failed_at is None
    assert sent.send_error == ""


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["refuse_recipients_with", "refuse_with"])
def test_a_permanent_refusal_is_recorded_and_not_retried(
    smtp_server: SmtpServer,
    coordinator: User,
    municipality: Municipality,
    unit_a: Unit,
    where: str,
) -> None:
    invitation = imported(coordinator, municipality, "finns.inte@kommun.se")
    setattr(smtp_server.sink, where, "550 5.1.1 No such user")
    with time_machine.travel(NOW, tick=False):
        result = tasks.send_invitation.apply(args=(invitation.pk,))
    assert result.successful()
    assert result.result is False
    assert smtp_server.sink.sessions == 1  # one try, no retries
    failed = fresh(invitation)
    assert failed.sent_at is None
    assert failed.send_failed_at == NOW
    assert failed.send_error == "550 5.1.1 No such user"
    assert failed.revoked_at is None  # still pending: "Skicka ny länk" tries again


@pytest.mark.django_db
def test_a_busy_server_is_tried_again_and_recorded_when_the_retries_run_out(
    smtp_server: SmtpServer, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    invitation = imported(coordinator, municipality, "a@kommun.se")
    smtp_server.sink.refuse_with = "451 4.3.0 Try again later"
    result = tasks.send_invitation.apply(args=(invitation.pk,))  # retries run in-process here
    assert tasks.send_invitation.max_retries == 8
    assert smtp_server.sink.sessions == 1 + 8  # the first try and every retry
    assert result.result is False
    failed = fresh(invitation)
    assert failed.sent_at is None
    assert failed.send_failed_at is not None
    assert failed.send_error == "451 4.3.0 Try again later"


@pytest.mark.django_db
def test_a_server_that_is_away_stays_queued_and_the_retry_sends(
    smtp_server: SmtpServer, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    invitation = imported(coordinator, municipality, "a@kommun.se")
    smtp_server.stop()
    # Called directly the task raises what the worker's retry would catch.
    with pytest.raises(ConnectionRefusedError):
        tasks.send_invitation(invitation.pk)
    queued = fresh(invitation)
    assert (queued.sent_at, queued.send_failed_at, queued.send_error) == (None, None, "")
    smtp_server.start()
    assert tasks.send_invitation(invitation.pk) is True
    assert fresh(invitation).sent_at is not None
    assert len(smtp_server.sink.messages) == 1


@pytest.mark.django_db
def test_a_new_link_on_the_same_invitation_is_queued_until_sent(
    smtp_server: SmtpServer, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    invitation = imported(coordinator, municipality, "a@kommun.se")
    smtp_server.sink.refuse_recipients_with = "550 5.1.1 No such user"
    tasks.send_invitation.apply(args=(invitation.pk,))
    assert fresh(invitation).send_failed_at is not None
    smtp_server.stop()
    with pytest.raises(ConnectionRefusedError):  # a redelivery issues another link
        tasks.send_invitation(invitation.pk)
    queued = fresh(invitation)
    assert (queued.sent_at, queued.send_failed_at, queued.send_error) == (None, None, "")


# --- The single form (sent when the request's transaction commits) ------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_single_form_records_when_the_mail_was_sent(
    smtp_server: SmtpServer, client: Client, coordinator: User, unit_a: Unit
) -> None:
    client.force_login(coordinator)
    with time_machine.travel(NOW, tick=False):
        response = client.post(
            reverse("units:invite_manager", args=[unit_a.pk]), {"email": "ny@kommun.se"}
        )
    assert response.status_code == 302
    assert len(smtp_server.sink.messages) == 1
    assert Invitation.objects.get().sent_at == NOW
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "En inbjudan har skickats till ny@kommun.se."
    ]
    page = text(client.get(reverse("units:detail", args=[unit_a.pk])))
    assert 'ny@kommun.se <span class="text-body-secondary">Skickad 2026-11-28</span>' in page


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("where", ["refuse_recipients_with", "refuse_with"])
def test_the_single_form_with_a_refusing_server_says_so_instead_of_failing(
    smtp_server: SmtpServer, client: Client, coordinator: User, unit_a: Unit, where: str
) -> None:
    setattr(smtp_server.sink, where, "550 5.1.1 No such user")
    client.force_login(coordinator)
    response = client.post(
        reverse("units:invite_manager", args=[unit_a.pk]), {"email": "finns.inte@kommun.se"}
    )
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Inbjudan till finns.inte@kommun.se kunde inte skickas: 550 5.1.1 No such user. "
        "Försök igen med ”Skicka ny länk”."
    ]
    invitation = Invitation.objects.get()
    assert invitation.send_failed_at is not None
    assert invitation.sent_at is None
    page = text(client.get(response["Location"]))
    assert "Kunde inte skickas</span> 550 5.1.1 No such user" in page


@pytest.mark.django_db(transaction=True)
def test_the_people_page_form_with_a_server_that_is_away_says_so_instead_of_failing(
    smtp_server: SmtpServer, client: Client, coordinator: User, municipality: Municipality
) -> None:
    smtp_server.stop()
    client.force_login(coordinator)
    url = reverse("units:people", args=[municipality.pk])
    response = client.post(url, {"email": "fou@kommun.se", "role": Role.OBSERVER})
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Inbjudan till fou@kommun.se kunde inte skickas: e-postservern gick inte att nå. "
        "Försök igen med ”Skicka ny länk”."
    ]
    invitation = Invitation.objects.get()
    assert invitation.send_failed_at is not None
    assert invitation.send_error == ""
    assert "Kunde inte skickas</span> e-postservern gick inte att nå" in text(client.get(url))


@pytest.mark.django_db(transaction=True)
def test_a_new_link_clears_the_failure_once_it_is_sent(
    smtp_server: SmtpServer, client: Client, coordinator: User, unit_a: Unit
) -> None:
    client.force_login(coordinator)
    smtp_server.sink.refuse_recipients_with = "550 5.1.1 No such user"
    client.post(
        reverse("units:invite_manager", args=[unit_a.pk]), {"email": "ny@kommun.se"}, follow=True
    )
    failed = Invitation.objects.get()
    smtp_server.sink.refuse_recipients_with = None  # the address was fixed at their end
    response = client.post(reverse("units:invitation_resend", args=[failed.pk]))
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "En ny inbjudan har skickats till ny@kommun.se. Den tidigare länken fungerar inte längre."
    ]
    resent = Invitation.objects.get(revoked_at__isnull=True)
    assert resent.sent_at is not None
    assert (resent.send_failed_at, resent.send_error) == (None, "")
    page = text(client.get(reverse("units:detail", args=[unit_a.pk])))
    assert "Skickad" in page
    assert "Kunde inte skickas" not in page


@pytest.mark.django_db(transaction=True)
def test_a_new_link_that_is_refused_again_says_so(
    smtp_server: SmtpServer, client: Client, coordinator: User, unit_a: Unit
) -> None:
    client.force_login(coordinator)
    smtp_server.sink.refuse_recipients_with = "550 5.1.1 No such user"
    client.post(
        reverse("units:invite_manager", args=[unit_a.pk]), {"email": "ny@kommun.se"}, follow=True
    )
    response = client.post(reverse("units:invitation_resend", args=[Invitation.objects.get().pk]))
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Inbjudan till ny@kommun.se kunde inte skickas: 550 5.1.1 No such user. "
        "Försök igen med ”Skicka ny länk”."
    ]


# --- The pages say each state in words ----------------------------------------------------------


def three_states(coordinator: User, municipality: Municipality, unit: Unit) -> None:
    for address in ("skickad@kommun.se", "i.ko@kommun.se", "nekad@kommun.se"):
        services.invitation_create(
            actor=coordinator,
            email=address,
            municipality=municipality,
            role=Role.MANAGER,
            unit=unit,
        )
    # The on-commit sends do not run in this test's transaction: set the outcomes directly.
    Invitation.objects.filter(email="skickad@kommun.se").update(sent_at=NOW)
    Invitation.objects.filter(email="nekad@kommun.se").update(
        send_failed_at=NOW, send_error="550 5.1.1 No such user"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["units:people", "units:detail"])
def test_each_pending_invitation_says_in_words_whether_its_mail_went_out(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit, page: str
) -> None:
    three_states(coordinator, municipality, unit_a)
    client.force_login(coordinator)
    pk = municipality.pk if page == "units:people" else unit_a.pk
    with timezone.override("Europe/Stockholm"):
        shown = text(client.get(reverse(page, args=[pk])))
    assert "skickad@kommun.se" in shown
    assert "Skickad 2026-11-28" in shown
    assert "i.ko@kommun.se" in shown
    assert "Skickas …" in shown
    # A warning badge with words, not colour alone.
    assert (
        '<span class="badge text-bg-warning">Kunde inte skickas</span> 550 5.1.1 No such user'
        in shown
    )
    assert shown.count("Skicka ny länk") == 3


@pytest.mark.django_db
def test_the_states_in_english(
    client: Client, coordinator: User, municipality: Municipality, unit_a: Unit
) -> None:
    three_states(coordinator, municipality, unit_a)
    client.force_login(coordinator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    shown = text(client.get(reverse("units:people", args=[municipality.pk])))
    assert "Sent 2026-11-28" in shown
    assert "Being sent …" in shown
    assert "Could not be sent" in shown


@pytest.mark.django_db
def test_the_states_cost_no_query_per_invitation(
    client: Client,
    coordinator: User,
    municipality: Municipality,
    unit_a: Unit,
    django_assert_max_num_queries: Any,
) -> None:
    client.force_login(coordinator)
    url = reverse("units:people", args=[municipality.pk])
    client.get(url)  # the first request after login also records the session
    three_states(coordinator, municipality, unit_a)
    with django_assert_max_num_queries(40) as few:
        client.get(url)
    for number in range(20):
        services.invitation_create(
            actor=coordinator,
            email=f"person{number}@kommun.se",
            municipality=municipality,
            role=Role.OBSERVER,
        )
    Invitation.objects.filter(email__startswith="person").update(
        send_failed_at=NOW, send_error="550 5.1.1 No such user"
    )
    with django_assert_max_num_queries(len(few)):
        assert text(client.get(url)).count("Kunde inte skickas") == 21
