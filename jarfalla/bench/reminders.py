"""The reminder sweep at scale: the outbox dispatcher against SMTP alone.

20,000 PENDING reminders due now go in with bulk_create. The reference sends the same 20,000
messages (same headers, body, HTML and Message-ID as the dispatcher builds) straight to the sink
over one SMTP connection in a loop; then the dispatcher (``followup.services.dispatch``, the
service ``manage.py dispatch_reminders`` and the beat task call) sends them, claiming, sending and
finishing one row at a time. Both run in this process against the same sink, and each is
complete only when the sink has counted every message. Queries per reminder are counted in
separate small runs (counting every query would slow the timed run down)."""

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from followup import services as outbox
from followup.models import Reminder, ReminderStatus
from jarfalla.bench.scenarios import REMINDERS_QUERY_SAMPLES
from jarfalla.mail import automatic_headers
from units.models import User

RECIPIENTS = 200
KIND = "nudge"
SUBJECT = "Påminnelse: {unit} har en uppgift i Järfällamodellen"
BODY = (
    "Hej!\n\n"
    "Enheten {unit} har något att göra i Järfällamodellen: rapportera hur många i personalen\n"
    "som har gått Webbkurs Heder sedan förra rapporten, eller bekräfta att inget nytt har hänt.\n\n"
    "Öppna enhetens sida: {link}\n\n"
    "Du får det här meddelandet eftersom du är chef för enheten. Du kan ändra dina aviseringar\n"
    "på {settings_link}.\n\n"
    "Vänliga hälsningar\nHederssamordnaren\n"
)
HTML = (
    "<!doctype html><html lang='sv'><body><p>Hej!</p><p>Enheten <strong>{unit}</strong> har "
    "något att göra i Järfällamodellen: rapportera hur många i personalen som har gått Webbkurs "
    "Heder sedan förra rapporten, eller bekräfta att inget nytt har hänt.</p>"
    "<p><a href='{link}'>Öppna enhetens sida</a></p><p>Du får det här meddelandet eftersom du "
    "är chef för enheten. <a href='{settings_link}'>Ändra dina aviseringar</a>.</p>"
    "<p>Vänliga hälsningar<br>Hederssamordnaren</p></body></html>"
)


# One dispatcher call sends at most this many (the beat task and `manage.py dispatch_reminders`
# use 1000); the bench calls it again until all are sent, and checks the clock in between.
DISPATCH_LIMIT = 250
# Stop early when, after this many, the dispatcher is on course for more than twice its target.
PROJECT_AFTER = 1000


@dataclass
class SweepTimes:
    count: int
    direct_s: float
    dispatch_s: float
    queries_per_reminder: dict[int, float]
    sent: int
    failed: int
    # Set when the dispatcher was stopped once it had certainly missed its target.
    stopped_after: int | None = None
    # Whether the database was checkpointed before the timed part (see checkpoint()).
    checkpointed: bool = False

    @property
    def dispatch_estimate_s(self) -> float:
        """The dispatcher's time for all ``count`` (extrapolated when it was stopped early)."""
        if self.stopped_after and self.sent:
            return self.dispatch_s * self.count / self.sent
        return self.dispatch_s


def recipients() -> list[User]:
    emails = [f"mottagare-{n:03}@bench.invalid" for n in range(RECIPIENTS)]
    unusable = make_password(None)
    User.objects.bulk_create(
        [User(email=email, first_name="Mottagare", password=unusable) for email in emails],
        ignore_conflicts=True,
    )
    return list(User.objects.filter(email__in=emails).order_by("pk"))


def create_due(tag: str, count: int, people: list[User]) -> None:
    """``count`` PENDING reminders due now, keyed bench:<tag>:<n> (unique per run).

    Due one millisecond apart, in order, as rows the sweep writes one by one would be; and the
    table analysed afterwards, as autovacuum would after so many inserts."""
    now = timezone.now() - dt.timedelta(milliseconds=count)
    today = timezone.localdate()
    settings_link = settings.SITE_URL + reverse("followup:settings")
    rows = []
    for n in range(count):
        unit = f"Förskolan Björken {n}"
        link = f"{settings.SITE_URL}/units/{n}/"
        rows.append(
            Reminder(
                recipient=people[n % len(people)],
                kind=KIND,
                subject_key=f"bench:{tag}:{n}",
                due_on=today,
                subject=SUBJECT.format(unit=unit),
                body=BODY.format(unit=unit, link=link, settings_link=settings_link),
                html=HTML.format(unit=unit, link=link, settings_link=settings_link),
                next_attempt_at=now + dt.timedelta(milliseconds=n),
            )
        )
    Reminder.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Reminder._meta.db_table}")


