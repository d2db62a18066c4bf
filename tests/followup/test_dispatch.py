"""The reminder outbox against a real SMTP server: exactly once, nothing lost."""

import datetime as dt
import email.policy
import re
import smtplib
import threading

import pytest
import time_machine
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django.db import DatabaseError, connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from followup import services
from followup.models import (
    CancelReason,
    DispatchRun,
    NotificationSettings,
    Reminder,
    ReminderStatus,
)
from tests.conftest import require_service
from tests.factories import UserFactory
from units.models import User


def remind(user: User, key: str = "followup:1:6", **extra) -> Reminder:
    reminder, _created = services.schedule(
        recipient=user,
        kind=extra.pop("kind", "nudge"),
        subject_key=key,
        due_on=extra.pop("due_on", dt.date(2026, 12, 1)),
        subject="Dags för uppföljning",
        body="Uppföljningen efter sex månader ska bokas.",
        **extra,
    )
    return reminder


@pytest.mark.django_db
def test_sent_once_with_a_message_id_derived_from_the_row(smtp_server, user: User) -> None:
    reminder = remind(user)
    result = services.dispatch()
    assert (result.sent, result.failed) == (1, 0)
    assert len(smtp_server.sink.messages) == 1
    message = smtp_server.sink.messages[0]
    assert message["To"] == user.email
    assert message["Message-ID"] == f"<reminder-{reminder.pk}-followup.1.6@127.0.0.1>"
    reminder.refresh_from_db()
    assert reminder.message_id == services.message_id(reminder)  # built in SQL by the claim
    assert reminder.status == ReminderStatus.SENT
    assert reminder.sent_at is not None
    assert services.dispatch().sent == 0  # nothing new
    assert len(smtp_server.sink.messages) == 1


@pytest.mark.django_db
def test_scheduling_twice_is_harmless(user: User) -> None:
    first = remind(user)
    second = remind(user)
    assert first.pk == second.pk
    assert Reminder.objects.count() == 1
    remind(user, due_on=dt.date(2027, 6, 1))  # a different due date is a different reminder
    assert Reminder.objects.count() == 2


@pytest.mark.django_db
def test_server_down_backs_off_and_sends_when_back(smtp_server, user: User) -> None:
    remind(user)
    smtp_server.stop()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert services.dispatch().retried == 1
    row = Reminder.objects.get()
    assert (row.status, row.attempts) == (ReminderStatus.PENDING, 1)
    assert row.next_attempt_at == start + dt.timedelta(minutes=2)
    assert "ConnectionRefusedError" in row.last_error
    with time_machine.travel(start + dt.timedelta(minutes=1), tick=False):
        assert services.dispatch().retried == 0  # not due yet
    with time_machine.travel(start + dt.timedelta(minutes=3), tick=False):
        services.dispatch()
    row.refresh_from_db()
    assert row.next_attempt_at == start + dt.timedelta(minutes=3) + dt.timedelta(minutes=4)
    smtp_server.start()
    with time_machine.travel(start + dt.timedelta(minutes=8), tick=False):
        assert services.dispatch().sent == 1
    assert len(smtp_server.sink.messages) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (ReminderStatus.SENT, 3, "")


@pytest.mark.django_db
def test_temporary_refusal_is_retried_and_permanent_failure_stops(smtp_server, user: User) -> None:
    remind(user, key="a")
    smtp_server.sink.refuse_with = "451 4.3.0 Try again later"
    assert services.dispatch().retried == 1
    smtp_server.sink.refuse_with = "550 5.1.1 No such user"
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        assert services.dispatch().failed == 1
    row = Reminder.objects.get()
    assert row.status == ReminderStatus.FAILED
    assert "550" in row.last_error
    smtp_server.sink.refuse_with = None
    assert services.retry(reminder=row)
    assert services.dispatch().sent == 1


@pytest.mark.django_db
def test_gives_up_after_the_attempt_limit(smtp_server, user: User) -> None:
    remind(user)
    smtp_server.stop()
    moment = timezone.now()
    for _ in range(services.MAX_ATTEMPTS):
        with time_machine.travel(moment, tick=False):
            services.dispatch()
        moment += dt.timedelta(days=1)
    row = Reminder.objects.get()
    assert (row.status, row.attempts) == (ReminderStatus.FAILED, services.MAX_ATTEMPTS)


@pytest.mark.django_db
def test_crash_between_claim_and_send_is_reported_not_resent(
    smtp_server, user: User, client
) -> None:
    remind(user)
    claimed = services._claim(timezone.now())  # the dispatcher dies right after this
    assert claimed is not None
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=20)):
        result = services.dispatch()
        assert (result.sent, result.stuck) == (0, 1)
        health = client.get("/healthz/").json()
        assert health["reminders"]["stuck"] == 1
    assert smtp_server.sink.messages == []
    assert Reminder.objects.get().status == ReminderStatus.SENDING


