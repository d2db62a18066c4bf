"""The permission matrix: every URL pattern × every persona × the objects of units A, B and X.

DESIGN.md §2 and §3: a unit manager sees and edits only their own units, a coordinator only their own
municipality, nothing is visible across municipalities, and not found and not allowed look the same
(404); visible but read-only is 403. The URL patterns are enumerated from the resolver, so a view added
tomorrow fails `test_every_url_pattern_has_expectations` until someone writes its row below.

The world of every case: municipality A (units A and B) and municipality X (unit X). Personas come
from tests/conftest.py: manager_a, manager_b, coordinator (of A), other_coordinator (of X),
observer (of A), superuser, and anonymous (not logged in).
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from django.db.models import Model
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import DEFAULT_PASSWORD, UnitFactory, make_manager, make_observer
from units import services
from units.models import (
    AuditEvent,
    Municipality,
    MunicipalRole,
    Role,
    Sector,
    Unit,
    UnitManager,
    User,
)

# --- Walking the URL configuration ------------------------------------------------------------

# Third-party views are outside the matrix: allauth (login, e-mail, MFA, sessions) and the admin are
# tested upstream. Our admin wiring (allauth's secure_admin_login) has its own test at the bottom.
THIRD_PARTY_PREFIXES = (
    "account_",  # allauth.account
    "mfa_",  # allauth.mfa
    "usersessions_",  # allauth.usersessions
    "admin:",  # django.contrib.admin (including our ModelAdmins, guarded by is_staff)
)

# Our own code: a pattern excluded above must not point into these packages (except the admin's
# `<app>.admin` modules), so a project view cannot slip out of the matrix by its name alone.
OUR_PACKAGES = ("jarfalla.", "units.", "rollout.", "training.", "routines.", "followup.")


@dataclass(frozen=True)
class Route:
    route: str  # the full route, e.g. "units/<int:pk>/edit/"
    name: str  # qualified name, e.g. "units:edit"; "units:" when the pattern has no name
    view: str  # dotted path of the view, e.g. "units.views.unit_edit"


def walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield Route(
                route=prefix + str(entry.pattern),
                name=namespace + (entry.name or ""),
                view=entry.lookup_str,
            )


def is_third_party(route: Route) -> bool:
    return route.name.startswith(THIRD_PARTY_PREFIXES)


def project_routes() -> list[Route]:
    return [route for route in walk(get_resolver().url_patterns) if not is_third_party(route)]


# --- The world every case runs in -------------------------------------------------------------

PERSONAS = (
    "anonymous",
    "manager_a",
    "manager_b",
    "coordinator",
    "other_coordinator",
    "observer",
    "superuser",
)


@dataclass
class World:
    users: dict[str, User]
    # Keyed by target name ("unit_a", "municipality_x", "invitation_b", …).
    objects: dict[str, Model]
    # A manager membership of each unit, an observer role and a sector in each municipality, and
    # the token of each invitation.
    memberships: dict[str, UnitManager]
    municipal_roles: dict[str, MunicipalRole]
    sectors: dict[str, Sector]
    tokens: dict[str, str]

    def unit(self, target: str) -> Unit:
        unit = self.objects[target]
        assert isinstance(unit, Unit)
        return unit

    def municipality(self, target: str) -> Municipality:
        municipality = self.objects[target]
        assert isinstance(municipality, Municipality)
        return municipality


@pytest.fixture
def world(
    municipality: Municipality,
    other_municipality: Municipality,
    unit_a: Unit,
    unit_b: Unit,
    unit_x: Unit,
    manager_a: User,
    manager_b: User,
    coordinator: User,
    other_coordinator: User,
    observer: User,
    superuser: User,
) -> World:
    manager_x = make_manager(unit_x, email="chef.x@annan.example.se")
    observer_x = make_observer(other_municipality, email="fou@annan.example.se")
    objects: dict[str, Model] = {
        "unit_a": unit_a,
        "unit_b": unit_b,
        "unit_x": unit_x,
        "municipality_a": municipality,
        "municipality_x": other_municipality,
    }
    tokens: dict[str, str] = {}
    for suffix, unit, inviter in (
        ("a", unit_a, coordinator),
        ("b", unit_b, coordinator),
        ("x", unit_x, other_coordinator),
    ):
        invitation, token = services.invitation_create(
            actor=inviter,
            email=f"ny.chef.{suffix}@example.se",
            municipality=unit.municipality,
            role=Role.MANAGER,
            unit=unit,
        )
        objects[f"invitation_{suffix}"] = invitation
        tokens[f"invitation_{suffix}"] = token
    return World(
        users={
            "manager_a": manager_a,
            "manager_b": manager_b,
            "coordinator": coordinator,
            "other_coordinator": other_coordinator,
            "observer": observer,
            "superuser": superuser,
        },
        objects=objects,
        memberships={
            "unit_a": UnitManager.objects.get(unit=unit_a, user=manager_a),
            "unit_b": UnitManager.objects.get(unit=unit_b, user=manager_b),
            "unit_x": UnitManager.objects.get(unit=unit_x, user=manager_x),
        },
        municipal_roles={
            "municipality_a": MunicipalRole.objects.get(municipality=municipality, user=observer),
            "municipality_x": MunicipalRole.objects.get(
                municipality=other_municipality, user=observer_x
            ),
        },
        sectors={
            "municipality_a": unit_a.sector,
            "municipality_x": unit_x.sector,
        },
        tokens=tokens,
    )


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # Every case creates about ten users; the production hasher would make the matrix crawl.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- How to fill a URL and a form for a target ------------------------------------------------

Filler = Callable[[World, str], dict[str, Any]]


def no_kwargs(world: World, target: str) -> dict[str, Any]:
    return {}


def unit_kwargs(world: World, target: str) -> dict[str, Any]:
    return {"pk": world.unit(target).pk}


def manager_membership_kwargs(world: World, target: str) -> dict[str, Any]:
    return {"pk": world.unit(target).pk, "membership_pk": world.memberships[target].pk}


def municipality_kwargs(world: World, target: str) -> dict[str, Any]:
    return {"municipality_pk": world.municipality(target).pk}


def municipal_role_kwargs(world: World, target: str) -> dict[str, Any]:
    return {
        "municipality_pk": world.municipality(target).pk,
        "pk": world.municipal_roles[target].pk,
    }


def sector_kwargs(world: World, target: str) -> dict[str, Any]:
    return {"municipality_pk": world.municipality(target).pk, "pk": world.sectors[target].pk}


def invitation_kwargs(world: World, target: str) -> dict[str, Any]:
    return {"pk": world.objects[target].pk}


def token_kwargs(world: World, target: str) -> dict[str, Any]:
    return {"token": world.tokens[target]}


def no_data(world: World, target: str) -> dict[str, Any]:
    return {}


def unit_form(world: World, target: str) -> dict[str, Any]:
    """Valid for both forms: the coordinator's UnitForm and the manager's ManagerUnitForm."""
    unit = world.unit(target)
    return {
        "name": unit.name,
        "sector": unit.sector_id,
        "kind": unit.kind,
        "headcount": unit.headcount + 1,
        "functional_email": "",
        "duty_to_report": "auto",
    }


def new_unit_form(world: World, target: str) -> dict[str, Any]:
    municipality = world.municipality(target)
    sector = municipality.sectors.filter(is_active=True).order_by("name").first()
    assert sector is not None
    return {
        "name": "Nya fritidsgården",
        "sector": sector.pk,
        "kind": "municipal",
        "headcount": 5,
        "duty_to_report": "auto",
    }


def settings_form(world: World, target: str) -> dict[str, Any]:
    municipality = world.municipality(target)
    return {
        "name": municipality.name,
        "model_name": f"{municipality.model_name} (ny)",
        "web_course_url": "",
        "facilitator_guide_url": "",
        "followup_offsets_months": "6, 12",
        "web_course_threshold_percent": "80",
    }


def fixed(data: dict[str, Any]) -> Filler:
    return lambda world, target: data


# --- The expectations -------------------------------------------------------------------------

LOGIN: Literal["login"] = "login"  # 302 to the login page with ?next=
Expected = int | Literal["login"]

NONE = ("-",)  # the URL is about no object
UNITS = ("unit_a", "unit_b", "unit_x")
MUNICIPALITIES = ("municipality_a", "municipality_x")
# A manager invitation to unit A, B and X.
INVITATIONS = ("invitation_a", "invitation_b", "invitation_x")


@dataclass(frozen=True)
class Spec:
    targets: tuple[str, ...]
    # method → persona → expected answer for each target, in the order of `targets`
    expect: dict[str, dict[str, tuple[Expected, ...]]]
    kwargs: Filler = no_kwargs
    data: Filler = no_data
    # Methods the view answers at all; every other one of GET, POST and DELETE must be 405.
    # None: the view takes any method (Django's set_language).
    allowed: tuple[str, ...] | None = ("GET",)
    # A successful POST changes data through a service, which records an audit event.
    audited: bool = True


# Read a table row as: persona → (answer for target 1, target 2, …). 302 is the redirect after a
# successful POST (or the start page's redirect); LOGIN is the redirect of an anonymous visitor.
# fmt: off
EXPECTATIONS: dict[str, Spec] = {
    # --- Project pages (jarfalla/urls.py) ---
    "home": Spec(NONE, {"GET": {
        "anonymous":         (LOGIN,),
        "manager_a":         (302,),  # everyone with a role starts at units:list
        "manager_b":         (302,),
        "coordinator":       (302,),
        "other_coordinator": (302,),
        "observer":          (302,),
        "superuser":         (302,),
    }}),
    "my_account": Spec(NONE, {"GET": {
        "anonymous":         (LOGIN,),
        "manager_a":         (200,),
        "manager_b":         (200,),
        "coordinator":       (200,),
        "other_coordinator": (200,),
        "observer":          (200,),
        "superuser":         (200,),
    }}),
    "healthz": Spec(NONE, {"GET": {  # public
        "anonymous":         (200,),
        "manager_a":         (200,),
        "manager_b":         (200,),
        "coordinator":       (200,),
        "other_coordinator": (200,),
        "observer":          (200,),
        "superuser":         (200,),
    }}),
    "accessibility": Spec(NONE, {"GET": {  # public
        "anonymous":         (200,),
        "manager_a":         (200,),
        "manager_b":         (200,),
        "coordinator":       (200,),
        "other_coordinator": (200,),
        "observer":          (200,),
        "superuser":         (200,),
    }}),
    "set_language": Spec(NONE, {"POST": {  # public
        "anonymous":         (302,),
        "manager_a":         (302,),
        "manager_b":         (302,),
        "coordinator":       (302,),
        "other_coordinator": (302,),
        "observer":          (302,),
        "superuser":         (302,),
    }}, data=fixed({"language": "en", "next": "/"}), allowed=None, audited=False),

    # --- Units (units/urls.py) ---
    "units:list": Spec(NONE, {"GET": {  # which units each persona sees: test_unit_list_shows_*
        "anonymous":         (LOGIN,),
        "manager_a":         (200,),
        "manager_b":         (200,),
        "coordinator":       (200,),
        "other_coordinator": (200,),
        "observer":          (200,),
        "superuser":         (200,),
    }}),
    "units:detail": Spec(UNITS, {"GET": {
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (200,   404,   404),
        "manager_b":         (404,   200,   404),
        "coordinator":       (200,   200,   404),
        "other_coordinator": (404,   404,   200),
        "observer":          (200,   200,   404),
        "superuser":         (200,   200,   200),
    }}, kwargs=unit_kwargs),
    "units:edit": Spec(UNITS, {
        "GET": {
            #                     unit_a unit_b unit_x
            "anonymous":         (LOGIN, LOGIN, LOGIN),
            "manager_a":         (200,   404,   404),
            "manager_b":         (404,   200,   404),
            "coordinator":       (200,   200,   404),
            "other_coordinator": (404,   404,   200),
            "observer":          (403,   403,   404),
            "superuser":         (200,   200,   200),
        },
        "POST": {
            "anonymous":         (LOGIN, LOGIN, LOGIN),
            "manager_a":         (302,   404,   404),
            "manager_b":         (404,   302,   404),
            "coordinator":       (302,   302,   404),
            "other_coordinator": (404,   404,   302),
            "observer":          (403,   403,   404),
            "superuser":         (302,   302,   302),
        },
    }, kwargs=unit_kwargs, data=unit_form, allowed=("GET", "POST")),
    "units:archive": Spec(UNITS, {"POST": {  # coordinator only
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (403,   404,   404),
        "manager_b":         (404,   403,   404),
        "coordinator":       (302,   302,   404),
        "other_coordinator": (404,   404,   302),
        "observer":          (403,   403,   404),
        "superuser":         (302,   302,   302),
    }}, kwargs=unit_kwargs, data=fixed({"archive": "1"}), allowed=("POST",)),
    "units:invite_manager": Spec(UNITS, {  # coordinator only
        "GET": {
            #                     unit_a unit_b unit_x
            "anonymous":         (LOGIN, LOGIN, LOGIN),
            "manager_a":         (403,   404,   404),
            "manager_b":         (404,   403,   404),
            "coordinator":       (200,   200,   404),
            "other_coordinator": (404,   404,   200),
            "observer":          (403,   403,   404),
            "superuser":         (200,   200,   200),
        },
        "POST": {
            "anonymous":         (LOGIN, LOGIN, LOGIN),
            "manager_a":         (403,   404,   404),
            "manager_b":         (404,   403,   404),
            "coordinator":       (302,   302,   404),
            "other_coordinator": (404,   404,   302),
            "observer":          (403,   403,   404),
            "superuser":         (302,   302,   302),
        },
    }, kwargs=unit_kwargs, data=fixed({"email": "ny.person@example.se"}), allowed=("GET", "POST")),
    "units:manager_remove": Spec(UNITS, {"POST": {  # coordinator only; a manager of the unit
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (403,   404,   404),
        "manager_b":         (404,   403,   404),
        "coordinator":       (302,   302,   404),
        "other_coordinator": (404,   404,   302),
        "observer":          (403,   403,   404),
        "superuser":         (302,   302,   302),
    }}, kwargs=manager_membership_kwargs, allowed=("POST",)),
    "units:create": Spec(MUNICIPALITIES, {
        "GET": {
            #                     municipality_a municipality_x
            "anonymous":         (LOGIN,         LOGIN),
            "manager_a":         (404,           404),  # managers see no municipality pages
            "manager_b":         (404,           404),
            "coordinator":       (200,           404),
            "other_coordinator": (404,           200),
            "observer":          (403,           404),
            "superuser":         (200,           200),
        },
        "POST": {
            "anonymous":         (LOGIN,         LOGIN),
            "manager_a":         (404,           404),
            "manager_b":         (404,           404),
            "coordinator":       (302,           404),
            "other_coordinator": (404,           302),
            "observer":          (403,           404),
            "superuser":         (302,           302),
        },
    }, kwargs=municipality_kwargs, data=new_unit_form, allowed=("GET", "POST")),
    "units:people": Spec(MUNICIPALITIES, {
        "GET": {
            #                     municipality_a municipality_x
            "anonymous":         (LOGIN,         LOGIN),
            "manager_a":         (404,           404),
            "manager_b":         (404,           404),
            "coordinator":       (200,           404),
            "other_coordinator": (404,           200),
            "observer":          (403,           404),
            "superuser":         (200,           200),
        },
        "POST": {
            "anonymous":         (LOGIN,         LOGIN),
            "manager_a":         (404,           404),
            "manager_b":         (404,           404),
            "coordinator":       (302,           404),
            "other_coordinator": (404,           302),
            "observer":          (403,           404),
            "superuser":         (302,           302),
        },
    }, kwargs=municipality_kwargs,
       data=fixed({"email": "ny.person@example.se", "role": Role.OBSERVER.value}),
       allowed=("GET", "POST")),
    "units:role_remove": Spec(MUNICIPALITIES, {"POST": {  # an observer role in the municipality
        #                     municipality_a municipality_x
        "anonymous":         (LOGIN,         LOGIN),
        "manager_a":         (404,           404),
        "manager_b":         (404,           404),
        "coordinator":       (302,           404),
        "other_coordinator": (404,           302),
        "observer":          (403,           404),
        "superuser":         (302,           302),
    }}, kwargs=municipal_role_kwargs, allowed=("POST",)),
    "units:settings": Spec(MUNICIPALITIES, {
        "GET": {
            #                     municipality_a municipality_x
            "anonymous":         (LOGIN,         LOGIN),
            "manager_a":         (404,           404),
            "manager_b":         (404,           404),
            "coordinator":       (200,           404),
            "other_coordinator": (404,           200),
            "observer":          (403,           404),
            "superuser":         (200,           200),
        },
        "POST": {
            "anonymous":         (LOGIN,         LOGIN),
            "manager_a":         (404,           404),
            "manager_b":         (404,           404),
            "coordinator":       (302,           404),
            "other_coordinator": (404,           302),
            "observer":          (403,           404),
            "superuser":         (302,           302),
        },
    }, kwargs=municipality_kwargs, data=settings_form, allowed=("GET", "POST")),
    "units:sector_create": Spec(MUNICIPALITIES, {"POST": {
        #                     municipality_a municipality_x
        "anonymous":         (LOGIN,         LOGIN),
        "manager_a":         (404,           404),
        "manager_b":         (404,           404),
        "coordinator":       (302,           404),
        "other_coordinator": (404,           302),
        "observer":          (403,           404),
        "superuser":         (302,           302),
    }}, kwargs=municipality_kwargs, data=fixed({"name": "Ny sektor"}), allowed=("POST",)),
    "units:sector_toggle": Spec(MUNICIPALITIES, {"POST": {  # a sector of the municipality
        #                     municipality_a municipality_x
        "anonymous":         (LOGIN,         LOGIN),
        "manager_a":         (404,           404),
        "manager_b":         (404,           404),
        "coordinator":       (302,           404),
        "other_coordinator": (404,           302),
        "observer":          (403,           404),
        "superuser":         (302,           302),
    }}, kwargs=sector_kwargs, allowed=("POST",)),
    "units:audit": Spec(MUNICIPALITIES, {"GET": {
        #                     municipality_a municipality_x
        "anonymous":         (LOGIN,         LOGIN),
        "manager_a":         (404,           404),
        "manager_b":         (404,           404),
        "coordinator":       (200,           404),
        "other_coordinator": (404,           200),
        "observer":          (403,           404),
        "superuser":         (200,           200),
    }}, kwargs=municipality_kwargs),
    # Invitations belong to the municipality's coordinators. A manager sees the unit but not its
    # pending invitations (the unit page lists them to coordinators only), so they are invisible: 404.
    "units:invitation_revoke": Spec(INVITATIONS, {"POST": {
        #                     invitation_a invitation_b invitation_x
        "anonymous":         (LOGIN,       LOGIN,       LOGIN),
        "manager_a":         (404,         404,         404),
        "manager_b":         (404,         404,         404),
        "coordinator":       (302,         302,         404),
        "other_coordinator": (404,         404,         302),
        "observer":          (403,         403,         404),
        "superuser":         (302,         302,         302),
    }}, kwargs=invitation_kwargs, allowed=("POST",)),
    "units:invitation_resend": Spec(INVITATIONS, {"POST": {
        #                     invitation_a invitation_b invitation_x
        "anonymous":         (LOGIN,       LOGIN,       LOGIN),
        "manager_a":         (404,         404,         404),
        "manager_b":         (404,         404,         404),
        "coordinator":       (302,         302,         404),
        "other_coordinator": (404,         404,         302),
        "observer":          (403,         403,         404),
        "superuser":         (302,         302,         302),
    }}, kwargs=invitation_kwargs, allowed=("POST",)),
    # Public: the link is the credential. Accepting while logged in as somebody else is refused
    # with the "invalid invitation" page (410); the anonymous invitee gets an account and the start.
    "units:invitation_accept": Spec(INVITATIONS, {
        "GET": {
            #                     invitation_a invitation_b invitation_x
            "anonymous":         (200,         200,         200),
            "manager_a":         (200,         200,         200),
            "manager_b":         (200,         200,         200),
            "coordinator":       (200,         200,         200),
            "other_coordinator": (200,         200,         200),
            "observer":          (200,         200,         200),
            "superuser":         (200,         200,         200),
        },
        "POST": {
            "anonymous":         (302,         302,         302),
            "manager_a":         (410,         410,         410),
            "manager_b":         (410,         410,         410),
            "coordinator":       (410,         410,         410),
            "other_coordinator": (410,         410,         410),
            "observer":          (410,         410,         410),
            "superuser":         (410,         410,         410),
        },
    }, kwargs=token_kwargs,
       data=fixed({"password1": DEFAULT_PASSWORD, "password2": DEFAULT_PASSWORD}),
       allowed=("GET", "POST")),
}
# fmt: on


# --- Making and checking a request ------------------------------------------------------------


def login_url() -> str:
    return reverse("account_login")


def send(client: Client, method: str, url: str, data: dict[str, Any]) -> HttpResponseBase:
    if method == "GET":
        return client.get(url)
    if method == "POST":
        return client.post(url, data)
    return client.generic(method, url)


def check(response: HttpResponseBase, expected: Expected, label: str) -> None:
    got = response.status_code
    location = response.get("Location", "")
    assert got == (302 if expected == LOGIN else expected), (
        f"{label}: expected {expected}, got {got} {location}".rstrip()
    )
    if expected == LOGIN:
        assert location.startswith(login_url() + "?next="), f"{label}: redirected to {location}"
    elif expected == 302:
        # A success redirect, not a disguised "please log in" or "set up MFA first".
        assert not location.startswith(login_url()), f"{label}: redirected to login"
        assert not location.startswith(reverse("mfa_activate_totp")), f"{label}: sent to MFA setup"


def log_in(client: Client, world: World, persona: str) -> None:
    if persona != "anonymous":
        client.force_login(world.users[persona])


def matrix_cases() -> Iterator[Any]:
    for name, spec in EXPECTATIONS.items():
        for method, rows in spec.expect.items():
            for persona, answers in rows.items():
                for target, expected in zip(spec.targets, answers, strict=False):
                    case_id = f"{name}-{method}-{persona}" + (f"-{target}" if target != "-" else "")
                    yield pytest.param(name, method, persona, target, expected, id=case_id)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method", "persona", "target", "expected"), list(matrix_cases()))
def test_permission_matrix(
    client: Client,
    world: World,
    name: str,
    method: str,
    persona: str,
    target: str,
    expected: Expected,
) -> None:
    spec = EXPECTATIONS[name]
    url = reverse(name, kwargs=spec.kwargs(world, target))
    data = spec.data(world, target) if method == "POST" else {}
    log_in(client, world, persona)
    audit_before = AuditEvent.objects.count()

    response = send(client, method, url, data)

    check(response, expected, f"{method} {url} as {persona}")
    written = AuditEvent.objects.count() - audit_before
    if expected in (LOGIN, 403, 404, 410):
        # Refused means refused: the view wrote nothing (every service leaves an audit event).
        assert written == 0, f"{method} {url} as {persona}: refused, yet {written} audit events"
    elif method == "POST" and expected == 302 and spec.audited:
        # …and the redirect of a success is a real success, not a message saying why not.
        assert written > 0, f"{method} {url} as {persona}: redirected without changing anything"


def test_every_url_pattern_has_expectations() -> None:
    routes = project_routes()
    unnamed = [route.route for route in routes if route.name.endswith(":") or not route.name]
    assert not unnamed, f"URL patterns without a name cannot be in the matrix: {unnamed}"
    found = {route.name: route for route in routes}
    missing = sorted(f"{name} ({found[name].route})" for name in set(found) - set(EXPECTATIONS))
    assert not missing, f"URL patterns missing from EXPECTATIONS in {__name__}: {missing}"
    stale = sorted(set(EXPECTATIONS) - set(found))
    assert not stale, f"EXPECTATIONS name URL patterns that no longer exist: {stale}"


def test_third_party_exclusions_hide_none_of_our_views() -> None:
    ours = [
        f"{route.name} → {route.view}"
        for route in walk(get_resolver().url_patterns)
        if is_third_party(route)
        and route.view.startswith(OUR_PACKAGES)
        and not (route.name.startswith("admin:") and ".admin." in route.view)
    ]
    assert not ours, f"project views hidden from the matrix by a third-party prefix: {ours}"


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_expectations_cover_every_persona_and_target(name: str) -> None:
    spec = EXPECTATIONS[name]
    for method, rows in spec.expect.items():
        assert tuple(rows) == PERSONAS, f"{name} {method}: rows must be exactly {PERSONAS}"
        for persona, answers in rows.items():
            assert len(answers) == len(spec.targets), f"{name} {method} {persona}: one per target"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", sorted(name for name, spec in EXPECTATIONS.items() if spec.allowed is not None)
)
def test_wrong_method_is_405(client: Client, world: World, name: str) -> None:
    """Mutations are POST only; pages answer GET (and POST where they hold a form)."""
    spec = EXPECTATIONS[name]
    assert spec.allowed is not None
    assert set(spec.expect) == set(spec.allowed), f"{name}: expectations for every allowed method"
    url = reverse(name, kwargs=spec.kwargs(world, spec.targets[0]))
    # The superuser may do everything, so only the method can be the reason for a refusal.
    client.force_login(world.users["superuser"])
    for method in sorted({"GET", "POST", "DELETE"} - set(spec.allowed)):
        response = send(client, method, url, {})
        assert response.status_code == 405, f"{method} {url}: got {response.status_code}"


# --- Ids that do not belong together ----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "in_unit", "membership_of"),
    [
        ("coordinator", "unit_a", "unit_b"),  # same municipality, another unit
        ("coordinator", "unit_a", "unit_x"),  # another municipality
        ("superuser", "unit_a", "unit_b"),
    ],
)
def test_manager_remove_refuses_a_membership_of_another_unit(
    client: Client, world: World, persona: str, in_unit: str, membership_of: str
) -> None:
    membership = world.memberships[membership_of]
    log_in(client, world, persona)
    url = reverse(
        "units:manager_remove",
        kwargs={"pk": world.unit(in_unit).pk, "membership_pk": membership.pk},
    )
    assert client.post(url).status_code == 404
    assert UnitManager.objects.filter(pk=membership.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "in_municipality", "role_in"),
    [
        ("coordinator", "municipality_a", "municipality_x"),
        ("other_coordinator", "municipality_x", "municipality_a"),
        ("superuser", "municipality_a", "municipality_x"),
    ],
)
def test_role_remove_refuses_a_role_in_another_municipality(
    client: Client, world: World, persona: str, in_municipality: str, role_in: str
) -> None:
    role = world.municipal_roles[role_in]
    log_in(client, world, persona)
    url = reverse(
        "units:role_remove",
        kwargs={"municipality_pk": world.municipality(in_municipality).pk, "pk": role.pk},
    )
    assert client.post(url).status_code == 404
    assert MunicipalRole.objects.filter(pk=role.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "in_municipality", "sector_of"),
    [
        ("coordinator", "municipality_a", "municipality_x"),
        ("other_coordinator", "municipality_x", "municipality_a"),
        ("superuser", "municipality_a", "municipality_x"),
    ],
)
def test_sector_toggle_refuses_a_sector_of_another_municipality(
    client: Client, world: World, persona: str, in_municipality: str, sector_of: str
) -> None:
    sector = world.sectors[sector_of]
    log_in(client, world, persona)
    url = reverse(
        "units:sector_toggle",
        kwargs={"municipality_pk": world.municipality(in_municipality).pk, "pk": sector.pk},
    )
    assert client.post(url).status_code == 404
    sector.refresh_from_db()
    assert sector.is_active


# --- What the unit list shows -----------------------------------------------------------------

VISIBLE_UNITS = {
    "manager_a": {"unit_a"},
    "manager_b": {"unit_b"},
    "coordinator": {"unit_a", "unit_b"},
    "other_coordinator": {"unit_x"},
    "observer": {"unit_a", "unit_b"},
    "superuser": {"unit_a", "unit_b", "unit_x"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", sorted(VISIBLE_UNITS))
def test_unit_list_shows_exactly_the_visible_units(
    client: Client, world: World, persona: str
) -> None:
    log_in(client, world, persona)
    response = client.get(reverse("units:list"))
    assert response.status_code == 200
    shown = {unit.pk for unit in response.context["page"].object_list}
    expected = VISIBLE_UNITS[persona]
    assert shown == {world.unit(target).pk for target in expected}
    html = response.content.decode()
    for target in UNITS:
        unit = world.unit(target)
        link = reverse("units:detail", kwargs={"pk": unit.pk})
        assert (unit.name in html) == (target in expected), f"{persona}: {unit.name}"
        assert (f'href="{link}"' in html) == (target in expected), f"{persona}: {link}"


@pytest.mark.django_db
def test_unit_list_redirects_anonymous_to_login(client: Client) -> None:
    check(client.get(reverse("units:list")), LOGIN, "GET units:list as anonymous")


# A request once logged in (superuser or coordinator, the most): the session's user; allauth's
# usersession bookkeeping (select, user, update, 2 savepoints); the MFA middleware (roles ×2, the
# authenticator); the count; coordinated municipalities ×2 (the "new unit" button and the
# navigation); sectors for the filter; the page of units; the session save (update, 2 savepoints).
# None of it depends on the number of units: an N+1 on the page would add at least 25.
UNIT_LIST_MAX_QUERIES = 17


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["manager_a", "coordinator", "observer", "superuser"])
def test_unit_list_query_count_does_not_grow_with_units(
    client: Client,
    world: World,
    persona: str,
    django_assert_max_num_queries: Any,
) -> None:
    municipality = world.municipality("municipality_a")
    units = UnitFactory.create_batch(30, municipality=municipality)
    for unit in units:
        UnitManager.objects.create(user=world.users["manager_a"], unit=unit)
    log_in(client, world, persona)
    client.get(reverse("units:list"))  # the first request after login also records the session
    with django_assert_max_num_queries(UNIT_LIST_MAX_QUERIES):
        response = client.get(reverse("units:list"))
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 25  # a full page: the N+1 would show


# --- The admin (third party, but wired by us) -------------------------------------------------


@pytest.mark.django_db
def test_admin_sends_anonymous_visitors_to_the_login_page(client: Client) -> None:
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain, "expected a redirect"
    final_url, _status = response.redirect_chain[-1]
    assert final_url.startswith(login_url() + "?next="), response.redirect_chain
    assert response.status_code == 200


@pytest.mark.django_db
def test_admin_refuses_a_logged_in_non_staff_user(client: Client, manager_a: User) -> None:
    client.force_login(manager_a)
    response = client.get("/admin/", follow=True)
    # allauth's secure_admin_login: a logged-in person without is_staff is refused, never offered
    # the admin's own login form.
    assert response.status_code == 403
    assert all(not url.startswith(login_url()) for url, _status in response.redirect_chain)
    assert b"Site administration" not in response.content
    assert b'name="password"' not in response.content


@pytest.mark.django_db
def test_admin_lets_the_superuser_in(client: Client, superuser: User) -> None:
    client.force_login(superuser)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "Järfällamodellen" in response.content.decode()
