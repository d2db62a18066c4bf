"""GET /healthz/: JSON about database, broker and the last dispatch; 200 or 503."""

import pytest
from django.test import Client

from jarfalla import health
from jarfalla.tasks import heartbeat


@pytest.mark.django_db
def test_healthy_when_database_and_broker_answer(client: Client, settings) -> None:
    response = client.get("/healthz/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "vendor": __import__("django.db").db.connection.vendor}
    assert body["broker"]["ok"] is True
    expected_transport = "redis" if settings.REDIS_URL else "filesystem"
    assert body["broker"]["transport"] == expected_transport
    assert body["reminders"] == {"ok": True, "last_dispatch": None, "stuck": 0}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_unhealthy_broker_gives_503(client: Client, settings) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["broker"]["ok"] is False
    assert body["database"]["ok"] is True


@pytest.mark.django_db
def test_unhealthy_database_gives_503(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    class Down:
        def cursor(self) -> None:
            raise __import__("django.db").db.OperationalError("connection refused")

    monkeypatch.setattr(health, "connection", Down())
    response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False, "error": "OperationalError"}


@pytest.mark.django_db
def test_worker_heartbeat_is_reported(client: Client) -> None:
    assert client.get("/healthz/").json()["worker"]["last_heartbeat"] is None
    stamp = heartbeat()
    assert client.get("/healthz/").json()["worker"]["last_heartbeat"] == stamp


def test_healthz_is_get_only(client: Client) -> None:
    assert client.post("/healthz/").status_code == 405


@pytest.mark.django_db
def test_stale_dispatch_gives_503(client: Client) -> None:
    import datetime as dt

    from django.utils import timezone

    from followup.models import DispatchRun

    long_ago = timezone.now() - dt.timedelta(hours=2)
    DispatchRun.objects.create(started_at=long_ago, finished_at=long_ago)
    response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json()["reminders"]["ok"] is False
    DispatchRun.objects.create(started_at=timezone.now(), finished_at=timezone.now())
    assert client.get("/healthz/").status_code == 200