@pytest.mark.django_db
def test_command_and_last_dispatch(smtp_server, user: User, capsys) -> None:
    remind(user)
    call_command("dispatch_reminders")
    assert "Skickade 1," in capsys.readouterr().out
    call_command("dispatch_reminders")
    assert "Skickade 0," in capsys.readouterr().out
    run = services.last_dispatch()
    assert run is not None
    assert run.sent == 0
    assert DispatchRun.objects.filter(sent=1).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_send_every_reminder_exactly_once(smtp_server) -> None:
    if connection.vendor != "postgresql":
        require_service("needs PostgreSQL (SKIP LOCKED); set DATABASE_URL")
    users = [UserFactory.create() for _ in range(5)]
    for index in range(60):
        remind(users[index % 5], key=f"k:{index}")
    results: list[services.DispatchResult] = []

    def worker() -> None:
        try:
            results.append(services.dispatch())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(r.sent for r in results) == 60
    assert len(smtp_server.message_ids) == 60
    assert len(set(smtp_server.message_ids)) == 60
    assert Reminder.objects.filter(status=ReminderStatus.SENT).count() == 60


@pytest.mark.django_db(transaction=True)
def test_beat_task_runs_in_a_real_worker_through_the_broker(smtp_server, settings) -> None:
    """The beat entry → broker (Redis in CI) → worker → dispatcher → SMTP, end to end."""
    import time

    from celery.contrib.testing.worker import start_worker

    from jarfalla.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["dispatch-reminders"]
    assert entry["task"] == "followup.dispatch_reminders"
    remind(UserFactory.create())
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        app.send_task(entry["task"])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not smtp_server.sink.messages:
            time.sleep(0.2)
    assert len(smtp_server.sink.messages) == 1
    assert Reminder.objects.get().status == ReminderStatus.SENT


@pytest.mark.django_db
def test_one_smtp_session_serves_the_whole_sweep(smtp_server, user: User) -> None:
    for number in range(5):
        remind(user, key=f"followup:{number}:6")
    assert services.dispatch().sent == 5
    assert len(smtp_server.sink.messages) == 5
    assert smtp_server.sink.sessions == 1


@pytest.mark.django_db
def test_a_refused_message_does_not_stop_the_rest(smtp_server, user: User) -> None:
    for number in range(3):
        remind(user, key=f"followup:{number}:6")
    smtp_server.sink.refuse_with = "451 4.3.0 Try again later"
    assert services.dispatch().retried == 3
    smtp_server.sink.refuse_with = None
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        assert services.dispatch().sent == 3
    assert len(smtp_server.sink.messages) == 3


def queries_for(count: int, user: User) -> int:
    for number in range(count):
        remind(user, key=f"q{count}:{number}")
    with CaptureQueriesContext(connection) as queries:
        assert services.dispatch(limit=count).sent == count
    return len(queries)


@pytest.mark.django_db
def test_each_reminder_costs_one_statement(smtp_server, user: User) -> None:
    """The claim (with the previous SENT mark folded in on PostgreSQL) is all a reminder costs;
    it was five (BEGIN, SELECT … FOR UPDATE, UPDATE, COMMIT, UPDATE)."""
    per_reminder = (queries_for(20, user) - queries_for(10, user)) / 10
    assert per_reminder == (1 if connection.vendor == "postgresql" else 2)


@pytest.mark.django_db
def test_a_sweep_claims_in_due_order_from_where_it_left_off(user: User) -> None:
    start = timezone.now() - dt.timedelta(hours=1)
    late = remind(user, key="late", send_at=start + dt.timedelta(minutes=2, microseconds=7))
    early = remind(user, key="early", send_at=start + dt.timedelta(minutes=1, microseconds=3))
    tied = remind(user, key="tied", send_at=early.next_attempt_at)  # after early by id
    now = timezone.now()
    first = services._claim(now)
    second = services._claim(now, after=first)
    behind = remind(user, key="behind", send_at=start)  # due before where the sweep is
    third = services._claim(now, after=second)
    done = services._claim(now, after=third)
    again = services._claim(now)  # the next sweep
    claimed = [c.pk if c else None for c in (first, second, third, done, again)]
    assert claimed == [early.pk, tied.pk, late.pk, None, behind.pk]
    assert first is not None
    assert first.next_attempt_at == early.next_attempt_at


