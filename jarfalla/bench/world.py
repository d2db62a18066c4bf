"""The data the scenarios need on top of seed_demo's, created in the bench database only.

Needs Django set up (``run.py`` does it with the bench's environment). Users are the bench's own
(``@bench.invalid``), never the demo logins; sessions are real server-side sessions made the way
a login makes them (the test client's ``force_login``), so the pages see an ordinary logged-in
user. Coordinators and the superuser have a TOTP authenticator: ``RequireMFAMiddleware`` lets a
user through when ``allauth.mfa.utils.is_mfa_enabled(user)``, and a login that went through
allauth's second step leaves exactly such a user in the session."""

import base64
import html
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.text import slugify

from jarfalla.bench import scenarios
from jarfalla.management.commands.seed_demo import (
    implement_routine,
    report_web_course,
    seeded_random,
)
from rollout import services as rollout_services
from rollout.models import Rollout
from routines.models import Routine
from training import services as training_services
from units import services as unit_services
from units.models import Municipality, Role, Sector, Unit, UnitManager, User

EMAIL_DOMAIN = "bench.invalid"
PERSONAS = {
    "coordinator": f"samordnare@{EMAIL_DOMAIN}",
    "small_coordinator": f"samordnare-smaort@{EMAIL_DOMAIN}",
    "manager": f"chef@{EMAIL_DOMAIN}",
    "superuser": f"admin@{EMAIL_DOMAIN}",
}
CSRF_FIELD = "csrfmiddlewaretoken"


@dataclass
class World:
    municipality: int
    small_municipality: int
    report_municipality: int
    sector: int
    workspace_unit: int
    manager_unit: int
    counts: dict[str, int] = field(default_factory=dict)
    # Persona -> session key (the value of the session cookie).
    sessions: dict[str, str] = field(default_factory=dict)

    def placeholders(self) -> dict[str, str]:
        return {
            "municipality": str(self.municipality),
            "small_municipality": str(self.small_municipality),
            "report_municipality": str(self.report_municipality),
            "sector": str(self.sector),
            "workspace_unit": str(self.workspace_unit),
            "manager_unit": str(self.manager_unit),
            "today": timezone.localdate().isoformat(),
        }


def bulk_municipality(prefix: str) -> Municipality:
    """The single municipality seed_demo made with ``--municipalities 1 --prefix <prefix>``."""
    return Municipality.objects.get(slug=f"{slugify(prefix)}-001")


def bench_user(email: str, *, superuser: bool = False, totp: bool = False) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        create = User.objects.create_superuser if superuser else User.objects.create_user
        # No password: the bench never logs in through the form.
        user = create(email=email, password=None, first_name="Bench", last_name=email.split("@")[0])
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    if totp and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, base64.b32encode(secrets.token_bytes(20)).decode())
    return user


def _without_rollout(municipality: Municipality) -> Unit:
    unit = (
        municipality.units.filter(is_active=True, rollouts__isnull=True)
        .order_by("pk")
        .select_related("municipality")
        .first()
    )
    if unit is None:
        raise RuntimeError(f"{municipality} has no unit without a rollout left for the bench")
    return unit


def workspace_unit(municipality: Municipality, coordinator: User, manager: User) -> Unit:
    """A unit with a history through the services (timeline, web-course reports, an implemented
    routine, follow-ups planned): the bulk units have rollouts but no history."""
    existing = Routine.objects.filter(rollout__unit__municipality=municipality).first()
    if existing:
        return existing.rollout.unit
    unit = _without_rollout(municipality)
    with transaction.atomic():
        rollout = rollout_services.rollout_start(actor=coordinator, unit=unit)
        report_web_course(seeded_random("bench-workspace"), rollout, coordinator, 3)
        training_services.web_course_complete(
            actor=coordinator, rollout=rollout, is_coordinator=True
        )
        implement_routine(rollout, coordinator)
    return unit


