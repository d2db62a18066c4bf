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
