"""Every write to municipalities, units, roles and invitations; each one is audited."""

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from typing import Any

from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Model, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from jarfalla.mail import automatic_headers, site_url, smtp_reply, transient
from units import archiving, freshness, imports, invitation_imports, selectors
from units.models import (
    AuditEvent,
    Invitation,
    InvitationStatus,
    Municipality,
    MunicipalRole,
    Role,
    Sector,
    Unit,
    UnitManager,
    User,
)

INVITATION_VALID_FOR = dt.timedelta(days=7)

DEFAULT_SECTORS = (
    "Förskola",
    "Grundskola",
    "Gymnasieskola",
    "Elevhälsa",
    "Socialtjänst",
    "Familjestöd",
    "Fritidsgård",
    "Integration",
    "Trygghetsvärdar",
    "Bostadsbolag",
    "Civilsamhälle",
)

UNIT_FIELDS = (
    "name",
    "sector",
    "kind",
    "duty_to_report",
    "headcount",
    "works_universal",
    "works_selective",
    "works_indicated",
    "functional_email",
)


# --- Audit ----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Model):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, QuerySet):  # a many-to-many field's choice in the admin
        return sorted(str(item) for item in value)
    return value


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: Model,
    municipality: Municipality | None,
    unit: Unit | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    municipality_id = municipality.pk if municipality else (unit.municipality_id if unit else None)
    if municipality_id is not None:
        freshness.changed(municipality_id)
    event = _audit_event(
        actor=actor,
        action=action,
        target=target,
        municipality=municipality,
        unit=unit,
        changes=changes,
    )
    event.save(force_insert=True)
    return event


