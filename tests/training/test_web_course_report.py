"""training.services.web_course_report: the rules under the rollout's lock, what it writes, and
how the step 1 page explains a refusal. The written-out SQL is exercised on the test database
(PostgreSQL in CI), so a renamed table or column fails here."""

import datetime as dt
import threading
import time
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rollout import services as engine
from rollout.models import Rollout, Step, TimelineEvent
from rollout.services import RolloutError
from tests.conftest import require_service
from tests.training.test_web_course import report as form  # the page's form as posted
from training import services
from training.models import WebCourseReport
from units.models import AuditEvent, Unit, User


@pytest.fixture
def rollout(coordinator: User, unit_a: Unit) -> Rollout:
    return engine.rollout_start(actor=coordinator, unit=unit_a)


def report(actor: User, unit: Unit, count: int, **overrides: Any) -> WebCourseReport:
    values: dict[str, Any] = {
        "reported_on": timezone.localdate(),
        "completed_count": count,
        "mode": "groups",
        "group_sessions": 1,
        "knowledge_level": 3,
        "reflections": "Samtal i arbetslaget.",
    }
    return services.web_course_report(actor=actor, unit_id=unit.pk, **(values | overrides))


@pytest.mark.django_db
def test_a_report_writes_the_report_the_event_and_the_activity(
    manager_a: User, unit_a: Unit, rollout: Rollout
) -> None:
    before = Rollout.objects.get(pk=rollout.pk).last_activity_at
    report(manager_a, unit_a, 5)
    saved = report(manager_a, unit_a, 7, reported_on=timezone.localdate() - dt.timedelta(days=2))

    stored = WebCourseReport.objects.get(pk=saved.pk)
    assert stored.rollout_id == rollout.pk
    assert stored.completed_count == 7
    assert stored.reported_on == timezone.localdate() - dt.timedelta(days=2)
    assert stored.headcount_at_report == unit_a.headcount == 20
    assert stored.reported_by == manager_a
    assert stored.created_at is not None
    assert timezone.now() - stored.created_at < dt.timedelta(minutes=1)
    event = TimelineEvent.objects.filter(kind="web_course.reported").first()
    assert event is not None
    assert (event.unit_id, event.rollout_id, event.step, event.actor) == (
        unit_a.pk,
        rollout.pk,
        Step.WEB_COURSE,
        manager_a,
    )
    assert event.params == {"completed": 7, "total": 12, "headcount": 20}
    rollout.refresh_from_db()
    # Noted when the lock was asked for; the event's time is taken once it was held.
    assert before < rollout.last_activity_at <= event.at
    assert saved.created_at == event.at
    assert not saved._state.adding


@pytest.mark.django_db
def test_the_total_counts_every_earlier_report(
    manager_a: User, unit_a: Unit, rollout: Rollout
) -> None:
    report(manager_a, unit_a, 8)
    report(manager_a, unit_a, 9)
    with pytest.raises(RolloutError, match=r"Fler har gått kursen \(21\) än det finns anställda"):
        report(manager_a, unit_a, 4)
    report(manager_a, unit_a, 3)  # exactly the headcount is fine
    assert WebCourseReport.objects.filter(rollout=rollout).count() == 3
    assert TimelineEvent.objects.filter(kind="web_course.reported").count() == 3
    # The total kept on the rollout is the sum of the saved reports: the refused 4 were
    # added by the lock's statement and rolled back with the refusal.
    total = WebCourseReport.objects.filter(rollout=rollout).aggregate(Sum("completed_count"))
    assert Rollout.objects.get(pk=rollout.pk).web_course_completed == 20
    assert total == {"completed_count__sum": 20}


@pytest.mark.django_db
def test_a_new_headcount_is_written_first_and_audited(
    manager_a: User, unit_a: Unit, rollout: Rollout
) -> None:
    report(manager_a, unit_a, 18)
    saved = report(manager_a, unit_a, 6, new_headcount=24)
    unit_a.refresh_from_db()
    assert unit_a.headcount == 24
    assert WebCourseReport.objects.get(pk=saved.pk).headcount_at_report == 24
    assert AuditEvent.objects.filter(action="unit.changed", unit=unit_a).count() == 1
    # The same headcount again is no change, so no audit entry.
    report(manager_a, unit_a, 0, new_headcount=24)
    assert AuditEvent.objects.filter(action="unit.changed", unit=unit_a).count() == 1


