"""Calendar invitations through the outbox, for any meeting with a unit's managers (step 2's
training sessions, step 4's follow-ups): one message per active manager, each with the calendar
file, subject and body in the language that manager chose for e-mail."""

import datetime as dt
from collections.abc import Callable, Sequence
from functools import partial
from typing import NamedTuple

from django.db import transaction
from django.utils import translation

from followup import services as outbox
from followup.models import CancelReason
from units import selectors as unit_selectors
from units.models import Unit


class Invitation(NamedTuple):
    """One recipient's message: the calendar file with its METHOD, and the mail around it."""

    method: str
    ics: str
    subject: str
    body: str


def queue_calendar_invitations(
    *,
    unit: Unit,
    kind: str,
    subject_key: str,
    due_on: dt.date,
    build: Callable[[Sequence[str]], Invitation],
    supersedes: str | None = None,
) -> int:
    """Queue an invitation for each of the unit's active managers. ``build`` gets the attendees
    (every manager invited, for the calendar file) and renders in the active language, which is
    the recipient's here. Keyed like any reminder (recipient, kind, subject_key, due_on): queuing
    the same thing again adds nothing. ``supersedes``: the key of the meeting's previous state,
    whose invitations still waiting to go out (the dispatcher has not run yet, or the mail server
    refused them) are cancelled: sent after this one, they would give the old time. The new ones
    are sent once the change commits rather than at the next interval (robust: with the broker
    away the change still stands, and the beat's dispatch sends them). Returns how many were
    new."""
    if supersedes is not None:
        outbox.cancel(subject_key=supersedes, kinds=(kind,), reason=CancelReason.SUPERSEDED)
    managers = list(
        unit_selectors.active_managers(unit=unit).select_related("notification_settings")
    )
    attendees = [manager.email for manager in managers]
    new_ids: list[int] = []
    for manager in managers:
        # The calendar file too, not only the mail around it: its title and description are
        # what the manager sees in their calendar, and the language of whoever booked (the
        # request's) is nobody's choice for them.
        prefs = getattr(manager, "notification_settings", None)
        with translation.override(unit_selectors.mail_language(prefs)):
            invitation = build(attendees)
        reminder, new = outbox.schedule(
            recipient=manager,
            kind=kind,
            subject_key=subject_key,
            due_on=due_on,
            subject=invitation.subject,
            body=invitation.body,
            unit=unit,
            ics=invitation.ics,
            ics_method=invitation.method,
        )
        if new:
            new_ids.append(reminder.pk)
    if new_ids:
        transaction.on_commit(partial(_send_soon, new_ids), robust=True)
    return len(new_ids)


def _send_soon(reminder_ids: list[int]) -> None:
    from followup.tasks import send_due_reminders

    send_due_reminders.delay(reminder_ids)
