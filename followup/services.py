"""The reminder outbox: scheduling (idempotent) and the dispatcher (exactly once).

The dispatcher's rules, from DESIGN.md section 4:
- claim one row at a time (PENDING → SENDING under SELECT … FOR UPDATE SKIP LOCKED) and commit,
  so that two dispatchers never hold the same row;
- send outside any transaction, with a Message-ID derived from the row;
- mark SENT only if the row is still the one we claimed;
- a transient SMTP failure puts the row back to PENDING with exponential backoff, a permanent one
  or too many attempts makes it FAILED;
- a row left in SENDING (a crash between claim and send) is reported as stuck, never resent:
  the message may have gone out, and a duplicate is worse than a visible failure."""

import datetime as dt
import logging
import smtplib
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from followup.models import DispatchRun, Reminder, ReminderStatus
from units.models import Unit, User

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
STUCK_AFTER = dt.timedelta(minutes=15)
FIRST_RETRY = dt.timedelta(minutes=2)
STALE_AFTER = dt.timedelta(minutes=30)


def schedule(
    *,
    recipient: User,
    kind: str,
    subject_key: str,
    due_on: dt.date,
    subject: str,
    body: str,
    unit: Unit | None = None,
    send_at: dt.datetime | None = None,
    html: str = "",
    ics: str = "",
    ics_method: str = "",
) -> tuple[Reminder, bool]:
    """Create the reminder unless it already exists (same recipient, kind, subject and due date)."""
    return Reminder.objects.get_or_create(
        recipient=recipient,
        kind=kind,
        subject_key=subject_key,
        due_on=due_on,
        defaults={
            "unit": unit,
            "subject": subject[:200],
            "body": body,
            "html": html,
            "ics": ics,
            "ics_method": ics_method,
            "next_attempt_at": send_at or timezone.now(),
        },
    )


def cancel(*, subject_key: str, kinds: tuple[str, ...] | None = None) -> int:
    """Stop reminders about something that is done or has moved; sent ones stay as history."""
    pending = Reminder.objects.filter(subject_key=subject_key, status=ReminderStatus.PENDING)
    if kinds:
        pending = pending.filter(kind__in=kinds)
    return pending.update(status=ReminderStatus.CANCELLED)


def message_id(reminder: Reminder) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<reminder-{reminder.pk}-{reminder.subject_key.replace(':', '.')}@{host}>"


def backoff(attempts: int) -> dt.timedelta:
    return FIRST_RETRY * (2 ** max(attempts - 1, 0))


def _claim(now: dt.datetime) -> Reminder | None:
    with transaction.atomic():
        reminder = (
            Reminder.objects.select_for_update(skip_locked=True)
            .filter(status=ReminderStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .select_related("recipient")
            .first()
        )
        if reminder is None:
            return None
        reminder.status = ReminderStatus.SENDING
        reminder.claimed_at = now
        reminder.attempts += 1
        reminder.message_id = message_id(reminder)
        reminder.save(update_fields=["status", "claimed_at", "attempts", "message_id"])
    return reminder


UNSUBSCRIBABLE = ("digest", "nudge", "escalation")


def _send(reminder: Reminder, mailer: BaseEmailBackend) -> None:
    headers = {"Message-ID": reminder.message_id, "Auto-Submitted": "auto-generated"}
    if reminder.kind in UNSUBSCRIBABLE:
        # Notices about booked meetings cannot be turned off; digests and nudges can.
        headers["List-Unsubscribe"] = f"<{settings.SITE_URL}{reverse('followup:settings')}>"
    message = EmailMultiAlternatives(
        subject=reminder.subject, body=reminder.body, to=[reminder.recipient.email], headers=headers
    )
    if reminder.html:
        message.attach_alternative(reminder.html, "text/html")
    if reminder.ics:
        message.attach_alternative(
            reminder.ics, f"text/calendar; method={reminder.ics_method}; charset=UTF-8"
        )
        message.attach("inbjudan.ics", reminder.ics, "application/ics")
    mailer.send_messages([message])


def _transient(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    # Refused connections, timeouts and dropped sessions: the server may be back later.
    return isinstance(error, (OSError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError))


def _finish(reminder: Reminder, **changes: object) -> None:
    # Only the dispatcher that claimed the row may finish it.
    Reminder.objects.filter(
        pk=reminder.pk, status=ReminderStatus.SENDING, claimed_at=reminder.claimed_at
    ).update(**changes)


@dataclass
class DispatchResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    stuck: int = 0


def _open(mailer: BaseEmailBackend) -> None:
    try:
        mailer.open()
    except Exception:
        # The server is not there now: each message then tries on its own and the failure is
        # recorded on its row (retried later), as if the session had broken mid-sweep.
        mailer.close()


def _sweep(mailer: BaseEmailBackend, limit: int, result: DispatchResult) -> None:
    _open(mailer)
    for _ in range(limit):
        now = timezone.now()
        reminder = _claim(now)
        if reminder is None:
            break
        try:
            _send(reminder, mailer)
        except Exception as error:  # any failure is recorded on the row, never lost
            # A broken session is not reused: the next message starts a new one.
            mailer.close()
            _open(mailer)
            text = f"{type(error).__name__}: {error}"[:300]
            if _transient(error) and reminder.attempts < MAX_ATTEMPTS:
                _finish(
                    reminder,
                    status=ReminderStatus.PENDING,
                    next_attempt_at=now + backoff(reminder.attempts),
                    last_error=text,
                )
                result.retried += 1
            else:
                _finish(reminder, status=ReminderStatus.FAILED, last_error=text)
                result.failed += 1
            logger.warning("reminder %s not sent: %s", reminder.pk, text)
        else:
            _finish(reminder, status=ReminderStatus.SENT, sent_at=timezone.now(), last_error="")
            result.sent += 1


def dispatch(*, limit: int = 1000) -> DispatchResult:
    """One sweep: send what is due, at most ``limit`` rows. Safe to run in parallel."""
    run = DispatchRun.objects.create(started_at=timezone.now())
    result = DispatchResult()
    # One SMTP session for the whole sweep: a new one per message took longer than the sending.
    mailer = mailers.default
    try:
        _sweep(mailer, limit, result)
    finally:
        mailer.close()
    result.stuck = stuck_reminders().count()
    DispatchRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(),
        sent=result.sent,
        retried=result.retried,
        failed=result.failed,
        stuck=result.stuck,
    )
    return result


def stuck_reminders() -> QuerySet[Reminder]:
    return Reminder.objects.filter(
        status=ReminderStatus.SENDING, claimed_at__lt=timezone.now() - STUCK_AFTER
    )


def retry(*, reminder: Reminder) -> bool:
    """A person decided: send a failed (or stuck) reminder again."""
    # A row in SENDING may be mid-send: only one claimed long ago counts as stuck.
    stuck_since = timezone.now() - STUCK_AFTER
    return bool(
        Reminder.objects.filter(
            Q(status=ReminderStatus.FAILED)
            | Q(status=ReminderStatus.SENDING, claimed_at__lt=stuck_since),
            pk=reminder.pk,
        ).update(status=ReminderStatus.PENDING, next_attempt_at=timezone.now(), claimed_at=None)
    )


def last_dispatch() -> DispatchRun | None:
    return DispatchRun.objects.filter(finished_at__isnull=False).order_by("-finished_at").first()
