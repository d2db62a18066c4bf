"""Data migrations, run forwards on the test database (PostgreSQL in CI) from the state just
before them."""

import datetime as dt
from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("rollout", "0004_regional"), ("training", "0002_themes_wishes_sessions")]
AFTER = [("rollout", "0005_web_course_completed")]


@pytest.fixture
def executor() -> Iterator[MigrationExecutor]:
    executor = MigrationExecutor(connection)
    yield executor
    # Back to the latest state for the tests that follow.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_step_1_total_is_filled_in_from_the_reports_already_made(
    executor: MigrationExecutor,
) -> None:
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    municipality = old.get_model("units", "Municipality").objects.create(name="Ekby", slug="ekby")
    sector = old.get_model("units", "Sector").objects.create(
        municipality=municipality, name="Skola"
    )
    unit_model = old.get_model("units", "Unit")
    rollout_model = old.get_model("rollout", "Rollout")
    report_model = old.get_model("training", "WebCourseReport")
    rollouts = []
    for number in range(3):
        unit = unit_model.objects.create(
            municipality=municipality, sector=sector, name=f"Enhet {number}", headcount=30
        )
        rollouts.append(rollout_model.objects.create(unit=unit, round=1))
    for rollout, counts in zip(rollouts, ([4, 7, 0], [12], []), strict=True):
        for count in counts:
            report_model.objects.create(
                rollout=rollout,
                reported_on=dt.date(2026, 11, 2),
                completed_count=count,
                mode="groups",
                group_sessions=1,
                knowledge_level=3,
                headcount_at_report=30,
            )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps.get_model("rollout", "Rollout")
    totals = dict(
        new.objects.filter(pk__in=[r.pk for r in rollouts]).values_list(
            "pk", "web_course_completed"
        )
    )
    assert totals == {rollouts[0].pk: 11, rollouts[1].pk: 12, rollouts[2].pk: 0}


INTEGRITY_BEFORE = [
    ("units", "0005_regional"),
    ("rollout", "0005_web_course_completed"),
    ("training", "0002_themes_wishes_sessions"),
    ("followup", "0005_reminder_claim_index_pending"),
]
INTEGRITY_AFTER = [
    ("units", "0007_integrity_and_retention"),
    ("rollout", "0006_timeline_actor_email_and_protect_history"),
    ("training", "0004_session_checks"),
    ("followup", "0007_follow_up_checks"),
]


@pytest.mark.django_db(transaction=True)
def test_rows_outside_the_new_checks_are_brought_into_range_and_events_keep_their_actor(
    executor: MigrationExecutor,
) -> None:
    executor.migrate(INTEGRITY_BEFORE)
    old = executor.loader.project_state(INTEGRITY_BEFORE).apps
    municipality = old.get_model("units", "Municipality").objects.create(
        name="Ekby",
        slug="ekby",
        web_course_threshold_percent=0,
        # Written through the admin's JSON: follow-ups made from it would break the new check.
        followup_offsets_months=[72, 6, 6, "12", 0],
    )
    empty_rhythm = old.get_model("units", "Municipality").objects.create(
        name="Tomby", slug="tomby", followup_offsets_months={}
    )
    sector = old.get_model("units", "Sector").objects.create(
        municipality=municipality, name="Skola"
    )
    unit = old.get_model("units", "Unit").objects.create(
        municipality=municipality, sector=sector, name="Enhet", headcount=30
    )
    person = old.get_model("units", "User").objects.create(email="chef@ekby.example")
    rollout = old.get_model("rollout", "Rollout").objects.create(unit=unit, round=1)
    event_model = old.get_model("rollout", "TimelineEvent")
    by_person = event_model.objects.create(unit=unit, kind="rollout.started", actor=person)
    by_system = event_model.objects.create(unit=unit, kind="rollout.checkin")
    session = old.get_model("training", "TrainingSession").objects.create(
        rollout=rollout,
        starts_at=dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC),
        duration_minutes=5,
        rating=9,
        expected_participants=10,
        leader=person,
    )
    follow_up_model = old.get_model("followup", "FollowUp")
    zero = follow_up_model.objects.create(rollout=rollout, offset_months=0, effect=0)
    follow_up_model.objects.create(rollout=rollout, offset_months=1)
    far = follow_up_model.objects.create(rollout=rollout, offset_months=75, effect=7)

    executor = MigrationExecutor(connection)
    executor.migrate(INTEGRITY_AFTER)
    new = executor.loader.project_state(INTEGRITY_AFTER).apps
    threshold = new.get_model("units", "Municipality").objects.get(pk=municipality.pk)
    assert threshold.web_course_threshold_percent == 1
    assert threshold.followup_offsets_months == [6]
    rhythm = new.get_model("units", "Municipality").objects.get(pk=empty_rhythm.pk)
    assert rhythm.followup_offsets_months == [6, 12]
    events = new.get_model("rollout", "TimelineEvent").objects
    assert events.get(pk=by_person.pk).actor_email == "chef@ekby.example"
    assert events.get(pk=by_system.pk).actor_email == ""
    moved = new.get_model("training", "TrainingSession").objects.get(pk=session.pk)
    assert (moved.duration_minutes, moved.rating) == (15, 5)
    follow_ups = new.get_model("followup", "FollowUp").objects
    assert sorted(
        follow_ups.filter(rollout_id=rollout.pk).values_list("offset_months", flat=True)
    ) == [1, 2, 60]
    assert (follow_ups.get(pk=zero.pk).offset_months, follow_ups.get(pk=zero.pk).effect) == (2, 1)
    assert (follow_ups.get(pk=far.pk).offset_months, follow_ups.get(pk=far.pk).effect) == (60, 5)
