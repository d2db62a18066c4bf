"""The reminder outbox: scheduling (idempotent) and the dispatcher (exactly once).

The dispatcher's rules, from DESIGN.md section 4:
- claim one row at a time (PENDING → SENDING under SELECT … FOR UPDATE SKIP LOCKED) and commit,
  so that two dispatchers never hold the same row;
- send outside any transaction, with a Message-ID derived from the row;
- mark SENT only if the row is still the one we claimed;
- a transient SMTP failure puts the row back to PENDING with exponential backoff, a permanent one
  or too many attempts makes it FAILED;
- a row left in SENDING (a crash between claim and send) is reported as stuck, never resent:
  the message may have gone out, and a duplicate is worse than a visible failure;
- a row whose recipient was deactivated, or has turned that kind of mailing off, since it was
  queued is not sent: the claim marks it CANCELLED with the reason instead (see _WITHHELD_SQL)."""

import datetime as dt
import email.message
import email.policy
import functools
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from email.headerregistry import BaseHeader, HeaderRegistry
from email.policy import EmailPolicy, Policy
from typing import Any

from django.core.mail import EmailMultiAlternatives, mailers
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from followup.models import (
    WEEKLY_DIGEST_DAY,
    CancelReason,
    DigestFrequency,
    DispatchRun,
    NotificationSettings,
    Reminder,
    ReminderStatus,
)
from jarfalla.mail import automatic_headers, site_host, transient
from units.models import MunicipalRole, Role, Unit, UnitManager, User

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
    requeue_outdated: bool = False,
) -> tuple[Reminder, bool]:
    """Create the reminder unless it already exists (same recipient, kind, subject and due date).

    ``requeue_outdated``: a row cancelled as outdated (CancelReason.OUTDATED) is queued again,
    as new and with this content, instead of being left as it is: the thing it was about is
    waiting again with the same key and due date (a paused rollout resumed, a routine sent back
    and sent for review again in the same week), and the cancelled row was never sent."""
    content = {
        "unit": unit,
        "subject": subject[:200],
        "body": body,
        "html": html,
        "ics": ics,
        "ics_method": ics_method,
        "next_attempt_at": send_at or timezone.now(),
    }
    reminder, created = Reminder.objects.get_or_create(
        recipient=recipient, kind=kind, subject_key=subject_key, due_on=due_on, defaults=content
    )
    if (
        requeue_outdated
        and reminder.status == ReminderStatus.CANCELLED
        and reminder.cancel_reason == CancelReason.OUTDATED
    ):
        fresh = content | {
            "status": ReminderStatus.PENDING,
            "cancel_reason": "",
            "attempts": 0,
            "last_error": "",
            "claimed_at": None,
            "message_id": "",
        }
        # Conditional, like every status change of a row: only the cancelled row is revived.
        if Reminder.objects.filter(
            pk=reminder.pk, status=ReminderStatus.CANCELLED, cancel_reason=CancelReason.OUTDATED
        ).update(**fresh):
            for field, value in fresh.items():
                setattr(reminder, field, value)
            created = True
    return reminder, created


def cancel(
    *,
    subject_key: str,
    kinds: tuple[str, ...] | None = None,
    reason: CancelReason = CancelReason.OUTDATED,
    due_before: dt.date | None = None,
) -> int:
    """Stop reminders about something that is done or has moved; sent ones stay as history.
    ``due_before``: only those due before that day (replaced by a newer one)."""
    pending = Reminder.objects.filter(subject_key=subject_key, status=ReminderStatus.PENDING)
    if kinds:
        pending = pending.filter(kind__in=kinds)
    if due_before is not None:
        pending = pending.filter(due_on__lt=due_before)
    return pending.update(status=ReminderStatus.CANCELLED, cancel_reason=reason)


