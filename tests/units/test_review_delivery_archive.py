"""Review of the invitation delivery status and of archiving a unit: revoking an invitation
that something else changed meanwhile (archiving its unit, a second coordinator, the person
accepting it) is audited once and never revokes an accepted one; the mail server's reply kept
on the invitation never holds the link."""

import smtplib
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.core.mail import EmailMessage

from tests.units.test_invitation_delivery import fresh, imported
from units import services, tasks
from units.models import AuditEvent, Invitation, Municipality, Role, Unit, User

PASSWORD = "ett-långt-lösenord-2026"


def invite(coordinator: User, unit: Unit, email: str = "ny@kommun.se") -> tuple[Invitation, str]:
    return services.invitation_create(
        actor=coordinator,
        email=email,
        municipality=unit.municipality,
        role=Role.MANAGER,
        unit=unit,
    )


def as_the_page_read_it(invitation: Invitation) -> Invitation:
    """The invitation as a request that started before the other change read it."""
    return Invitation.objects.select_related("municipality", "unit").get(pk=invitation.pk)


# --- Revoking what changed meanwhile ------------------------------------------------------------


@pytest.mark.django_db
def test_revoking_an_invitation_its_units_archiving_revoked_meanwhile_is_audited_once(
    coordinator: User, unit_a: Unit
) -> None:
    invitation, _token = invite(coordinator, unit_a)
    read_before = as_the_page_read_it(invitation)
    services.unit_set_archived(actor=coordinator, unit=unit_a, archived=True)
    revoked_at = fresh(invitation).revoked_at
    services.invitation_revoke(actor=coordinator, invitation=read_before)
    events = AuditEvent.objects.filter(action="invitation.revoked", target_id=invitation.pk)
    assert [(e.actor, e.changes) for e in events] == [
        (coordinator, {"unit_is_active": [True, False]})
    ]
    assert fresh(invitation).revoked_at == revoked_at


@pytest.mark.django_db
def test_two_coordinators_revoking_the_same_invitation_audit_it_once(
    coordinator: User, unit_a: Unit
) -> None:
    invitation, _token = invite(coordinator, unit_a)
    first, second = as_the_page_read_it(invitation), as_the_page_read_it(invitation)
    services.invitation_revoke(actor=coordinator, invitation=first)
    services.invitation_revoke(actor=coordinator, invitation=second)
    assert AuditEvent.objects.filter(action="invitation.revoked").count() == 1


@pytest.mark.django_db
def test_an_invitation_accepted_meanwhile_is_not_revoked(coordinator: User, unit_a: Unit) -> None:
    invitation, token = invite(coordinator, unit_a)
    read_before = as_the_page_read_it(invitation)
    services.invitation_accept(token=token, password=PASSWORD)
    with pytest.raises(services.InvitationError, match="har redan tackat ja"):
        services.invitation_revoke(actor=coordinator, invitation=read_before)
    accepted = fresh(invitation)
    assert accepted.accepted_at is not None
    assert accepted.revoked_at is None
    assert not AuditEvent.objects.filter(action="invitation.revoked").exists()


# --- The mail server's reply never keeps the link -----------------------------------------------


def quoting_the_link(reply: Callable[[str], smtplib.SMTPException], tokens: list[str]) -> Any:
    """EmailMessage.send as a mail server that quotes the link in its refusal (a content
    filter naming the address it blocked); the link's token goes into ``tokens``."""

    def send(message: EmailMessage, fail_silently: bool = False) -> int:
        link = next(word for word in str(message.body).split() if "/invitations/accept/" in word)
        tokens.append(link.rstrip("/").rsplit("/", 1)[-1])
        raise reply(link)

    return mock.patch.object(EmailMessage, "send", send)


REPLIES: dict[str, Callable[[str], smtplib.SMTPException]] = {
    "data": lambda link: smtplib.SMTPDataError(
        550, f"5.7.1 Message rejected: {link} is listed".encode()
    ),
    "recipients": lambda link: smtplib.SMTPRecipientsRefused(
        {"a@kommun.se": (550, f"5.7.1 Blocked: {link}".encode())}
    ),
    "long": lambda link: smtplib.SMTPDataError(550, f"5.7.1 {'x' * 220} {link}".encode()),
}


@pytest.mark.django_db
@pytest.mark.parametrize("reply", REPLIES)
def test_a_refusal_that_quotes_the_link_is_kept_without_it_by_the_task(
    coordinator: User, municipality: Municipality, unit_a: Unit, reply: str
) -> None:
    invitation = imported(coordinator, municipality, "a@kommun.se")
    tokens: list[str] = []
    with quoting_the_link(REPLIES[reply], tokens):
        tasks.send_invitation.apply(args=(invitation.pk,))
    (token,) = tokens
    failed = fresh(invitation)
    assert failed.send_failed_at is not None
    assert failed.send_error.startswith("550 5.7.1")
    # Not the token, nor the start of it that a cut at 300 characters would leave.
    assert token[:8] not in failed.send_error
    assert "/invitations/accept/…" in failed.send_error


@pytest.mark.django_db
def test_a_refusal_that_quotes_the_link_is_kept_without_it_by_the_form(
    coordinator: User, unit_a: Unit, django_capture_on_commit_callbacks: Any
) -> None:
    tokens: list[str] = []
    with (
        quoting_the_link(REPLIES["data"], tokens),
        django_capture_on_commit_callbacks(execute=True),
    ):
        invitation, token = invite(coordinator, unit_a)
    assert tokens == [token]
    assert invitation.send_failed_at is not None
    for said in (invitation.send_error, fresh(invitation).send_error):
        assert token[:8] not in said
        assert said.startswith("550 5.7.1 Message rejected: http")
        assert said.endswith("/invitations/accept/…/ is listed")
