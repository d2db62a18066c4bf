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

from tests.factories import SuperuserFactory, UserFactory
from units.models import User

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
    cache.clear()
    yield
    cache.clear()


# --- Personas -------------------------------------------------------------------------------
# Issue 3 adds the municipal roles (manager of unit A/B, coordinator, observer, ...).


@pytest.fixture
def user(db: None) -> User:
    return UserFactory.create()


@pytest.fixture
def superuser(db: None) -> User:
    return SuperuserFactory.create(email="admin@example.se")