def message_for(reminder: Reminder) -> EmailMultiAlternatives:
    """The message the dispatcher builds for this row (followup.services._send)."""
    headers = {
        "Message-ID": outbox.message_id(reminder),
        **automatic_headers(unsubscribe=reminder.kind in outbox.UNSUBSCRIBABLE),
    }
    message = EmailMultiAlternatives(
        subject=reminder.subject, body=reminder.body, to=[reminder.recipient.email], headers=headers
    )
    if reminder.html:
        message.attach_alternative(reminder.html, "text/html")
    return message


def checkpoint() -> bool:
    """Write every dirty page to disk, and start PostgreSQL's checkpoint timer (5 minutes by
    default) afresh, so that no checkpoint lands in the timed sweep. Needs a superuser or the
    pg_checkpoint role; without them the sweep runs anyway (and says so)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError:
        return False
    return True


def pending() -> int:
    return Reminder.objects.filter(status=ReminderStatus.PENDING).count()


def run(
    count: int,
    *,
    sink_count: Callable[[], int],
    wait: Callable[[int], None],
    give_up_ratio: float,
) -> SweepTimes:
    """``sink_count()`` reads the sink's counter; ``wait(n)`` blocks until it has reached n.

    The dispatcher is stopped, and its time for all ``count`` extrapolated, once the target is
    certainly missed (it has taken ``give_up_ratio`` times the direct sending's time with
    reminders left) or clearly out of reach (after PROJECT_AFTER reminders it is on course for
    twice that): the rest would only make the bench slow."""
    if pending():
        raise RuntimeError("the bench database already has pending reminders; start afresh")
    people = recipients()
    # Keys unique per run: with --reuse-data the rows of an earlier run are still there.
    run_tag = timezone.now().strftime("%Y%m%dT%H%M%S")

    per_reminder: dict[int, float] = {}
    before = sink_count()
    sample_sent = 0
    for sample in REMINDERS_QUERY_SAMPLES:
        create_due(f"{run_tag}-queries-{sample}", sample, people)
        with CaptureQueriesContext(connection) as queries:
            sample_sent += outbox.dispatch(limit=sample).sent
        per_reminder[sample] = len(queries) / sample
    wait(before + sample_sent)

    # The seeding's writes go to disk now: PostgreSQL's timed checkpoint otherwise fell in the
    # middle of the dispatcher's run and wrote them back (some 300 MB) while it was timed.
    checkpointed = checkpoint()
    create_due(f"{run_tag}-timed", count, people)
    rows = list(
        Reminder.objects.filter(subject_key__startswith=f"bench:{run_tag}-timed:").select_related(
            "recipient"
        )
    )
    before = sink_count()
    started = time.perf_counter()
    with mailers.default as smtp:
        for reminder in rows:
            smtp.send_messages([message_for(reminder)])
    wait(before + count)
    direct = time.perf_counter() - started

    before = sink_count()
    sent = failed = 0
    stopped_after = None
    started = time.perf_counter()
    while sent + failed < count:
        result = outbox.dispatch(limit=min(DISPATCH_LIMIT, count - sent - failed))
        sent += result.sent
        failed += result.failed + result.retried
        if not (result.sent or result.failed or result.retried):
            break
        elapsed = time.perf_counter() - started
        projected = elapsed * count / (sent + failed)
        if sent + failed < count and (
            elapsed > give_up_ratio * direct
            or (sent + failed >= PROJECT_AFTER and projected > 2 * give_up_ratio * direct)
        ):
            stopped_after = sent + failed
            break
    wait(before + sent)
    dispatched = time.perf_counter() - started
    # What a stopped dispatcher left would make the next --reuse-data run refuse to start.
    Reminder.objects.filter(
        subject_key__startswith=f"bench:{run_tag}-", status=ReminderStatus.PENDING
    ).update(status=ReminderStatus.CANCELLED)
    return SweepTimes(
        count=count,
        direct_s=direct,
        dispatch_s=dispatched,
        queries_per_reminder=per_reminder,
        sent=sent,
        failed=failed,
        stopped_after=stopped_after,
        checkpointed=checkpointed,
    )