def cancel_all_but(
    *,
    kinds: tuple[str, ...],
    key_prefixes: tuple[str, ...],
    keep: Collection[str],
    reason: CancelReason = CancelReason.OUTDATED,
) -> int:
    """Stop the pending reminders of ``kinds`` whose subject (a key starting with one of
    ``key_prefixes``) is not in ``keep``: what a sweep derives from the state of the work and
    that the state no longer calls for. Two statements however many rows: pending rows are
    normally few (they are sent within minutes, unless the mail server is down), so they are
    read and compared here rather than sending the database every key still wanted."""
    outdated = [
        pk
        for pk, key in Reminder.objects.filter(
            status=ReminderStatus.PENDING, kind__in=kinds
        ).values_list("pk", "subject_key")
        if key.startswith(key_prefixes) and key not in keep
    ]
    if not outdated:
        return 0
    # Still PENDING: a row claimed since it was read is the dispatcher's now.
    return Reminder.objects.filter(pk__in=outdated, status=ReminderStatus.PENDING).update(
        status=ReminderStatus.CANCELLED, cancel_reason=reason
    )


def cancel_withdrawn(*, user: User) -> int:
    """Stop the person's pending reminders that they are no longer responsible for: all of them
    once the account is deactivated, else those about units they neither manage nor coordinate
    (and the digest once they coordinate nowhere). A meeting notice or a reminder two days
    before a follow-up may wait for months; the dispatcher does not look again (its claim is
    one statement on the hot path), so a person who left would still be mailed about the unit."""
    pending = Reminder.objects.filter(recipient=user, status=ReminderStatus.PENDING)
    if user.is_active:
        coordinated = MunicipalRole.objects.filter(user=user, role=Role.COORDINATOR).values(
            "municipality_id"
        )
        managed = UnitManager.objects.filter(user=user).values("unit_id")
        responsible = (
            Q(unit_id__in=managed)
            | Q(unit__municipality_id__in=coordinated)
            | Q(unit__isnull=True, recipient__municipal_roles__role=Role.COORDINATOR)
        )
        pending = pending.exclude(pk__in=pending.filter(responsible).values("pk"))
    reason = CancelReason.WITHDRAWN if user.is_active else CancelReason.INACTIVE
    return pending.update(status=ReminderStatus.CANCELLED, cancel_reason=reason)


def _waiting_about_archived_unit(unit: Unit) -> QuerySet[Reminder]:
    """The mail still waiting to go out about a unit that archiving it stops: nudges,
    escalations and the notices two days before a follow-up, which the sweep does not make for
    an archived unit either. The dispatcher does not look at the unit (its claim is one
    statement on the hot path), so without this a row in backoff would still go out.

    Calendar messages (those with a calendar file) are left to go out: they carry a booking or
    its cancellation, and the booking stands until someone cancels it (archiving is undone in
    one click, a cancelled meeting is not); a cancellation withheld would leave the meeting in
    the managers' calendars."""
    return Reminder.objects.filter(unit=unit, status=ReminderStatus.PENDING, ics="")


def waiting_about_archived_unit(unit: Unit) -> int:
    """How many archiving the unit would stop (units.archiving)."""
    return _waiting_about_archived_unit(unit).count()


def cancel_about_archived_unit(unit: Unit, actor: User | None = None) -> int:
    """Stop them, as outdated: the work they were about is not waiting any more, and should the
    unit be restored the sweep queues again what it still calls for (schedule's
    requeue_outdated). A row claimed meanwhile is the dispatcher's (still PENDING here)."""
    return _waiting_about_archived_unit(unit).update(
        status=ReminderStatus.CANCELLED, cancel_reason=CancelReason.OUTDATED
    )


@transaction.atomic
def notification_settings_save(
    *, user: User, nudges: bool, language: str, digest: str | None = None
) -> NotificationSettings:
    """Save the person's choices (``digest`` None: not asked, kept as it is), and stop the
    digests already queued that the new frequency would not have produced: on other days than
    Monday for a weekly digest, every one for none (the dispatcher's claim withholds those too,
    for settings written elsewhere, but only when it reaches them; the outbox page shows them
    cancelled at once). Turning nudges off needs nothing here: the claim withholds the nudges
    and escalations of a person who has (_WITHHELD_SQL). It does not look at the day a digest
    was for, hence the weekly case here."""
    values: dict[str, object] = {"nudges": nudges, "language": language}
    if digest is not None:
        values["digest"] = digest
    prefs, _created = NotificationSettings.objects.update_or_create(user=user, defaults=values)
    if prefs.digest != DigestFrequency.DAILY:
        unwanted = Reminder.objects.filter(
            recipient=user, kind="digest", status=ReminderStatus.PENDING
        )
        if prefs.digest == DigestFrequency.WEEKLY:
            unwanted = unwanted.exclude(due_on__iso_week_day=WEEKLY_DIGEST_DAY)
        unwanted.update(status=ReminderStatus.CANCELLED, cancel_reason=CancelReason.TURNED_OFF)
    return prefs


