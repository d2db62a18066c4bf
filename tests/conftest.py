"""Test harness: service checks, per-test isolation and persona fixtures.

Tests run on SQLite by default and on PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set.
In CI (CI=true) a missing service is a failure, never a skip.
"""

import os
from collections.abc import Iterator
from typing import Any

import pytest
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
