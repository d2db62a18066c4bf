"""Health of the parts the product depends on, for /healthz/ and container health checks."""

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

HEARTBEAT_KEY = "health:worker-heartbeat"
# Seconds to wait for a database connection (Docker's health check gives up after 5).
DATABASE_TIMEOUT = 2.0


def record_worker_heartbeat() -> dt.datetime:
    now = timezone.now()
    cache.set(HEARTBEAT_KEY, now.isoformat(), timeout=None)
    return now


def check_database() -> dict[str, Any]:
    try:
        pool = getattr(connection, "pool", None)  # PostgreSQL with Django's connection pool
        if pool is not None and connection.connection is None:
            # A request waits up to the pool's timeout (10 s) for a connection; with the server
            # down the health check must still answer within the container's 5 s. Django opens
            # the pool on first use; so must we when this is the process's first query.
            pool.open()
            with pool.connection(timeout=DATABASE_TIMEOUT) as conn:
                conn.execute("SELECT 1").fetchone()
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; the type goes into the answer
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "vendor": connection.vendor}


def check_broker() -> dict[str, Any]:
    broker_url: str = settings.CELERY_BROKER_URL
    if broker_url.startswith("filesystem://"):
        folder = Path(str(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]))
        ok = folder.is_dir() and _writable(folder)
        return {"ok": ok, "transport": "filesystem"} | ({} if ok else {"error": "not writable"})
    import redis

    try:
        client = redis.Redis.from_url(broker_url, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
    except redis.RedisError as exc:
        return {"ok": False, "transport": "redis", "error": type(exc).__name__}
    return {"ok": True, "transport": "redis"}


def _writable(folder: Path) -> bool:
    import os

    return os.access(folder, os.W_OK)


def last_worker_heartbeat() -> str | None:
    try:
        value = cache.get(HEARTBEAT_KEY)
    except Exception:  # a cache outage must not turn the health page into a 500
        return None
    return value if isinstance(value, str) else None


def reminders() -> dict[str, Any]:
    """The last finished dispatch, and whether it is recent enough (beat runs every 2 minutes)."""
    from followup import services

    try:
        run = services.last_dispatch()
        stuck = services.stuck_reminders().count()
    except Exception as exc:  # the database check above reports the cause
        return {"ok": False, "error": type(exc).__name__, "last_dispatch": None}
    if run is None or run.finished_at is None:
        # Nothing has run yet (a fresh install): not an error until the first sweep is due.
        return {"ok": True, "last_dispatch": None, "stuck": stuck}
    fresh = timezone.now() - run.finished_at <= services.STALE_AFTER
    return {"ok": fresh, "last_dispatch": run.finished_at.isoformat(), "stuck": stuck}


def report() -> tuple[bool, dict[str, Any]]:
    database = check_database()
    broker = check_broker()
    reminder_state = reminders() if database["ok"] else {"ok": False, "last_dispatch": None}
    healthy = bool(database["ok"] and broker["ok"] and reminder_state["ok"])
    return healthy, {
        "status": "ok" if healthy else "error",
        "database": database,
        "broker": broker,
        "worker": {"last_heartbeat": last_worker_heartbeat()},
        "reminders": reminder_state,
    }