def message_id(reminder: Reminder) -> str:
    # _CLAIM_SQL builds the same in SQL.
    return f"<reminder-{reminder.pk}-{reminder.subject_key.replace(':', '.')}@{site_host()}>"


def backoff(attempts: int) -> dt.timedelta:
    return FIRST_RETRY * (2 ** max(attempts - 1, 0))


# Each reminder costs one statement in autocommit, one round trip and one commit (it was five
# statements and two commits, and on PostgreSQL every commit waits for its WAL flush):
# - The claim is a single UPDATE that commits itself before the send. Its subquery picks the
#   oldest due row in the claim index's order; on PostgreSQL FOR UPDATE SKIP LOCKED passes over
#   a row another dispatcher is claiming, and one it has claimed and committed fails the re-check
#   of status. SQLite has no row locks and needs none: it runs one writer at a time and the
#   statement is atomic. The Message-ID is built in SQL exactly as message_id() builds it (a
#   test holds them equal); the recipient's current address comes back with the row.
# - On PostgreSQL the claim also marks the previous reminder SENT (a data-modifying CTE), so that
#   mark is committed before the next send starts; _sweep marks the last one on its own, also
#   when it stops on an error. SQLite has no such CTEs: there the mark is a statement of its own.
#
# - The recipient is looked at in the same statement, just before the send: a row whose recipient
#   was deactivated since it was queued, or has turned that kind of mailing off on the settings
#   page (digests, nudges and escalations; meeting notices and invitations cannot be), is claimed
#   as CANCELLED with the reason (_WITHHELD_SQL) and not sent. The receivers cancel most such rows
#   when the change happens, but not a settings change or a bulk update, and a row may wait for
#   months or in backoff. No statement of its own: the claim goes on to the next row.
#
# The statuses are written out (ReminderStatus values) so that the claim index, which holds only
# pending rows, serves the subquery: SQLite does not match a bound parameter to its condition.
_CLAIM_SQL = """
UPDATE {reminder}
SET (status, cancel_reason, attempts) = (
        SELECT CASE w.reason WHEN '' THEN 'sending' ELSE 'cancelled' END, w.reason,
            {reminder}.attempts + CASE w.reason WHEN '' THEN 1 ELSE 0 END
        FROM {withheld} w
    ),
    claimed_at = %s,
    message_id = '<reminder-' || id || '-' || replace(subject_key, ':', '.') || '@' || %s || '>'
WHERE status = 'pending' AND id = (
    SELECT id FROM {reminder} WHERE status = 'pending' AND next_attempt_at <= %s{after}{only}
    ORDER BY next_attempt_at, id LIMIT 1{lock}
)
RETURNING id, recipient_id, kind, subject_key, subject, body, html, ics, ics_method, attempts,
    message_id, status, cancel_reason, next_attempt_at,
    (SELECT email FROM {user} WHERE {user}.id = recipient_id)
"""
# The reason the row is withheld, '' when it is to be sent (CancelReason values, written out;
# the kinds are those in UNSUBSCRIBABLE). One row of the user and their settings, by key, read
# once per claim: the row assignment above sets the three columns from it. Always exactly one
# row: were the recipient's row unreadable (deleted in a transaction whose deferred foreign
# keys are not checked yet), a row assignment from no rows would set the status to NULL, and
# the failing claim would stop every sweep at that row; it is withheld as inactive instead.
_WITHHELD_SQL = """(
    SELECT COALESCE((
        SELECT CASE
            WHEN NOT u.is_active THEN 'inactive'
            WHEN {reminder}.kind IN ('nudge', 'escalation') AND NOT s.nudges THEN 'turned_off'
            WHEN {reminder}.kind = 'digest' AND s.digest = 'never' THEN 'turned_off'
            ELSE '' END
        FROM {user} u LEFT JOIN {settings} s ON s.user_id = u.id
        WHERE u.id = {reminder}.recipient_id
    ), 'inactive') AS reason
)"""
# The columns RETURNING lists, before next_attempt_at and the email.
_CLAIMED = (
    "id recipient_id kind subject_key subject body html ics ics_method attempts message_id "
    "status cancel_reason"
)
# Within a sweep the next claim starts where the last one was found: the index still holds an
# entry for every row claimed since the last VACUUM, and walking past them from the start made
# each claim slower than the one before. A row that becomes due behind that point during the
# sweep (scheduled for a time already passed, or let go by another transaction that held it)
# waits for the next sweep.
_AFTER_SQL = " AND (next_attempt_at, id) > (%s, %s)"
# Only the dispatcher that claimed the row may finish it (see _finish).
_SENT_SQL = """
UPDATE {reminder} SET status = 'sent', sent_at = %s, last_error = ''
WHERE id = %s AND status = 'sending' AND claimed_at = %s
"""