@pytest.mark.django_db
def test_reports_are_refused_outside_an_active_step_1(
    coordinator: User, manager_a: User, unit_a: Unit, unit_b: Unit, rollout: Rollout
) -> None:
    with pytest.raises(RolloutError, match="Införandet är inte aktivt"):
        report(manager_a, unit_b, 1)  # no rollout at all
    paused = engine.rollout_pause(actor=coordinator, rollout=rollout, reason="Sommar")
    with pytest.raises(RolloutError, match="Införandet är inte aktivt"):
        report(manager_a, unit_a, 1)
    engine.rollout_resume(actor=coordinator, rollout=paused)
    engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)
    before = Rollout.objects.get(pk=rollout.pk).last_activity_at
    with pytest.raises(RolloutError, match="Steg 1 är inte pågående"):
        report(manager_a, unit_a, 1)
    assert not WebCourseReport.objects.exists()
    # A refused report leaves no trace: the activity noted with the lock, and the count added
    # to the step's total, are rolled back.
    after = Rollout.objects.get(pk=rollout.pk)
    assert (after.last_activity_at, after.web_course_completed) == (before, 0)


@pytest.mark.django_db
def test_the_privacy_validator_runs_before_anything_is_locked(
    manager_a: User, unit_a: Unit, rollout: Rollout, django_assert_num_queries: Any
) -> None:
    from django.core.exceptions import ValidationError

    with django_assert_num_queries(0), pytest.raises(ValidationError, match="personnummer"):
        report(manager_a, unit_a, 1, reflections="Eleven 811218-9876 berättade")


@pytest.mark.django_db
def test_the_post_makes_a_bounded_number_of_queries(
    client: Client,
    manager_a: User,
    unit_a: Unit,
    rollout: Rollout,
    django_assert_max_num_queries: Any,
) -> None:
    client.force_login(manager_a)
    url = reverse("training:web_course", args=[unit_a.pk])
    data = form(completed_count="2")
    client.post(url, data)  # the session and the unit's municipality are read once
    # The user with their roles; the lock (noting the activity, adding to the total); the step
    # and headcount; the report; the event; plus the transaction's begin and end on PostgreSQL.
    with django_assert_max_num_queries(7):
        assert client.post(url, data).status_code == 302
    assert WebCourseReport.objects.filter(rollout=rollout).count() == 2