def manager_unit(municipality: Municipality, coordinator: User, manager: User) -> Unit:
    """A unit in step 1 led by the bench's manager (who posts web-course reports to it)."""
    membership = UnitManager.objects.filter(user=manager, unit__municipality=municipality).first()
    if membership:
        return membership.unit
    unit = _without_rollout(municipality)
    with transaction.atomic():
        unit_services.manager_add(actor=coordinator, unit=unit, user=manager)
        rollout = rollout_services.rollout_start(actor=coordinator, unit=unit)
        report_web_course(seeded_random("bench-manager"), rollout, manager, 1)
    return unit


def largest_sector(municipality: Municipality) -> Sector:
    return (
        Sector.objects.filter(municipality=municipality)
        .annotate(active=Count("units", filter=Q(units__is_active=True)))
        .order_by("-active", "pk")
        .first()
    ) or Sector.objects.filter(municipality=municipality).get()


def session_key(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def prepare() -> World:
    big = bulk_municipality(scenarios.BIG_PREFIX)
    small = bulk_municipality(scenarios.SMALL_PREFIX)
    report = bulk_municipality(scenarios.REPORT_PREFIX)

    coordinator = bench_user(PERSONAS["coordinator"], totp=True)
    small_coordinator = bench_user(PERSONAS["small_coordinator"], totp=True)
    manager = bench_user(PERSONAS["manager"])
    superuser = bench_user(PERSONAS["superuser"], superuser=True, totp=True)
    for municipality, user in ((big, coordinator), (small, small_coordinator)):
        unit_services.municipal_role_set(
            actor=None, municipality=municipality, user=user, role=Role.COORDINATOR
        )

    world = World(
        municipality=big.pk,
        small_municipality=small.pk,
        report_municipality=report.pk,
        sector=largest_sector(big).pk,
        workspace_unit=workspace_unit(big, coordinator, manager).pk,
        manager_unit=manager_unit(big, coordinator, manager).pk,
        counts={
            "municipalities": Municipality.objects.count(),
            "units": Unit.objects.count(),
            "rollouts": Rollout.objects.count(),
            "big_municipality_units": big.units.count(),
            "small_municipality_units": small.units.count(),
            "report_municipality_units": report.units.count(),
        },
    )
    users = {
        "coordinator": coordinator,
        "small_coordinator": small_coordinator,
        "manager": manager,
        "superuser": superuser,
    }
    world.sessions = {persona: session_key(user) for persona, user in users.items()}
    return world


# --- One request in-process: status and SQL queries ----------------------------------------------


@dataclass
class Probe:
    status: int
    queries: int
    error: str = ""
    # The counted request's time, alone on an idle server (in this process, without gunicorn).
    elapsed_ms: float = 0.0
    # For a form page: the CSRF cookie and the token of the form, for the load generator.
    csrf_cookie: str = ""
    csrf_token: str = ""


_TOKEN = re.compile(rf'name="{CSRF_FIELD}" value="([^"]+)"')


def client_for(session: str | None, host: str) -> Client:
    client = Client(HTTP_HOST=host, raise_request_exception=False, enforce_csrf_checks=True)
    if session:
        client.cookies[settings.SESSION_COOKIE_NAME] = session
    return client


def _describe(response: Any) -> str:
    exc_info = getattr(response, "exc_info", None)
    if exc_info:
        return f"{exc_info[0].__name__}: {exc_info[1]}"[:300]
    return ""


def probe(
    path: str,
    *,
    session: str | None,
    host: str,
    method: str = "GET",
    form: dict[str, str] | None = None,
) -> Probe:
    """The steady-state query count of one request: a first request warms caches (templates,
    content types, the session in Redis), the second is counted. For a POST the form page is
    fetched first for its CSRF token, as a browser does."""
    client = client_for(session, host)
    token = cookie = ""
    if method == "POST":
        page = client.get(path)
        if page.status_code != 200:
            return Probe(page.status_code, 0, _describe(page) or f"GET {path} before the POST")
        match = _TOKEN.search(page.content.decode())
        if not match:
            return Probe(page.status_code, 0, f"no CSRF token in the form at {path}")
        token = html.unescape(match.group(1))
        cookie = client.cookies[settings.CSRF_COOKIE_NAME].value
        data = {**(form or {}), CSRF_FIELD: token}
        client.post(path, data)
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            response = client.post(path, data)
    else:
        client.get(path)
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    return Probe(response.status_code, len(queries), _describe(response), elapsed, cookie, token)