@pytest.mark.django_db(transaction=True)
def test_the_claim_passes_over_a_row_another_dispatcher_holds(user: User) -> None:
    if connection.vendor != "postgresql":
        require_service("needs PostgreSQL (SKIP LOCKED); set DATABASE_URL")
    first, second = remind(user, key="a"), remind(user, key="b")
    other = connections.create_connection("default")
    try:
        other.set_autocommit(False)
        with other.cursor() as cursor:  # another dispatcher, in the middle of its claim
            cursor.execute("SELECT id FROM followup_reminder WHERE id = %s FOR UPDATE", [first.pk])
        claimed = services._claim(timezone.now())
        assert claimed is not None
        assert claimed.pk == second.pk
        assert services._claim(timezone.now()) is None
    finally:
        other.rollback()
        other.close()
    assert Reminder.objects.get(pk=first.pk).status == ReminderStatus.PENDING


@pytest.mark.django_db
def test_a_sent_mark_is_not_lost_when_the_next_send_fails(
    smtp_server, user: User, monkeypatch
) -> None:
    first, second = remind(user, key="a"), remind(user, key="b")
    send = services._send

    def second_fails(reminder, mailer) -> None:
        if reminder.pk == second.pk:
            raise smtplib.SMTPResponseException(451, b"4.3.0 Try again later")
        send(reminder, mailer)

    monkeypatch.setattr(services, "_send", second_fails)
    result = services.dispatch()
    assert (result.sent, result.retried) == (1, 1)
    assert Reminder.objects.get(pk=first.pk).status == ReminderStatus.SENT
    assert Reminder.objects.get(pk=second.pk).status == ReminderStatus.PENDING


@pytest.mark.django_db
def test_the_last_sent_mark_is_not_lost_at_the_limit_or_on_an_error(
    smtp_server, user: User, monkeypatch
) -> None:
    first, second = remind(user, key="a"), remind(user, key="b")
    assert services.dispatch(limit=1).sent == 1  # the sweep ends with a mark still to make
    assert Reminder.objects.get(pk=first.pk).status == ReminderStatus.SENT
    claim = services._claim

    def then_the_database_fails(now, sent=None, after=None, only=()):
        if sent is not None:
            raise DatabaseError("connection lost")
        return claim(now, sent, after, only)

    monkeypatch.setattr(services, "_claim", then_the_database_fails)
    with pytest.raises(DatabaseError):
        services.dispatch()
    row = Reminder.objects.get(pk=second.pk)
    assert (row.status, len(smtp_server.sink.messages)) == (ReminderStatus.SENT, 2)
    assert row.sent_at is not None


def test_messages_are_built_as_django_builds_them() -> None:
    """The dispatcher's message class only builds its header classes once: the same bytes."""
    subject = "Påminnelse: Förskolan Björken har en uppgift i Järfällamodellen"
    body = "Hej!\n\nÖppna enhetens sida: https://example.se/units/1/\n" * 20
    headers = {"Message-ID": "<reminder-1-a.b@example.se>", "Date": "Fri, 27 Nov 2026"}
    built = []
    for cls in (EmailMultiAlternatives, services._Message):
        message = cls(subject, body, to=["Åsa Öberg <asa@example.se>"], headers=headers)
        message.attach_alternative("<p>Hej!</p>", "text/html")
        message.attach("inbjudan.ics", "BEGIN:VCALENDAR", "application/ics")
        for _ in range(2):  # the second time with the remembered classes
            raw = message.message(policy=email.policy.SMTP).as_bytes()
            built.append(re.sub(rb"={15}\d+==", b"BOUNDARY", raw))
    assert built[0] == built[2] == built[3]


def test_headers_are_parsed_and_folded_once_and_stay_right_for_each_policy() -> None:
    """Reminders share their repeated headers, and a header folded for one policy (SMTP's CRLF)
    is folded afresh for another (the default's LF)."""
    long_subject = "Påminnelse: " + "Förskolan Björken har en uppgift i Järfällamodellen " * 3

    def build(cls: type[EmailMultiAlternatives], policy: email.policy.Policy, n: int) -> bytes:
        message = cls(long_subject, f"Hej {n}!", to=["Åsa Öberg <asa@example.se>"])
        message.extra_headers = {"Message-ID": f"<reminder-{n}@example.se>", "Date": "x"}
        raw = message.message(policy=policy).as_bytes()
        return re.sub(rb"={15}\d+==", b"BOUNDARY", raw)

    for policy in (email.policy.SMTP, email.policy.default, email.policy.SMTP):
        for n in range(3):
            assert build(services._Message, policy, n) == build(EmailMultiAlternatives, policy, n)
    first = services._Message("Ämne", "Hej", to=["asa@example.se"]).message()
    second = services._Message("Ämne", "Hej då", to=["asa@example.se"]).message()
    assert first["Subject"] is second["Subject"]
    assert first["To"] is second["To"]
    assert first["Subject"].fold(policy=email.policy.SMTP).endswith("\r\n")
    assert first["Subject"].fold(policy=email.policy.default).endswith("=?utf-8?q?=C3=84mne?=\n")


