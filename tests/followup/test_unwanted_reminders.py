"""Reminders that are no longer wanted are not sent, even when they sat in backoff meanwhile:
nudges and escalations about work done since, digests replaced by a newer one, and digests that
the person's new setting would not have produced."""

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from followup import followups, sweep
from followup import services as outbox
from followup.models import CancelReason, FollowUp, NotificationSettings, Reminder, ReminderStatus
from followup.tasks import send_due_reminders
from rollout import services as engine
from rollout.models import Rollout, Step
from routines import services as routines
from routines.models import Routine
from tests.factories import UnitFactory, book_session
from tests.followup.test_followups import implement
from training import services as training
from units import services as unit_services
from units.models import Unit, User

STOCKHOLM = ZoneInfo("Europe/Stockholm")
REFUSE = "451 4.3.0 Try again later"


def at(day: dt.date, hour: int = 8, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=STOCKHOLM)


def run_at(moment: dt.datetime) -> outbox.DispatchResult:
    with time_machine.travel(moment, tick=False):
        return sweep.run()


def received_by(smtp_server, user: User) -> list:
    return [m for m in smtp_server.sink.messages if m["To"] == user.email]


START = at(dt.date(2026, 10, 1))  # a Thursday
NUDGED = START + dt.timedelta(days=15)  # the web course nudge is due
LATER = NUDGED + dt.timedelta(minutes=10)  # past the first retry's backoff


def _nudge_in_backoff(smtp_server, coordinator: User, unit: Unit) -> tuple[Rollout, Reminder]:
    """A rollout whose web course nudge was queued while the work was waiting, and whose first
    attempt was refused by the mail server: it is PENDING again, waiting for its retry."""
    with time_machine.travel(START, tick=False):
        rollout = engine.rollout_start(actor=coordinator, unit=unit)
    smtp_server.sink.refuse_with = REFUSE
    run_at(NUDGED)
    nudge = Reminder.objects.get(kind="nudge", subject_key=f"web_course:{rollout.pk}")
    assert (nudge.status, nudge.attempts) == (ReminderStatus.PENDING, 1)
    smtp_server.sink.refuse_with = None
    return rollout, nudge


def _report(rollout: Rollout, manager: User, coordinator: User) -> None:
    training.web_course_report(
        actor=manager,
        unit_id=rollout.unit_id,
        reported_on=NUDGED.date(),
        completed_count=8,
        mode="groups",
        group_sessions=2,
        knowledge_level=3,
        reflections="",
    )


def _complete_step(rollout: Rollout, manager: User, coordinator: User) -> None:
    engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)


def _pause(rollout: Rollout, manager: User, coordinator: User) -> None:
    engine.rollout_pause(actor=coordinator, rollout=rollout, reason="Omorganisation")


def _archive(rollout: Rollout, manager: User, coordinator: User) -> None:
    unit_services.unit_set_archived(actor=coordinator, unit=rollout.unit, archived=True)


def _check_in(rollout: Rollout, manager: User, coordinator: User) -> None:
    engine.checkin_nothing_new(actor=manager, rollout=rollout)


WORK = pytest.mark.parametrize(
    "done",
    [_report, _complete_step, _pause, _archive, _check_in],
    ids=["reported", "step-completed", "paused", "archived", "checked-in"],
)


@pytest.mark.django_db
@WORK
def test_a_nudge_in_backoff_is_not_sent_about_work_done_since(
    smtp_server,
    coordinator: User,
    manager_a: User,
    unit_a: Unit,
    done: Callable[[Rollout, User, User], None],
) -> None:
    rollout, nudge = _nudge_in_backoff(smtp_server, coordinator, unit_a)
    with time_machine.travel(NUDGED + dt.timedelta(minutes=1), tick=False):
        done(rollout, manager_a, coordinator)
    run_at(LATER)
    assert received_by(smtp_server, manager_a) == []
    nudge.refresh_from_db()
    assert (nudge.status, nudge.cancel_reason) == (ReminderStatus.CANCELLED, CancelReason.OUTDATED)
    assert nudge.sent_at is None
    run_at(LATER + dt.timedelta(hours=2))  # and never later
    assert received_by(smtp_server, manager_a) == []