def _audit_event(
    *,
    actor: User | None,
    action: str,
    target: Model,
    municipality: Municipality | None,
    unit: Unit | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """The event audit_record saves, unsaved (units_import saves many at once)."""
    return AuditEvent(
        actor=actor,
        actor_email=actor.email if actor else "",
        municipality=municipality,
        unit=unit,
        action=action,
        target_type=target._meta.model_name or "",
        target_id=target.pk,
        target_repr=str(target)[:200],
        changes={k: [_plain(a), _plain(b)] for k, (a, b) in (changes or {}).items()},
    )


def _diff(instance: Model, new_values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {
        field: (getattr(instance, field), value)
        for field, value in new_values.items()
        if getattr(instance, field) != value
    }


def _update_audited(
    *,
    actor: User,
    instance: Model,
    fields: dict[str, Any],
    action: str,
    municipality: Municipality,
    unit: Unit | None = None,
) -> None:
    """Apply ``fields``, validate, save, and audit what actually changed (if anything)."""
    changes = _diff(instance, fields)
    for field, value in fields.items():
        setattr(instance, field, value)
    instance.full_clean()
    instance.save()
    if changes:
        audit_record(
            actor=actor,
            action=action,
            target=instance,
            municipality=municipality,
            unit=unit,
            changes=changes,
        )


# --- Municipalities and sectors -------------------------------------------------------------


@transaction.atomic
def municipality_create(*, actor: User | None, name: str, slug: str, **fields: Any) -> Municipality:
    municipality = Municipality.objects.create(name=name, slug=slug, **fields)
    Sector.objects.bulk_create(
        Sector(municipality=municipality, name=sector) for sector in DEFAULT_SECTORS
    )
    audit_record(
        actor=actor,
        action="municipality.created",
        target=municipality,
        municipality=municipality,
        changes={"name": (None, name)},
    )
    return municipality


@transaction.atomic
def municipality_update(*, actor: User, municipality: Municipality, **fields: Any) -> Municipality:
    _update_audited(
        actor=actor,
        instance=municipality,
        fields=fields,
        action="municipality.changed",
        municipality=municipality,
    )
    return municipality


@transaction.atomic
def sector_create(*, actor: User, municipality: Municipality, name: str) -> Sector:
    sector = Sector(municipality=municipality, name=name)
    sector.full_clean()
    sector.save()
    audit_record(
        actor=actor,
        action="sector.created",
        target=sector,
        municipality=municipality,
        changes={"name": (None, name)},
    )
    return sector


@transaction.atomic
def sector_update(*, actor: User, sector: Sector, name: str, is_active: bool) -> Sector:
    _update_audited(
        actor=actor,
        instance=sector,
        fields={"name": name, "is_active": is_active},
        action="sector.changed",
        municipality=sector.municipality,
    )
    return sector


# --- Units ----------------------------------------------------------------------------------


def _check_sector(municipality: Municipality, sector: Sector) -> None:
    if sector.municipality_id != municipality.pk:
        raise ValidationError({"sector": _("Sektorn hör till en annan kommun.")})


@transaction.atomic
def unit_create(*, actor: User, municipality: Municipality, **fields: Any) -> Unit:
    _check_sector(municipality, fields["sector"])
    unit = Unit(municipality=municipality, **fields)
    unit.full_clean()
    unit.save()
    audit_record(
        actor=actor,
        action="unit.created",
        target=unit,
        municipality=municipality,
        unit=unit,
        changes={field: (None, getattr(unit, field)) for field in UNIT_FIELDS},
    )
    return unit


@transaction.atomic
def units_import(
    *, actor: User, municipality: Municipality, rows: Sequence[imports.RawRow]
) -> list[Unit]:
    """Create the new units of an import; rows whose unit already exists (or that repeat an
    earlier row) are skipped, so importing the same file again creates nothing. The rows are
    checked again here, in the transaction that creates them, since the preview may be an hour
    old: if any row no longer passes, imports.ImportRowsError with every row's result, and
    nothing is saved. Recorded as unit_create records a unit, in the same number of queries
    whatever the number of rows."""
    # One import at a time per municipality: a second click on the button waits here, then
    # finds every unit there. NO KEY: creating a unit elsewhere meanwhile need not wait.
    list(
        Municipality.objects.select_for_update(no_key=True)
        .filter(pk=municipality.pk)
        .values_list("pk", flat=True)
    )
    checked = imports.check(municipality=municipality, rows=rows)
    new = [
        (row, Unit(municipality=municipality, **row.unit_fields))
        for row in checked
        if row.status == imports.RowStatus.NEW and row.unit_fields is not None
    ]
    for row, unit in new:
        try:
            # The model's own rules as well, as unit_create. Its sector is one of the
            # municipality's, and the names were compared above: no query per unit.
            unit.full_clean(
                exclude=["municipality", "sector"],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as error:
            row.errors.extend(
                imports.labelled(field, message)
                for field, messages in error.message_dict.items()
                for message in messages
            )
    if any(row.errors for row in checked):
        raise imports.ImportRowsError(checked)
    created = Unit.objects.bulk_create([unit for _row, unit in new])
    AuditEvent.objects.bulk_create(
        _audit_event(
            actor=actor,
            action="unit.created",
            target=unit,
            municipality=municipality,
            unit=unit,
            changes={field: (None, getattr(unit, field)) for field in UNIT_FIELDS},
        )
        for unit in created
    )
    if created:
        freshness.changed(municipality.pk)
    return created


@transaction.atomic
def unit_update(*, actor: User, unit: Unit, **fields: Any) -> Unit:
    unknown = set(fields) - set(UNIT_FIELDS)
    if unknown:
        raise TypeError(f"not unit fields: {unknown}")
    if "sector" in fields:
        _check_sector(unit.municipality, fields["sector"])
    _update_audited(
        actor=actor,
        instance=unit,
        fields=fields,
        action="unit.changed",
        municipality=unit.municipality,
        unit=unit,
    )
    return unit


@transaction.atomic
def unit_set_archived(*, actor: User, unit: Unit, archived: bool) -> list[archiving.Consequence]:
    """Archive or restore the unit. Archiving also stops what was on its way about the unit:
    its pending invitations are revoked (each audited, with ``actor``), and what other apps
    registered in units.archiving (the mail waiting in the outbox). Returns what it stopped, in
    words, leaving out what there was none of; restoring brings none of it back (a new
    invitation is one click away, and the sweep queues again what the work still calls for)."""
    # Read again under a lock: a second click on the button (or a second coordinator) waits
    # here and then finds the unit archived, instead of archiving and auditing it twice. NO KEY:
    # rows that refer to the unit need not wait.
    unit.is_active = (
        Unit.objects.select_for_update(no_key=True)
        .values_list("is_active", flat=True)
        .get(pk=unit.pk)
    )
    if unit.is_active != archived:
        return []
    unit.is_active = not archived
    unit.archived_at = timezone.now() if archived else None
    unit.save(update_fields=["is_active", "archived_at", "updated_at"])
    audit_record(
        actor=actor,
        action="unit.archived" if archived else "unit.restored",
        target=unit,
        municipality=unit.municipality,
        unit=unit,
        changes={"is_active": (archived, not archived)},
    )
    if not archived:
        return []
    return unit_archived_stop_waiting(actor=actor, unit=unit)


def unit_archived_stop_waiting(*, actor: User, unit: Unit) -> list[archiving.Consequence]:
    """Stop what was on its way about a unit just archived (unit_set_archived; the admin,
    whose form archives without it). Returns what it stopped, in words."""
    stopped = [(stop, stop.stop(unit, actor)) for stop in _archive_stops()]
    return [archiving.Consequence(count, stop.did(count)) for stop, count in stopped if count]


def unit_archive_preview(*, unit: Unit) -> list[archiving.Consequence]:
    """What archiving the unit would stop now, in words, for the page that asks the
    coordinator to confirm; changes nothing. What there is none of is left out."""
    counted = [(stop, stop.waiting(unit)) for stop in _archive_stops()]
    return [archiving.Consequence(count, stop.will(count)) for stop, count in counted if count]


def _pending_for_archived_unit(unit: Unit) -> QuerySet[Invitation]:
    # Expired links are dead already: left as they are, they still show as expired.
    return Invitation.objects.filter(Invitation.pending_at(timezone.now()), unit=unit)


def _invitations_revoke_for_archived_unit(unit: Unit, actor: User) -> int:
    """Revoke the unit's pending invitations, as _invitation_stale would when it next looked:
    a manager of a unit nobody works with any more. Locked first, so that a link being
    accepted at this moment either wins (and is not counted) or waits and is refused. The same
    number of queries for one invitation or fifty."""
    pending = list(
        _pending_for_archived_unit(unit)
        .select_related("municipality", "unit")
        .select_for_update(of=("self",))
    )
    _mark_revoked(pending, actor=actor, changes={"unit_is_active": (True, False)})
    return len(pending)


_ARCHIVED_UNITS_INVITATIONS = archiving.Stop(
    waiting=lambda unit: _pending_for_archived_unit(unit).count(),
    stop=_invitations_revoke_for_archived_unit,
    will=lambda count: (
        ngettext(
            "%(count)s väntande inbjudan återkallas.",
            "%(count)s väntande inbjudningar återkallas.",
            count,
        )
        % {"count": count}
    ),
    did=lambda count: (
        ngettext(
            "%(count)s väntande inbjudan återkallades.",
            "%(count)s väntande inbjudningar återkallades.",
            count,
        )
        % {"count": count}
    ),
    order=0,
)


def _archive_stops() -> list[archiving.Stop]:
    return [_ARCHIVED_UNITS_INVITATIONS, *archiving.registered()]


# --- Roles ----------------------------------------------------------------------------------


@transaction.atomic
def manager_add(*, actor: User | None, unit: Unit, user: User) -> UnitManager:
    membership, created = UnitManager.objects.get_or_create(unit=unit, user=user)
    if created:
        audit_record(
            actor=actor,
            action="manager.added",
            target=membership,
            municipality=unit.municipality,
            unit=unit,
            changes={"user": (None, user.email)},
        )
    return membership


@transaction.atomic
def manager_remove(*, actor: User, membership: UnitManager) -> None:
    audit_record(
        actor=actor,
        action="manager.removed",
        target=membership,
        municipality=membership.unit.municipality,
        unit=membership.unit,
        changes={"user": (membership.user.email, None)},
    )
    membership.delete()


@transaction.atomic
def municipal_role_set(
    *, actor: User | None, municipality: Municipality, user: User, role: str
) -> MunicipalRole:
    existing = MunicipalRole.objects.filter(municipality=municipality, user=user).first()
    if existing and existing.role == role:
        return existing
    if existing and existing.role == Role.COORDINATOR:
        _keep_a_coordinator(existing)
    membership, _created = MunicipalRole.objects.update_or_create(
        municipality=municipality, user=user, defaults={"role": role}
    )
    audit_record(
        actor=actor,
        action="role.set",
        target=membership,
        municipality=municipality,
        changes={"role": (existing.role if existing else None, role), "user": (None, user.email)},
    )
    return membership


class LastCoordinatorError(Exception):
    pass


def _keep_a_coordinator(membership: MunicipalRole) -> None:
    """Refuse to remove or lower this coordinator's role if it is the municipality's last.

    Locks the municipality's coordinators: two coordinators removing each other at the same
    time must not leave the municipality without one."""
    coordinators = list(
        MunicipalRole.objects.select_for_update()
        .filter(municipality_id=membership.municipality_id, role=Role.COORDINATOR)
        .values_list("pk", flat=True)
    )
    if coordinators == [membership.pk]:
        raise LastCoordinatorError


@transaction.atomic
def municipal_role_remove(*, actor: User, membership: MunicipalRole) -> None:
    if membership.role == Role.COORDINATOR:
        _keep_a_coordinator(membership)
    audit_record(
        actor=actor,
        action="role.removed",
        target=membership,
        municipality=membership.municipality,
        changes={"role": (membership.role, None), "user": (membership.user.email, None)},
    )
    membership.delete()


# --- Accounts -------------------------------------------------------------------------------


def user_credentials_revoke(*, user: User) -> None:
    """End everything that lets the person in without a fresh login: every session and every
    password-reset link made until now (units.receivers calls this on deactivation, also in the
    admin). Stamped in the row, not only on this instance: the session hash and the reset
    tokens read it (User.get_session_auth_hash, units.tokens). Stamping again later changes
    nothing for an account that has no sessions."""
    now = timezone.now()
    User.objects.filter(pk=user.pk).update(credentials_revoked_at=now)
    user.credentials_revoked_at = now
    # The stamp already makes the sessions useless; ending them also empties the session
    # store and the person's list of sessions.
    for session in UserSession.objects.filter(user=user):
        session.end()


# --- Invitations ----------------------------------------------------------------------------


ARCHIVED_UNIT_INVITATION = _(
    "Enheten är arkiverad. Återställ den först om den ska ha en enhetschef i verktyget."
)


class InvitationError(Exception):
    """An invitation link that cannot be used; the message is shown to the person."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(token: str) -> str:
    return site_url(reverse("units:invitation_accept", args=[token]))


def _send_invitation(invitation: Invitation, token: str, *, keep_trying: bool = False) -> bool:
    """Mail the link and record on the invitation whether it went out: sent_at once the mail
    server has accepted it, or send_failed_at and the server's reply when it was refused (the
    coordinator sends a new link from the list). With ``keep_trying`` a failure that may pass
    (jarfalla.mail.transient) is raised instead, and nothing recorded: the task tries again.
    Only the link with ``token`` is marked: a newer one issued meanwhile is not sent yet.
    Returns whether the mail went out. Call outside any transaction (the mail server may be
    slow)."""
    context = {
        "invitation": invitation,
        "url": invitation_url(token),
        "model_name": invitation.municipality.model_name,
        "inviter": invitation.invited_by,
    }
    # Someone new has no language choice yet: Swedish first, with a summary in English below.
    # Someone who already has an account gets it in the language they chose.
    with translation.override(selectors.mail_language_for_address(email=invitation.email)):
        subject = render_to_string("units/email/invitation_subject.txt", context).strip()
        body = render_to_string("units/email/invitation_body.txt", context)
    message = EmailMessage(
        subject=subject, body=body, to=[invitation.email], headers=automatic_headers()
    )
    try:
        message.send()
    except OSError as error:  # smtplib.SMTPException included
        if keep_trying and transient(error):
            raise
        outcome = {
            "sent_at": None,
            "send_failed_at": timezone.now(),
            # Never the link, should the server quote it back (a filter naming what it blocked).
            "send_error": smtp_reply(error, hiding=[token]),
        }
    else:
        outcome = {"sent_at": timezone.now(), "send_failed_at": None, "send_error": ""}
    Invitation.objects.filter(pk=invitation.pk, token_hash=_hash(token)).update(**outcome)
    for field, value in outcome.items():
        setattr(invitation, field, value)
    return outcome["sent_at"] is not None


def _invitations_issue(
    *,
    actor: User,
    municipality: Municipality,
    role: str,
    places: Sequence[tuple[str, Unit | None, str]],
) -> list[Invitation]:
    """The one rule for sending invitations, to one place or a file's worth: ``places`` are
    (address, unit or None for the municipality itself, token hash). An earlier pending
    invitation to the same place is replaced, so only the newest link works; each new one is
    audited. The same number of queries for one or a thousand. Call inside a transaction."""
    now = timezone.now()
    wanted = {(email, unit.pk if unit else None) for email, unit, _token_hash in places}
    # Whatever its role: inviting again as an observer replaces a coordinator invitation sent
    # by mistake (the same place means the same unit, or the municipality itself).
    earlier = [
        pk
        for pk, email, unit_id in Invitation.objects.filter(
            municipality=municipality,
            email__in={email for email, _unit_id in wanted},
            accepted_at__isnull=True,
            revoked_at__isnull=True,
        ).values_list("pk", "email", "unit_id")
        if (email, unit_id) in wanted
    ]
    if earlier:
        Invitation.objects.filter(pk__in=earlier).update(revoked_at=now)
    invitations = Invitation.objects.bulk_create(
        Invitation(
            email=email,
            municipality=municipality,
            unit=unit,
            role=role,
            token_hash=token_hash,
            invited_by=actor,
            expires_at=now + INVITATION_VALID_FOR,
        )
        for email, unit, token_hash in places
    )
    AuditEvent.objects.bulk_create(
        _audit_event(
            actor=actor,
            action="invitation.created",
            target=invitation,
            municipality=municipality,
            unit=invitation.unit,
            changes={"email": (None, invitation.email), "role": (None, role)},
        )
        for invitation in invitations
    )
    if invitations:
        freshness.changed(municipality.pk)
    return invitations


@transaction.atomic
def invitation_create(
    *,
    actor: User,
    email: str,
    municipality: Municipality,
    role: str,
    unit: Unit | None = None,
) -> tuple[Invitation, str]:
    """Invite a person; an earlier pending invitation to the same place is replaced, so only
    the newest link works. The e-mail goes out when the transaction commits, and whether it
    did is on the returned invitation then: sent_at, or send_failed_at and send_error. The
    coordinator is there to read the outcome, so a failure is recorded, never retried here
    (a 500 after the commit would hide the invitation that was made)."""
    email = email.strip().lower()
    if unit is not None and unit.municipality_id != municipality.pk:
        raise ValidationError(_("Enheten hör till en annan kommun."))
    if unit is not None and not unit.is_active:
        # Acceptance would refuse the link: a manager of a unit nobody works with any more.
        raise ValidationError(ARCHIVED_UNIT_INVITATION)
    token = secrets.token_urlsafe(32)
    (invitation,) = _invitations_issue(
        actor=actor, municipality=municipality, role=role, places=[(email, unit, _hash(token))]
    )
    transaction.on_commit(lambda: _send_invitation(invitation, token))
    return invitation, token


@transaction.atomic
def invitations_import(
    *,
    actor: User,
    municipality: Municipality,
    rows: Sequence[imports.RawRow],
    previewed_at: dt.datetime | None = None,
) -> list[Invitation]:
    """Invite the unit managers of a file (units.invitation_imports), by invitation_create's
    rules. The rows are checked again here, in the transaction that creates the invitations,
    since the preview may be an hour old: if any row no longer passes, imports.ImportRowsError
    with every row's result, and nothing is saved. Rows whose person already manages the unit,
    or that repeat an earlier row, are skipped, and so are pending invitations made after
    ``previewed_at``: a second confirmation of the same preview keeps the links the first one
    sent. The same number of queries whatever the number of rows.

    No link exists until the mail is sent: each invitation is stored with the hash of a token
    nobody has, and tasks.send_invitation (enqueued on commit, given only the id) issues the
    link and mails it, outside this request and with retries."""
    # One import at a time per municipality: a second click on the button waits here, then
    # finds the first one's invitations. NO KEY: other writes to the municipality need not wait.
    list(
        Municipality.objects.select_for_update(no_key=True)
        .filter(pk=municipality.pk)
        .values_list("pk", flat=True)
    )
    checked = invitation_imports.check(
        municipality=municipality, rows=rows, invited_since=previewed_at
    )
    if any(row.errors for row in checked):
        raise imports.ImportRowsError(checked)
    invitations = _invitations_issue(
        actor=actor,
        municipality=municipality,
        role=Role.MANAGER,
        places=[
            (row.email, row.unit, _hash(secrets.token_urlsafe(32)))
            for row in checked
            if row.status in invitation_imports.SENDS
        ],
    )
    from units import tasks  # the tasks module imports this one

    for invitation in invitations:
        tasks.send_invitation.delay_on_commit(invitation.pk)  # type: ignore[attr-defined]
    return invitations


def invitation_send(*, invitation_id: int, last_attempt: bool = False) -> bool:
    """Issue a fresh link for a pending invitation and mail it (tasks.send_invitation). The new
    token's hash is stored and committed first, then the mail goes out outside any
    transaction: a retry after a failed or lost send issues another link, and only the newest
    works. A failure that may pass (the server is away or busy) is raised for the task to try
    again, unless this is the ``last_attempt``; a refusal for good ("550 no such mailbox"), or
    the last attempt's failure, is recorded on the invitation (_send_invitation). False when
    nothing was sent: refused, or accepted or revoked meanwhile."""
    token = secrets.token_urlsafe(32)
    invitation = _invitation_link_issue(invitation_id=invitation_id, token=token)
    if invitation is None:
        return False
    return _send_invitation(invitation, token, keep_trying=not last_attempt)


@transaction.atomic
def _invitation_link_issue(*, invitation_id: int, token: str) -> Invitation | None:
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("municipality", "unit", "invited_by")
        .filter(pk=invitation_id, accepted_at__isnull=True, revoked_at__isnull=True)
        .first()
    )
    if invitation is None:
        return None
    # The mail may go out hours after the confirmation (retries): what was true then is
    # checked again, or a link would go out that acceptance refuses or that nobody may send.
    stale = _invitation_stale(invitation)
    if stale is not None:
        _mark_revoked([invitation], actor=None, changes=stale)
        return None
    invitation.token_hash = _hash(token)
    # Valid for its full time from when the link is sent, as the mail says.
    invitation.expires_at = timezone.now() + INVITATION_VALID_FOR
    # A new link is queued until its own mail goes out: what happened to the last one's
    # does not say anything about this one.
    invitation.sent_at = invitation.send_failed_at = None
    invitation.send_error = ""
    invitation.save(
        update_fields=["token_hash", "expires_at", "sent_at", "send_failed_at", "send_error"]
    )
    return invitation


def _invitation_stale(invitation: Invitation) -> dict[str, tuple[Any, Any]] | None:
    """What makes a pending invitation one that must not be sent any more, as the audit
    record's changes, or None: its sender may no longer invite in the municipality (also when
    the account was deleted, which invitations_revoke_unbacked cannot see), its unit was
    archived, or the address's account was deactivated (invitation_accept would refuse it)."""
    inviter = invitation.invited_by
    backed = (
        inviter is not None
        and inviter.is_active
        and (
            inviter.is_superuser
            or MunicipalRole.objects.filter(
                user=inviter, municipality_id=invitation.municipality_id, role=Role.COORDINATOR
            ).exists()
        )
    )
    if not backed:
        return {"invited_by": (inviter.email if inviter else None, None)}
    if invitation.unit is not None and not invitation.unit.is_active:
        return {"unit_is_active": (True, False)}
    if selectors.deactivated_address(email=invitation.email):
        return {"account_is_active": (True, False)}
    return None


@transaction.atomic
def invitation_resend(*, actor: User, invitation: Invitation) -> tuple[Invitation, str]:
    """A new link (the old one stops working) with a fresh expiry."""
    if invitation.accepted_at:
        raise InvitationError(_("Inbjudan är redan accepterad."))
    if invitation.unit is not None and not invitation.unit.is_active:
        raise InvitationError(ARCHIVED_UNIT_INVITATION)
    return invitation_create(
        actor=actor,
        email=invitation.email,
        municipality=invitation.municipality,
        role=invitation.role,
        unit=invitation.unit,
    )


@transaction.atomic
def invitation_revoke(*, actor: User, invitation: Invitation) -> Invitation:
    # Read again under a lock: since the page was loaded the person may have accepted it, or
    # archiving its unit or another coordinator revoked it (audited then, not again here).
    invitation.accepted_at, invitation.revoked_at = (
        Invitation.objects.select_for_update()
        .values_list("accepted_at", "revoked_at")
        .get(pk=invitation.pk)
    )
    if invitation.accepted_at:
        # Too late: the person has the role now. Saying "revoked" would leave them with access
        # the coordinator believes is gone.
        raise InvitationError(
            _("%(email)s har redan tackat ja. Ta bort personens roll i stället.")
            % {"email": invitation.email}
        )
    if invitation.revoked_at:
        return invitation
    _mark_revoked([invitation], actor=actor)
    return invitation


def _mark_revoked(
    invitations: Sequence[Invitation],
    *,
    actor: User | None,
    changes: dict[str, tuple[Any, Any]] | None = None,
) -> None:
    """Revoke and audit each, in the same number of queries for one or a thousand (the
    invitations' municipality and unit are read from them: select them along)."""
    if not invitations:
        return
    now = timezone.now()
    Invitation.objects.filter(pk__in=[invitation.pk for invitation in invitations]).update(
        revoked_at=now
    )
    for invitation in invitations:
        invitation.revoked_at = now
    AuditEvent.objects.bulk_create(
        _audit_event(
            actor=actor,
            action="invitation.revoked",
            target=invitation,
            municipality=invitation.municipality,
            unit=invitation.unit,
            changes=changes,
        )
        for invitation in invitations
    )
    for municipality_id in {invitation.municipality_id for invitation in invitations}:
        freshness.changed(municipality_id)


@transaction.atomic
def invitations_revoke_unbacked(*, inviter: User) -> int:
    """Revoke the pending invitations this person sent that they could no longer send: all of
    them once the account is deactivated, and those of a municipality they no longer
    coordinate (superusers may invite anywhere). An invitation carries its sender's authority,
    so it must not outlive it; another coordinator sends a new one. Run on every change of
    account or role (units.receivers), also those made in the admin. Returns how many."""
    pending = Invitation.objects.filter(
        Invitation.pending_at(timezone.now()), invited_by=inviter
    ).select_related("municipality", "unit")
    if inviter.is_active:
        if inviter.is_superuser:
            return 0
        pending = pending.exclude(
            municipality__in=MunicipalRole.objects.filter(
                user=inviter, role=Role.COORDINATOR
            ).values("municipality")
        )
    revoked = list(pending.select_for_update(of=("self",)))
    _mark_revoked(revoked, actor=None, changes={"invited_by": (inviter.email, None)})
    return len(revoked)


def invitation_for_token(token: str) -> Invitation:
    """The pending invitation for a link, or InvitationError saying why it cannot be used."""
    invitation = (
        Invitation.objects.select_related("municipality", "unit")
        .filter(token_hash=_hash(token))
        .first()
    )
    if invitation is None:
        raise InvitationError(_("Länken är ogiltig. Kontrollera att du använt hela länken."))
    status = invitation.status_at(timezone.now())
    if status == InvitationStatus.ACCEPTED:
        raise InvitationError(_("Inbjudan har redan använts. Logga in som vanligt."))
    if invitation.unit is not None and not invitation.unit.is_active:
        # Archived after the link went out: a manager of a unit nobody works with any more.
        # Before the revoked case: archiving revokes the link, and "use the newest link" would
        # send the person looking for one that does not exist.
        raise InvitationError(_("Enheten är arkiverad. Kontakta den som bjöd in dig."))
    if status == InvitationStatus.REVOKED:
        raise InvitationError(
            _("Inbjudan har återkallats eller ersatts av en nyare. Använd den senaste länken.")
        )
    if status == InvitationStatus.EXPIRED:
        raise InvitationError(_("Inbjudan har gått ut. Be samordnaren att skicka en ny inbjudan."))
    return invitation


@transaction.atomic
def invitation_accept(
    *, token: str, password: str | None, current_user: User | None = None
) -> User:
    """Accept once: creates the account (with the password) or adds the role to an existing one.

    The link went to the address, so holding it proves control of the address: the address is
    marked verified."""
    invitation = invitation_for_token(token)
    # Lock the row: two clicks on the same link must not both succeed.
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status_at(timezone.now()) != InvitationStatus.PENDING:
        # Used, revoked or expired while this request waited for the lock.
        raise InvitationError(_("Inbjudan har redan använts. Logga in som vanligt."))
    user = User.objects.filter(email__iexact=invitation.email).first()
    signed_in_as_other = current_user is not None and (user is None or current_user.pk != user.pk)
    if signed_in_as_other:
        raise InvitationError(
            _("Inbjudan gäller en annan e-postadress än den du är inloggad med. Logga ut först.")
        )
    if user is not None and not user.is_active:
        # A role for an account that cannot sign in would be a dead end; reactivating the
        # account is an administrator's decision, not an invitation's.
        raise InvitationError(
            _("Kontot för den här adressen är avstängt. Kontakta den som bjöd in dig.")
        )
    if user is None:
        if not password:
            raise InvitationError(_("Välj ett lösenord."))
        user = User.objects.create_user(email=invitation.email, password=password)
    EmailAddress.objects.update_or_create(
        user=user, email=invitation.email, defaults={"verified": True, "primary": True}
    )
    if invitation.role == Role.MANAGER:
        assert invitation.unit is not None
        manager_add(actor=user, unit=invitation.unit, user=user)
    elif not MunicipalRole.objects.filter(
        # An invitation adds a role or raises one, never lowers it: a coordinator invited as an
        # observer stays coordinator (the people page takes a role away, and keeps the last one).
        municipality=invitation.municipality,
        user=user,
        role=Role.COORDINATOR,
    ).exists():
        municipal_role_set(
            actor=user, municipality=invitation.municipality, user=user, role=invitation.role
        )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(
        actor=user,
        action="invitation.accepted",
        target=invitation,
        municipality=invitation.municipality,
        unit=invitation.unit,
    )
    return user