def test_the_parsed_headers_kept_are_bounded() -> None:
    headers = services._HeaderClasses()
    for n in range(services._HeaderClasses.KEEP * 3):
        assert (
            str(headers("Message-ID", f"<reminder-{n}@example.se>")) == f"<reminder-{n}@example.se>"
        )
    assert 0 < len(headers._parsed) <= services._HeaderClasses.KEEP


# --- Withheld at send time: what was queued but is no longer wanted ------------------------


@pytest.mark.django_db
def test_switching_a_notification_off_after_queueing_prevents_sending(
    smtp_server, client, coordinator: User, unit_a
) -> None:
    nudge = remind(coordinator, key="web_course:1", kind="nudge", unit=unit_a)
    digest = remind(coordinator, key=f"digest:{coordinator.pk}", kind="digest")
    meeting = remind(coordinator, key="followup:x:0", kind="meeting", unit=unit_a)
    client.force_login(coordinator)
    response = client.post(
        reverse("followup:settings"), {"digest": "never", "language": "sv"}
    )  # the nudges box left unticked
    assert response.status_code == 302
    result = services.dispatch()
    assert result.sent == 1  # a meeting notice cannot be turned off
    assert smtp_server.message_ids == [f"<reminder-{meeting.pk}-followup.x.0@127.0.0.1>"]
    for withheld in (nudge, digest):
        withheld.refresh_from_db()
        assert (withheld.status, withheld.cancel_reason, withheld.attempts) == (
            ReminderStatus.CANCELLED,
            CancelReason.TURNED_OFF,
            0,
        )
        assert withheld.sent_at is None
    assert services.dispatch().sent == 0  # and never later
    assert len(smtp_server.sink.messages) == 1


@pytest.mark.django_db
def test_a_recipient_deactivated_after_queueing_is_not_mailed(smtp_server, user: User) -> None:
    withheld, kept = remind(user, key="a", kind="meeting"), remind(UserFactory.create(), key="b")
    # A bulk update (an admin action, a script) saves no model and sends no signal.
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert services.dispatch().sent == 1
    assert smtp_server.message_ids == [f"<reminder-{kept.pk}-b@127.0.0.1>"]
    withheld.refresh_from_db()
    assert (withheld.status, withheld.cancel_reason) == (
        ReminderStatus.CANCELLED,
        CancelReason.INACTIVE,
    )


@pytest.mark.django_db
def test_withheld_reminders_cost_no_more_statements(smtp_server, user: User) -> None:
    NotificationSettings.objects.create(user=user, nudges=False)
    sender = UserFactory.create()

    def queries_with_half_withheld(count: int) -> int:
        for number in range(count):
            remind(user if number % 2 else sender, key=f"w{count}:{number}")
        with CaptureQueriesContext(connection) as queries:
            result = services.dispatch(limit=count)
        assert (result.sent, result.withheld) == (count // 2, count // 2)
        return len(queries)

    per_reminder = (queries_with_half_withheld(20) - queries_with_half_withheld(10)) / 10
    assert per_reminder <= (1 if connection.vendor == "postgresql" else 2)


@pytest.mark.django_db
def test_the_outbox_page_says_why_a_reminder_was_not_sent(
    client, coordinator: User, manager_a: User, unit_a
) -> None:
    remind(manager_a, key="web_course:1", kind="nudge", unit=unit_a)
    NotificationSettings.objects.create(user=manager_a, nudges=False)
    services.dispatch()
    client.force_login(coordinator)
    url = reverse("followup:outbox", args=[unit_a.municipality_id])
    page = client.get(url, {"status": "cancelled"}).content.decode()
    assert "Avbruten" in page
    assert "Mottagaren har stängt av den här sortens utskick." in page
    assert 'href="?status=cancelled" aria-current="page"' in page
    client.cookies["django_language"] = "en"
    english = client.get(url, {"status": "cancelled"}).content.decode()
    assert "The recipient has turned this kind of mailing off." in english


# --- Training invitations go through the outbox ----------------------------------------------


def calendar_of(message) -> tuple[str, str]:
    """The METHOD and the text of a received message's calendar part."""
    part = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    return part.get_param("method"), part.get_payload(decode=True).decode()


@pytest.fixture
def training_rollout(coordinator: User, unit_a):
    from rollout import services as engine
    from rollout.models import Step

    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)
    return rollout


