"""GET /healthz/: JSON about database, broker and the last dispatch; 200 or 503."""

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from jarfalla import health
from jarfalla.tasks import heartbeat
from tests.factories import UserFactory
from tests.test_configuration import run_manage


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


# A real closed port (nothing listens on 1), in a fresh process: the connection pool and the
# settings are made at start-up. The time is measured around the request only.
PROBE = (
    "import json, time; from django.test import Client; started = time.monotonic(); "
    "response = Client().get('/healthz/', HTTP_HOST='127.0.0.1:8000'); "
    "print(json.dumps({'status': response.status_code, 'seconds': time.monotonic() - started, "
    "'body': response.content.decode()}))"
)


def probe_healthz(tmp_path: Path, **environ: str) -> dict[str, Any]:
    result = run_manage(tmp_path, "shell", "-c", PROBE, **environ)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def assert_no_details(body: str) -> None:
    """The page is public: error types only, never exception text, addresses or versions."""
    for detail in ("refused", "127.0.0.1", "Errno", "Traceback", "psycopg", "version"):
        assert detail not in body


def test_unreachable_postgresql_gives_503_within_the_container_health_check_timeout(
    tmp_path: Path,
) -> None:
    answer = probe_healthz(tmp_path, DATABASE_URL="postgres://jarfalla@127.0.0.1:1/jarfalla")
    assert answer["status"] == 503
    # Docker's health check (docker-compose.yml, Dockerfile) gives up after 5 s; the pool alone
    # would wait its 10 s.
    assert answer["seconds"] < 5
    body = json.loads(answer["body"])
    assert body["database"]["ok"] is False
    assert body["reminders"]["ok"] is False
    assert_no_details(answer["body"])


def test_unreachable_redis_gives_503_without_details(tmp_path: Path) -> None:
    answer = probe_healthz(tmp_path, REDIS_URL="redis://127.0.0.1:1/0")
    assert answer["status"] == 503
    assert answer["seconds"] < 5
    body = json.loads(answer["body"])
    assert body["broker"] == {"ok": False, "transport": "redis", "error": "ConnectionError"}
    assert body["worker"] == {"last_heartbeat": None}  # the cache is down too: no 500
    assert_no_details(answer["body"])


@pytest.mark.django_db
def test_not_redirected_to_https(client: Client, settings) -> None:
    """Container health checks speak plain HTTP to the app itself (SECURE_REDIRECT_EXEMPT)."""
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/tillganglighet/").status_code == 301
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_needs_no_second_factor_and_no_language(client: Client) -> None:
    """A superuser without a second factor is sent to set one up everywhere else."""
    admin = UserFactory.create(is_superuser=True, is_staff=True)
    client.force_login(admin)
    assert client.get("/konto/").status_code == 302
    response = client.get("/healthz/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
