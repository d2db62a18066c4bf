"""Celery wiring: configuration from settings, interval beat schedule, a real worker round trip."""

import datetime as dt
import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.schedules import crontab
from django.core.cache import cache

from jarfalla import health
from jarfalla.celery import app
from jarfalla.tasks import heartbeat


def test_app_reads_django_settings() -> None:
    from django.conf import settings

    assert app.conf.broker_url == settings.CELERY_BROKER_URL
    assert app.conf.task_time_limit == 300
    assert app.conf.task_soft_time_limit == 240
    assert app.conf.timezone == "Europe/Stockholm"
    assert app.conf.task_acks_late is True


def test_beat_schedule_uses_intervals_and_registered_tasks() -> None:
    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule
    assert schedule, "the beat schedule is defined in code"
    for name, entry in schedule.items():
        # Interval, never crontab: a DST change must neither skip nor double a run.
        assert not isinstance(entry["schedule"], crontab), name
        assert isinstance(entry["schedule"], (int, float, dt.timedelta)), name
        assert entry["task"] in app.tasks, f"{name}: task {entry['task']} is not registered"


def test_heartbeat_task_records_time() -> None:
    stamp = heartbeat()
    assert health.last_worker_heartbeat() == stamp


@pytest.mark.django_db(transaction=True)
def test_real_worker_runs_a_task_sent_through_the_broker() -> None:
    """Broker → worker → cache, the path beat takes in production (Redis in CI)."""
    cache.delete(health.HEARTBEAT_KEY)
    app.conf.task_always_eager = False  # through the broker, not in-process
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        heartbeat.delay()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and health.last_worker_heartbeat() is None:
            time.sleep(0.2)
    assert health.last_worker_heartbeat() is not None
