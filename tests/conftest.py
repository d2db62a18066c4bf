"""Test harness: service checks, per-test isolation and persona fixtures.

Tests run on SQLite by default and on PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set.
In CI (CI=true) a missing service is a failure, never a skip.
"""

import email
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.core.cache import cache

from jarfalla.celery import app as celery_app
from tests.factories import (
    MunicipalityFactory,
    SuperuserFactory,
    UnitFactory,
    UserFactory,
    activate_totp,
    make_coordinator,
    make_manager,
    make_observer,
)
from units import access, pagecache
from units.models import Municipality, Unit, User

IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_configure(config: pytest.Config) -> None:
    if not IN_CI:
        return
    missing = [
        name
        for name, ok in (
            (
                "DATABASE_URL (PostgreSQL)",
                str(settings.DATABASES["default"]["ENGINE"]).endswith("postgresql"),
            ),
            ("REDIS_URL", bool(settings.REDIS_URL)),
        )
        if not ok
    ]
    if missing:
        raise pytest.UsageError(
            f"CI=true but these services are not configured: {', '.join(missing)}"
        )


def require_service(reason: str) -> None:
    """Skip locally when a service is unavailable; in CI fail instead."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: services must be available)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _isolation(settings: Any) -> Iterator[None]:
    # The manifest storage needs collectstatic; tests serve from the finders instead.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    if not settings.REDIS_URL:
        # The embedded file cache lives in var/, shared with anything else running there.
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    # Rendered pages are kept in the process: a page from one test must not answer the next.
    pagecache.clear()
    access.forget_units()  # ids are reused from test to test
    # Tasks run in-process here; tests/test_celery.py drives a real worker through the broker.
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False
    cache.clear()


# --- Personas -------------------------------------------------------------------------------
# One municipality with units A and B, and another municipality with unit X. Coordinators and
# superusers have TOTP set up, as the MFA requirement demands; log them in with force_login.


@pytest.fixture
def user(db: None) -> User:
    return UserFactory.create()


@pytest.fixture
def superuser(db: None) -> User:
    user = SuperuserFactory.create(email="admin@example.se")
    activate_totp(user)
    return user


@pytest.fixture
def municipality(db: None) -> Municipality:
    return MunicipalityFactory.create(name="Järfälla", slug="jarfalla")


@pytest.fixture
def other_municipality(db: None) -> Municipality:
    return MunicipalityFactory.create(name="Annan kommun", slug="annan")


@pytest.fixture
def unit_a(municipality: Municipality) -> Unit:
    return UnitFactory.create(municipality=municipality, name="Solrosens förskola")


@pytest.fixture
def unit_b(municipality: Municipality) -> Unit:
    return UnitFactory.create(municipality=municipality, name="Kvarnskolan")


@pytest.fixture
def unit_x(other_municipality: Municipality) -> Unit:
    return UnitFactory.create(municipality=other_municipality, name="Fritidsgården Tornet")


@pytest.fixture
def manager_a(unit_a: Unit) -> User:
    return make_manager(unit_a, email="chef.a@example.se")


@pytest.fixture
def manager_b(unit_b: Unit) -> User:
    return make_manager(unit_b, email="chef.b@example.se")


@pytest.fixture
def coordinator(municipality: Municipality) -> User:
    return make_coordinator(municipality, email="samordnare@example.se")


@pytest.fixture
def other_coordinator(other_municipality: Municipality) -> User:
    return make_coordinator(other_municipality, email="samordnare@annan.example.se")


@pytest.fixture
def observer(municipality: Municipality) -> User:
    return make_observer(municipality, email="fou@example.se")


# --- A real SMTP server on 127.0.0.1 (aiosmtpd) that can be told to refuse or to be down ------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Sink:
    messages: list[email.message.Message] = field(default_factory=list)
    refuse_with: str | None = None  # e.g. "451 4.3.0 Try again later", after DATA
    # Refused at RCPT TO, where a real server says "550 5.1.1 No such user".
    refuse_recipients_with: str | None = None
    sessions: int = 0  # SMTP sessions opened (EHLO)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.refuse_recipients_with:
            return self.refuse_recipients_with
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_with:
            return self.refuse_with
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted"


class SmtpServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.sink = Sink()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.sink.messages]


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": server.port, "timeout": 5},
        }
    }
    yield server
    server.stop()