@pytest.mark.django_db
def test_an_smtp_outage_then_recovery_delivers_a_session_invitation_exactly_once(
    smtp_server,
    coordinator: User,
    manager_a: User,
    training_rollout,
    django_capture_on_commit_callbacks,
) -> None:
    from tests.factories import book_session
    from training import services as training

    smtp_server.stop()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        with django_capture_on_commit_callbacks(execute=True):  # the request's commit
            session = book_session(
                training_rollout, coordinator, start + dt.timedelta(days=10), place="Aulan"
            )
        # Queued with the booking, in the same transaction: the outage loses nothing.
        row = Reminder.objects.get(kind="training")
        assert (row.recipient_id, row.status) == (manager_a.pk, ReminderStatus.PENDING)
        assert row.attempts == 1  # the prompt dispatch after the commit met the outage
        assert "ConnectionRefusedError" in row.last_error
        # Queuing the same state again (a task redelivered, a repeated save) adds nothing.
        training.session_invitation_queue(session=session)
        assert Reminder.objects.filter(kind="training").count() == 1
    smtp_server.start()
    with time_machine.travel(start + dt.timedelta(minutes=3), tick=False):
        assert services.dispatch().sent == 1
        assert services.dispatch().sent == 0
    assert len(smtp_server.sink.messages) == 1
    message = smtp_server.sink.messages[0]
    assert message["To"] == manager_a.email
    assert str(message["Message-ID"]).strip() == (
        f"<reminder-{row.pk}-training.{session.uid}.0@127.0.0.1>"
    )
    assert message["List-Unsubscribe"] is None  # an invitation cannot be turned off
    method, calendar = calendar_of(message)
    assert (method, "SEQUENCE:0" in calendar) == ("REQUEST", True)
    row.refresh_from_db()
    assert (row.status, row.unit_id) == (ReminderStatus.SENT, training_rollout.unit_id)


@pytest.mark.django_db
def test_a_session_moved_before_its_invitation_went_out_sends_only_the_latest(
    smtp_server, coordinator: User, manager_a: User, training_rollout
) -> None:
    from tests.factories import book_session
    from training import services as training

    smtp_server.stop()
    start = timezone.now() + dt.timedelta(days=10)
    session = book_session(training_rollout, coordinator, start)
    training.session_reschedule(
        actor=coordinator,
        session=session,
        starts_at=start + dt.timedelta(days=1),
        duration_minutes=60,
        place="",
        video_url="",
        themes=[],
        expected_participants=5,
        leader=coordinator,
    )
    smtp_server.start()
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        assert services.dispatch().sent == 1
    assert "SEQUENCE:1" in calendar_of(smtp_server.sink.messages[0])[1]
    first = Reminder.objects.get(kind="training", subject_key=f"training:{session.uid}:0")
    assert (first.status, first.cancel_reason) == (
        ReminderStatus.CANCELLED,
        CancelReason.SUPERSEDED,
    )


@pytest.mark.django_db
def test_cancelling_reads_only_the_pending_rows_of_that_subject(user: User) -> None:
    """Booking, moving or recording a follow-up or a session cancels its queued notices by
    subject_key. The table keeps every sent reminder for years, so that must be an index lookup
    among the pending rows, not a walk through the whole unique index (it led with recipient)."""
    if connection.vendor != "postgresql":
        require_service("needs PostgreSQL (EXPLAIN); set DATABASE_URL")
    remind(user, key="session:1:0")
    pending = Reminder.objects.filter(subject_key="session:1:0", status=ReminderStatus.PENDING)
    with connection.cursor() as cursor:
        # A handful of rows: without this the planner would rightly scan the table anyway.
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = pending.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "reminder_pending_subject" in plan, plan
    assert "Index Cond: ((subject_key)::text =" in plan, plan
    assert services.cancel(subject_key="session:1:0") == 1


@pytest.mark.django_db
def test_the_command_and_the_run_count_what_was_withheld(smtp_server, user: User, capsys) -> None:
    # An operator reading the command's output or the runs must see that a due reminder was
    # not sent on purpose, not lost.
    remind(user, key="a")
    remind(UserFactory.create(), key="b")
    User.objects.filter(pk=user.pk).update(is_active=False)
    call_command("dispatch_reminders")
    out = capsys.readouterr().out
    assert "Skickade 1," in out
    assert "inte längre önskade 1." in out
    run = services.last_dispatch()
    assert run is not None
    assert (run.sent, run.withheld) == (1, 1)