def _sent_params(reminder: Reminder) -> list[Any]:
    adapt = connection.ops.adapt_datetimefield_value  # SQLite compares datetimes as text
    return [adapt(reminder.sent_at), reminder.pk, adapt(reminder.claimed_at)]


def _mark_sent(reminder: Reminder) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_SENT_SQL.format(reminder=Reminder._meta.db_table), _sent_params(reminder))


def _claim(
    now: dt.datetime,
    sent: Reminder | None = None,
    after: Reminder | None = None,
    only: Sequence[int] = (),
) -> Reminder | None:
    """Claim the next due reminder (the next after ``after`` in the claim order; one of ``only``
    when it is given), after marking ``sent`` (sent, not yet marked) SENT."""
    table = Reminder._meta.db_table
    postgresql = connection.vendor == "postgresql"
    lock = " FOR UPDATE SKIP LOCKED" if postgresql else ""
    adapt = connection.ops.adapt_datetimefield_value
    at = adapt(now)
    params: list[Any] = [at, site_host(), at]
    if after is not None:
        params += [adapt(after.next_attempt_at), after.pk]
    params += only
    names = {
        "reminder": table,
        "user": User._meta.db_table,
        "settings": NotificationSettings._meta.db_table,
    }
    sql = _CLAIM_SQL.format(
        withheld=_WITHHELD_SQL.format(**names),
        lock=lock,
        after=_AFTER_SQL if after else "",
        only=f" AND id IN ({', '.join(['%s'] * len(only))})" if only else "",
        **names,
    )
    if sent is not None and postgresql:
        sql = f"WITH sent AS ({_SENT_SQL.format(reminder=table)}) {sql}"
        params = [*_sent_params(sent), *params]
    elif sent is not None:
        _mark_sent(sent)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    *fields, due, address = row
    if timezone.is_naive(due):  # SQLite stores UTC without the offset
        due = timezone.make_aware(due, connection.timezone)
    reminder = Reminder(
        **dict(zip(_CLAIMED.split(), fields, strict=True)), next_attempt_at=due, claimed_at=now
    )
    reminder.recipient = User(pk=reminder.recipient_id, email=address)
    return reminder


class _FoldedOnce(BaseHeader):
    """A header that remembers how it folds under each policy (the folding is a pure function
    of the header and the policy, and the dearest step of writing a message out)."""

    def fold(self, *, policy: Policy) -> str:
        # Keyed by the policy itself, not its id(): a kept key keeps its policy alive.
        folded: dict[Policy, str] = self.__dict__.setdefault("_folded", {})
        if policy not in folded:
            folded[policy] = super().fold(policy=policy)
        return folded[policy]