@pytest.mark.django_db
def test_a_nudge_in_backoff_about_work_still_waiting_is_sent(
    smtp_server, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    _rollout, nudge = _nudge_in_backoff(smtp_server, coordinator, unit_a)
    run_at(LATER)
    [message] = received_by(smtp_server, manager_a)
    assert (
        message["Message-ID"]
        == f"<reminder-{nudge.pk}-{nudge.subject_key.replace(':', '.')}@127.0.0.1>"
    )
    nudge.refresh_from_db()
    assert (nudge.status, nudge.cancel_reason, nudge.attempts) == (ReminderStatus.SENT, "", 2)


@pytest.mark.django_db
def test_a_nudge_queued_under_another_rule_is_kept_while_the_work_waits(
    smtp_server, coordinator: User, manager_a: User, unit_a: Unit, monkeypatch
) -> None:
    """Whether the work still waits decides, not whether the sweep would nudge about it now:
    a nudge queued when the rule said two weeks is still wanted when the rule says three."""
    _rollout, nudge = _nudge_in_backoff(smtp_server, coordinator, unit_a)
    monkeypatch.setattr(sweep, "NUDGE_AFTER", dt.timedelta(days=21))
    run_at(LATER)
    assert len(received_by(smtp_server, manager_a)) == 1
    nudge.refresh_from_db()
    assert nudge.status == ReminderStatus.SENT


@pytest.mark.django_db
def test_a_nudge_withheld_while_paused_is_sent_once_the_rollout_resumes(
    smtp_server, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    rollout, nudge = _nudge_in_backoff(smtp_server, coordinator, unit_a)
    with time_machine.travel(NUDGED + dt.timedelta(minutes=1), tick=False):
        engine.rollout_pause(actor=coordinator, rollout=rollout, reason="Ny chef")
    run_at(LATER)
    nudge.refresh_from_db()
    assert nudge.status == ReminderStatus.CANCELLED
    with time_machine.travel(LATER + dt.timedelta(days=3), tick=False):
        engine.rollout_resume(actor=coordinator, rollout=rollout)
    # The web course still waits and its manager was never reminded: the nudge goes out now.
    run_at(LATER + dt.timedelta(days=3, minutes=5))
    assert len(received_by(smtp_server, manager_a)) == 1
    nudge.refresh_from_db()
    assert (nudge.status, nudge.cancel_reason) == (ReminderStatus.SENT, "")


@pytest.mark.django_db
def test_an_escalation_in_backoff_is_not_sent_once_the_unit_has_reported(
    smtp_server, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    with time_machine.travel(START, tick=False):
        rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    run_at(NUDGED)
    assert len(received_by(smtp_server, manager_a)) == 1
    smtp_server.sink.refuse_with = REFUSE
    ignored = NUDGED + dt.timedelta(days=8)
    run_at(ignored)
    escalation = Reminder.objects.get(kind="escalation", recipient=coordinator)
    assert escalation.status == ReminderStatus.PENDING
    smtp_server.sink.refuse_with = None
    with time_machine.travel(ignored + dt.timedelta(minutes=1), tick=False):
        _report(rollout, manager_a, coordinator)
    run_at(ignored + dt.timedelta(minutes=10))
    assert [m for m in received_by(smtp_server, coordinator) if "Obesvarad" in m["Subject"]] == []
    escalation.refresh_from_db()
    assert (escalation.status, escalation.cancel_reason) == (
        ReminderStatus.CANCELLED,
        CancelReason.OUTDATED,
    )


MONDAY = dt.date(2026, 10, 5)


def _routine_in_review(coordinator: User, unit: Unit) -> Routine:
    with time_machine.travel(at(MONDAY, 7), tick=False):
        rollout = engine.rollout_start(actor=coordinator, unit=unit)
        for step in (Step.WEB_COURSE, Step.TRAINING):
            engine.step_complete(actor=coordinator, rollout=rollout, step=step)
        routine = routines.routine_start(actor=coordinator, rollout=rollout)
        return routines.routine_send_for_review(actor=coordinator, routine=routine)


@pytest.mark.django_db
def test_a_routine_review_nudge_in_backoff_is_not_sent_once_the_manager_approved(
    smtp_server, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    routine = _routine_in_review(coordinator, unit_a)
    smtp_server.sink.refuse_with = REFUSE
    run_at(at(MONDAY))
    nudge = Reminder.objects.get(kind="nudge", recipient=manager_a)
    assert nudge.subject_key == f"routine-review:{routine.rollout_id}"
    smtp_server.sink.refuse_with = None
    with time_machine.travel(at(MONDAY, 8, 1), tick=False):
        routines.routine_approve(actor=manager_a, routine=routine, version=1, as_coordinator=False)
    run_at(at(MONDAY, 8, 10))
    assert received_by(smtp_server, manager_a) == []
    nudge.refresh_from_db()
    assert (nudge.status, nudge.cancel_reason) == (ReminderStatus.CANCELLED, CancelReason.OUTDATED)


@pytest.mark.django_db
def test_a_routine_sent_back_and_for_review_again_the_same_week_is_nudged_about_once(
    smtp_server, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    """The second round reuses the key and the week's due date of the nudge cancelled when the
    routine was sent back: that nudge is queued again rather than lost for the week."""
    routine = _routine_in_review(coordinator, unit_a)
    smtp_server.sink.refuse_with = REFUSE
    run_at(at(MONDAY))
    smtp_server.sink.refuse_with = None
    with time_machine.travel(at(MONDAY, 8, 1), tick=False):
        routines.routine_send_back(actor=coordinator, routine=routine, comment="Kortare, tack.")
    run_at(at(MONDAY, 8, 10))
    nudge = Reminder.objects.get(kind="nudge", recipient=manager_a)
    assert nudge.status == ReminderStatus.CANCELLED
    assert received_by(smtp_server, manager_a) == []
    with time_machine.travel(at(MONDAY + dt.timedelta(days=2)), tick=False):
        routines.routine_send_for_review(
            actor=coordinator, routine=Routine.objects.get(pk=routine.pk)
        )
    run_at(at(MONDAY + dt.timedelta(days=2), 9))
    assert len(received_by(smtp_server, manager_a)) == 1
    nudge.refresh_from_db()
    assert (nudge.status, nudge.cancel_reason, nudge.last_error) == (ReminderStatus.SENT, "", "")
    run_at(at(MONDAY + dt.timedelta(days=2), 10))
    assert len(received_by(smtp_server, manager_a)) == 1


@pytest.mark.django_db
def test_the_outbox_page_says_the_nudge_was_about_work_done_since(
    client, smtp_server, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    rollout, _nudge = _nudge_in_backoff(smtp_server, coordinator, unit_a)
    with time_machine.travel(NUDGED + dt.timedelta(minutes=1), tick=False):
        _report(rollout, manager_a, coordinator)
    run_at(LATER)
    client.force_login(coordinator)
    url = reverse("followup:outbox", args=[unit_a.municipality_id])
    page = client.get(url, {"status": "cancelled"}).content.decode()
    assert manager_a.email in page
    assert "Avbruten" in page
    assert "Det som utskicket gällde är gjort eller har ändrats." in page
    client.cookies["django_language"] = "en"
    english = client.get(url, {"status": "cancelled"}).content.decode()
    assert "What the mailing was about is done or has changed." in english


def _sweep_queries(now: dt.datetime) -> int:
    with time_machine.travel(now, tick=False), CaptureQueriesContext(connection) as queries:
        sweep.sweep()
    return len(queries)


@pytest.mark.django_db
def test_cancelling_outdated_nudges_costs_the_same_however_many(user: User) -> None:
    def queries_with_outdated(count: int) -> int:
        for number in range(count):
            # About rollouts that are not waiting for anything (there are none).
            outbox.schedule(
                recipient=user,
                kind="nudge" if number % 2 else "escalation",
                subject_key=f"web_course:{10_000 * count + number}",
                due_on=START.date(),
                subject="Påminnelse",
                body="b",
            )
        queries = _sweep_queries(LATER)
        assert not Reminder.objects.filter(status=ReminderStatus.PENDING).exists()
        return queries

    assert queries_with_outdated(3) == queries_with_outdated(12)


@pytest.mark.django_db
def test_waiting_but_not_yet_due_work_costs_no_queries_per_rollout(
    coordinator: User, unit_a: Unit
) -> None:
    NotificationSettings.objects.create(user=coordinator, digest="never")

    def queries_with_fresh_rollouts(count: int) -> int:
        with time_machine.travel(NUDGED, tick=False):
            for _ in range(count):
                engine.rollout_start(
                    actor=coordinator, unit=UnitFactory.create(municipality=unit_a.municipality)
                )
        return _sweep_queries(NUDGED + dt.timedelta(days=1))

    assert queries_with_fresh_rollouts(2) == queries_with_fresh_rollouts(6)


# --- Digests ----------------------------------------------------------------------------------


def _quiet_unit(coordinator: User, unit: Unit) -> None:
    """Something for the coordinator's digest every day: a unit without progress for 30 days."""
    with time_machine.travel(START - dt.timedelta(days=60), tick=False):
        engine.rollout_start(actor=coordinator, unit=unit)  # no manager: no nudges


@pytest.mark.django_db
def test_a_digest_in_backoff_is_not_sent_once_the_next_days_digest_is_queued(
    smtp_server, coordinator: User, unit_a: Unit
) -> None:
    _quiet_unit(coordinator, unit_a)
    smtp_server.sink.refuse_with = REFUSE
    run_at(at(dt.date(2026, 10, 6), 23, 50))
    [yesterdays] = Reminder.objects.filter(kind="digest")
    assert yesterdays.status == ReminderStatus.PENDING
    smtp_server.sink.refuse_with = None
    run_at(at(dt.date(2026, 10, 7), 0, 5))
    todays = Reminder.objects.get(kind="digest", due_on=dt.date(2026, 10, 7))
    assert smtp_server.message_ids == [f"<reminder-{todays.pk}-digest.{coordinator.pk}@127.0.0.1>"]
    yesterdays.refresh_from_db()
    assert (yesterdays.status, yesterdays.cancel_reason) == (
        ReminderStatus.CANCELLED,
        CancelReason.OUTDATED,
    )


def _digest(coordinator: User, day: dt.date) -> Reminder:
    reminder, _created = outbox.schedule(
        recipient=coordinator,
        kind="digest",
        subject_key=f"digest:{coordinator.pk}",
        due_on=day,
        subject="Sammanfattning",
        body="b",
    )
    return reminder


@pytest.mark.django_db
def test_switching_to_weekly_cancels_the_pending_digests_of_other_days(
    client, coordinator: User
) -> None:
    monday, wednesday = _digest(coordinator, MONDAY), _digest(coordinator, MONDAY + dt.timedelta(2))
    sent = _digest(coordinator, MONDAY - dt.timedelta(days=1))
    Reminder.objects.filter(pk=sent.pk).update(status=ReminderStatus.SENT)
    client.force_login(coordinator)
    response = client.post(
        reverse("followup:settings"), {"digest": "weekly", "nudges": "on", "language": "sv"}
    )
    assert response.status_code == 302
    assert NotificationSettings.objects.get(user=coordinator).digest == "weekly"
    statuses = dict(Reminder.objects.values_list("pk", "status"))
    assert statuses == {
        monday.pk: ReminderStatus.PENDING,  # a weekly digest too
        wednesday.pk: ReminderStatus.CANCELLED,
        sent.pk: ReminderStatus.SENT,  # history stays
    }
    wednesday.refresh_from_db()
    assert wednesday.cancel_reason == CancelReason.TURNED_OFF


@pytest.mark.django_db
def test_switching_to_never_cancels_every_pending_digest_when_saved(
    client, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    monday = _digest(coordinator, MONDAY)
    nudge, _created = outbox.schedule(
        recipient=coordinator,
        kind="nudge",
        subject_key="web_course:1",
        due_on=MONDAY,
        subject="Påminnelse",
        body="b",
        unit=unit_a,
    )
    someone_elses = _digest(manager_a, MONDAY)
    client.force_login(coordinator)
    client.post(reverse("followup:settings"), {"digest": "never", "nudges": "on", "language": "sv"})
    monday.refresh_from_db()
    assert (monday.status, monday.cancel_reason) == (
        ReminderStatus.CANCELLED,
        CancelReason.TURNED_OFF,
    )
    for kept in (nudge, someone_elses):
        kept.refresh_from_db()
        assert kept.status == ReminderStatus.PENDING


@pytest.mark.django_db
def test_a_booking_sends_its_invitations_at_once_and_nothing_the_sweep_has_not_seen(
    smtp_server,
    coordinator: User,
    manager_a: User,
    unit_a: Unit,
    django_capture_on_commit_callbacks,
) -> None:
    """The calendar invitations of a booking go out when it commits, not at the next interval;
    the nudge waiting in the outbox about work done since the last sweep does not go with them."""
    rollout, nudge = _nudge_in_backoff(smtp_server, coordinator, unit_a)
    _report(rollout, manager_a, coordinator)
    with time_machine.travel(LATER, tick=False), django_capture_on_commit_callbacks(execute=True):
        book_session(rollout, coordinator, LATER + dt.timedelta(days=7))
    assert [m["Message-ID"].strip() for m in received_by(smtp_server, manager_a)] == [
        Reminder.objects.get(kind="training").message_id
    ]
    nudge.refresh_from_db()
    assert (nudge.status, nudge.attempts) == (ReminderStatus.PENDING, 1)
    run_at(LATER)  # the sweep, which decides about the nudge, comes first at the interval
    nudge.refresh_from_db()
    assert (nudge.status, nudge.cancel_reason) == (ReminderStatus.CANCELLED, CancelReason.OUTDATED)
    assert len(received_by(smtp_server, manager_a)) == 1


@pytest.mark.django_db
def test_a_follow_up_booking_sends_its_invitations_at_once(
    smtp_server,
    coordinator: User,
    manager_a: User,
    unit_a: Unit,
    django_capture_on_commit_callbacks,
) -> None:
    with time_machine.travel(START, tick=False):
        rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
        implement(rollout, manager_a, coordinator, START.date())
    six = FollowUp.objects.get(rollout=rollout, offset_months=6)
    with time_machine.travel(NUDGED, tick=False), django_capture_on_commit_callbacks(execute=True):
        followups.book(
            actor=coordinator,
            follow_up=six,
            starts_at=START + dt.timedelta(days=170),
            mode="phone",
            place="",
        )
    [invitation] = received_by(smtp_server, manager_a)
    assert invitation.get_content_type() == "multipart/mixed"
    assert "text/calendar" in invitation.as_string()
    assert Reminder.objects.get(kind="meeting").status == ReminderStatus.SENT


@pytest.mark.django_db
def test_a_send_message_without_ids_sweeps_first(
    smtp_server, coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    """A message from the version that sent everything due: it must not send a nudge about
    work done since the last sweep either."""
    rollout, nudge = _nudge_in_backoff(smtp_server, coordinator, unit_a)
    _report(rollout, manager_a, coordinator)
    with time_machine.travel(LATER, tick=False):
        send_due_reminders.delay()
    nudge.refresh_from_db()
    assert (nudge.status, nudge.cancel_reason) == (ReminderStatus.CANCELLED, CancelReason.OUTDATED)
    assert received_by(smtp_server, manager_a) == []