@pytest.mark.django_db
def test_a_refusal_the_form_could_not_see_is_shown_on_the_page(
    client: Client, manager_a: User, unit_a: Unit, rollout: Rollout, monkeypatch: Any
) -> None:
    """Between the service's refusal and the page being drawn, the state can change back (a
    race): the form then finds nothing wrong, and the service's reason is what the person sees."""

    def refuse(**kwargs: Any) -> None:
        raise RolloutError("Införandet är inte aktivt.")

    monkeypatch.setattr(services, "web_course_report", refuse)
    client.force_login(manager_a)
    response = client.post(
        reverse("training:web_course", args=[unit_a.pk]),
        form(completed_count="2"),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Formuläret innehåller fel" in html
    assert "Införandet är inte aktivt." in html


@pytest.mark.django_db
def test_a_report_over_the_headcount_is_explained_next_to_the_field(
    client: Client, manager_a: User, unit_a: Unit, rollout: Rollout
) -> None:
    report(manager_a, unit_a, 15)
    client.force_login(manager_a)
    response = client.post(
        reverse("training:web_course", args=[unit_a.pk]),
        form(completed_count="6"),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Totalt 21 skulle ha gått kursen men enheten har 20 anställda." in html
    assert WebCourseReport.objects.filter(rollout=rollout).count() == 1


@pytest.mark.django_db
def test_noting_activity_never_sets_it_back(
    coordinator: User, unit_a: Unit, unit_b: Unit, rollout: Rollout
) -> None:
    now = timezone.now()
    assert engine.touch_active_rollout(unit_id=unit_a.pk, at=now) == (rollout.pk, 0)
    earlier = now - dt.timedelta(seconds=5)
    assert engine.touch_active_rollout(unit_id=unit_a.pk, at=earlier, web_course_added=4) == (
        rollout.pk,
        4,
    )
    touched = Rollout.objects.get(pk=rollout.pk)
    assert (touched.last_activity_at, touched.web_course_completed) == (now, 4)
    assert engine.touch_active_rollout(unit_id=unit_b.pk, at=now) is None  # no rollout
    engine.rollout_pause(actor=coordinator, rollout=rollout, reason="Sommar")
    assert engine.touch_active_rollout(unit_id=unit_a.pk, at=now) is None


def _waiting_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return bool(cursor.fetchone()[0])


def _while_holding(hold: Any, then: Any) -> tuple[Any, list[str]]:
    """Runs ``hold`` in a transaction of its own that stays open until ``then`` (on another
    connection) is waiting for a lock, then commits it; returns what hold returned and how
    ``then`` ended. Deterministic: ``then`` has certainly waited for ``hold``'s lock."""
    held, release = threading.Event(), threading.Event()
    results: list[Any] = []
    outcome: list[str] = []

    def holder() -> None:
        try:
            with transaction.atomic():
                results.append(hold())
                held.set()
                assert release.wait(timeout=30)
        finally:
            connections.close_all()

    def second() -> None:
        try:
            then()
            outcome.append("saved")
        except RolloutError as error:
            outcome.append(str(error))
        finally:
            connections.close_all()

    first = threading.Thread(target=holder)
    first.start()
    assert held.wait(timeout=30)
    other = threading.Thread(target=second)
    other.start()
    deadline = time.monotonic() + 30
    while not _waiting_for_a_lock():
        assert time.monotonic() < deadline, "the second transaction never waited for the lock"
        time.sleep(0.01)
    release.set()
    for thread in (first, other):
        thread.join(timeout=30)
        assert not thread.is_alive()
    return (results[0] if results else None), outcome


@pytest.mark.django_db(transaction=True)
def test_a_report_that_waited_sees_the_report_it_waited_for(
    coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    """Both would read 0 of 20 taken if nothing serialised them; the lock and the read after it
    let only the first 15 through."""
    if connection.vendor != "postgresql":
        require_service("needs PostgreSQL (row locks between connections); set DATABASE_URL")
    engine.rollout_start(actor=coordinator, unit=unit_a)
    _first, outcome = _while_holding(
        lambda: report(manager_a, unit_a, 15), lambda: report(manager_a, unit_a, 15)
    )
    assert outcome == ["Fler har gått kursen (30) än det finns anställda (20)."]
    assert WebCourseReport.objects.filter(rollout__unit=unit_a).count() == 1
    assert Rollout.objects.get(unit=unit_a).web_course_completed == 15


@pytest.mark.django_db(transaction=True)
def test_a_report_that_waited_for_a_step_change_is_refused(
    coordinator: User, manager_a: User, unit_a: Unit
) -> None:
    if connection.vendor != "postgresql":
        require_service("needs PostgreSQL (row locks between connections); set DATABASE_URL")
    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    _done, outcome = _while_holding(
        lambda: engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE),
        lambda: report(manager_a, unit_a, 3),
    )
    assert outcome == ["Steg 1 är inte pågående."]
    assert not WebCourseReport.objects.exists()


@pytest.mark.django_db
def test_closing_step_1_counts_the_reports_made_after_the_rollout_was_read(
    manager_a: User, unit_a: Unit, rollout: Rollout
) -> None:
    """A manager may close step 1 at the threshold: the check reads the total kept on the
    rollout as it is in the database, not as the caller's copy (read before the reports) has it."""
    threshold = unit_a.municipality.web_course_threshold_percent
    needed = -(-unit_a.headcount * threshold // 100)  # rounded up
    assert rollout.web_course_completed == 0
    with pytest.raises(RolloutError, match="Steg 1 kan markeras som klart"):
        services.web_course_complete(actor=manager_a, rollout=rollout, is_coordinator=False)
    report(manager_a, unit_a, needed)
    assert services.web_course_complete(actor=manager_a, rollout=rollout, is_coordinator=False)