class _HeaderClasses(HeaderRegistry):
    """The email package's header factory, but doing each piece of work once:

    - it builds each header's class once (the stock factory builds a new class for every header
      of every message, a third of the time it took to build a reminder);
    - it parses each (name, value) once while it is among the last few hundred: most of a
      reminder's headers (From, MIME-Version, the parts' Content-Type and -Transfer-Encoding,
      Auto-Submitted, List-Unsubscribe) are the same in every message, and the recipients repeat;
    - each header folds once per policy (_FoldedOnce).

    Header objects are immutable (the email package replaces a header, never changes one), so
    messages can share them; the bytes are the same as Django's."""

    KEEP = 512

    def __init__(self) -> None:
        super().__init__(base_class=_FoldedOnce)
        self._classes: dict[str, type[BaseHeader]] = {}
        self._parsed: dict[tuple[str, str], BaseHeader] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        if key not in self._classes:
            self._classes[key] = super().__getitem__(name)
        return self._classes[key]

    def __call__(self, name: str, value: str) -> BaseHeader:
        if type(value) is not str:  # a header object or an email.header.Header: as before
            return super().__call__(name, value)
        key = (name, value)
        header = self._parsed.get(key)
        if header is None:
            if len(self._parsed) >= self.KEEP:  # the unique ones (Message-ID, Date) pass through
                self._parsed.clear()
            header = self._parsed[key] = super().__call__(name, value)
        return header


@functools.cache
def _with_header_classes(policy: EmailPolicy) -> EmailPolicy:
    return policy.clone(header_factory=_HeaderClasses())


class _Message(EmailMultiAlternatives):
    def message(self, *, policy: Policy | None = None) -> email.message.EmailMessage:
        policy = policy or email.policy.default  # the SMTP backend passes email.policy.SMTP
        if isinstance(policy, EmailPolicy):
            policy = _with_header_classes(policy)
        return super().message(policy=policy)


UNSUBSCRIBABLE = ("digest", "nudge", "escalation")


def _send(reminder: Reminder, mailer: BaseEmailBackend) -> None:
    # Notices about booked meetings cannot be turned off; digests and nudges can.
    headers = {
        "Message-ID": reminder.message_id,
        **automatic_headers(unsubscribe=reminder.kind in UNSUBSCRIBABLE),
    }
    message = _Message(
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
    withheld: int = 0  # cancelled by the claim: not wanted any more (CancelReason)


def _open(mailer: BaseEmailBackend) -> None:
    try:
        mailer.open()
    except Exception:
        # The server is not there now: each message then tries on its own and the failure is
        # recorded on its row (retried later), as if the session had broken mid-sweep.
        mailer.close()


def _sweep(
    mailer: BaseEmailBackend, limit: int, result: DispatchResult, only: Sequence[int]
) -> None:
    sent: Reminder | None = None  # sent, not yet marked SENT: the next claim marks it
    reminder = None
    opened = False
    try:
        for _ in range(limit):
            now = timezone.now()
            reminder = _claim(now, sent, after=reminder, only=only)
            sent = None
            if reminder is None:
                break
            if reminder.status == ReminderStatus.CANCELLED:
                result.withheld += 1
                continue
            if not opened:
                # Opened only when there is something to send: the file backend (the embedded
                # default) writes a new, empty file into var/mail/ for every session it opens.
                _open(mailer)
                opened = True
            try:
                _send(reminder, mailer)
            except Exception as error:  # any failure is recorded on the row, never lost
                # A broken session is not reused: the next message starts a new one.
                mailer.close()
                _open(mailer)
                text = f"{type(error).__name__}: {error}"[:300]
                if transient(error) and reminder.attempts < MAX_ATTEMPTS:
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
                reminder.sent_at = timezone.now()
                sent = reminder
                result.sent += 1
    finally:
        # The limit was reached, or a claim or the bookkeeping failed: mark the last one now.
        if sent is not None:
            _mark_sent(sent)


def dispatch(*, limit: int = 1000, only: Sequence[int] = ()) -> DispatchResult:
    """One sweep: send what is due, at most ``limit`` rows (of ``only``, when given: the rows a
    change has just queued, without the rest of the outbox, which the sweep has not looked at
    since). Safe to run in parallel."""
    run = DispatchRun.objects.create(started_at=timezone.now())
    result = DispatchResult()
    # One SMTP session for the whole sweep: a new one per message took longer than the sending.
    mailer = mailers.default
    try:
        _sweep(mailer, limit, result, only)
    finally:
        mailer.close()
    result.stuck = stuck_reminders().count()
    DispatchRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(),
        sent=result.sent,
        retried=result.retried,
        failed=result.failed,
        stuck=result.stuck,
        withheld=result.withheld,
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
