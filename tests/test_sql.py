"""jarfalla.sql: single-row writes built once from the model's metadata, with the fields' own
conversions; what they write must read back through the ORM exactly as the ORM writes it."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from jarfalla import sql
from rollout import services as engine
from rollout.models import Rollout, RolloutStatus, TimelineEvent
from units.models import Unit, User


@pytest.mark.django_db
def test_insert_converts_every_value_as_the_orm_does(coordinator: User, unit_a: Unit) -> None:
    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    at = dt.datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=dt.UTC)
    params = {"text": 'Åsa & Örjan "citat"', "list": [1, 2.5, None], "nested": {"ok": True}}
    pk = sql.insert(
        TimelineEvent,
        unit_id=unit_a.pk,
        rollout=rollout.pk,  # a foreign key by its name or its column's
        step=None,
        actor_id=coordinator.pk,
        at=at,
        kind="test.kind",
        params=params,
    )
    by_orm = TimelineEvent.objects.create(
        unit=unit_a, rollout=rollout, actor=coordinator, kind="test.kind", params=params
    )
    TimelineEvent.objects.filter(pk=by_orm.pk).update(at=at)
    written, expected = TimelineEvent.objects.get(pk=pk), TimelineEvent.objects.get(pk=by_orm.pk)
    for field in ("unit_id", "rollout_id", "step", "actor_id", "at", "kind", "params"):
        assert getattr(written, field) == getattr(expected, field), field
    assert written.params == params
    assert written.at == at


@pytest.mark.django_db
def test_update_by_primary_key(coordinator: User, unit_a: Unit) -> None:
    rollout = engine.rollout_start(actor=coordinator, unit=unit_a)
    later = timezone.now() + dt.timedelta(hours=1)
    assert sql.update(Rollout, rollout.pk, last_activity_at=later, status=RolloutStatus.PAUSED)
    stored = Rollout.objects.get(pk=rollout.pk)
    assert (stored.last_activity_at, stored.status) == (later, RolloutStatus.PAUSED)
    assert sql.update(Rollout, rollout.pk + 1000, last_activity_at=later) is False


@pytest.mark.django_db
def test_statements_are_built_once_per_model_and_fields(unit_a: Unit) -> None:
    sql._insert_sql.cache_clear()
    for _ in range(3):
        sql.insert(TimelineEvent, unit_id=unit_a.pk, at=timezone.now(), kind="k", params={})
    info = sql._insert_sql.cache_info()
    assert (info.misses, info.hits) == (1, 2)
    statement, _fields = sql._insert_sql(
        connection.vendor, TimelineEvent, ("unit_id", "at", "kind", "params")
    )
    table, unit, at, kind, params, pk = map(
        connection.ops.quote_name,
        ("rollout_timelineevent", "unit_id", "at", "kind", "params", "id"),
    )
    expected = "INSERT INTO {} ({}, {}, {}, {}) VALUES (%s, %s, %s, %s) RETURNING {}"
    assert statement == expected.format(table, unit, at, kind, params, pk)
