"""The permission matrix: every URL pattern × every persona × the objects of units A, B and X.

DESIGN.md §2 and §3: a unit manager sees and edits only their own units, a coordinator only their own
municipality, nothing is visible across municipalities, and not found and not allowed look the same
(404); visible but read-only is 403. The URL patterns are enumerated from the resolver, so a view added
tomorrow fails `test_every_url_pattern_has_expectations` until someone writes its row below.

The world of every case: municipality A (units A and B) and municipality X (unit X). Personas come
from tests/conftest.py: manager_a, manager_b, coordinator (of A), other_coordinator (of X),
observer (of A), superuser, and anonymous (not logged in). A row may prepare its target before the
request (`Spec.setup`), so that an allowed action is really possible: a rollout waiting to be
accepted, an active one to pause, and so on.

Every change leaves a trace: units' services write units.AuditEvent, the rollout engine and the step
apps write rollout.TimelineEvent (a unit's timeline is its audit trail). A refused request must
write neither; a successful POST must write to the trail its row names (`Spec.trail`). The few rows
that name no trail (the language, a person's own notification settings, sending a failed reminder
again) must write to neither; those that change a row say with `Spec.done` what changes instead.
"""

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Model
from django.http.response import HttpResponseBase
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.http import urlencode

from followup import followups
from followup import services as outbox_services
from followup.models import FollowUp, FollowUpStatus, NotificationSettings, Reminder, ReminderStatus
from rollout import certificates, reports
from rollout import interventions as intervention_services
from rollout import services as rollout_services
from rollout.models import Rollout, RolloutStatus, Step, StepState, StepStatus, TimelineEvent
from routines import selectors as routine_selectors
from routines import services as routine_services
from routines.models import SECTION_KEYS, ReferenceEntry, Routine, RoutineStatus
from tests.factories import DEFAULT_PASSWORD, UnitFactory, make_manager, make_observer
from tests.followup.test_followups import implement
from training import services as training_services
from training.models import CalendarFeed, CourseMode, SessionStatus, Theme, TrainingSession
from units import imports, invitation_imports, pagecache, services
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


def session_kwargs(world: World, target: str) -> dict[str, Any]:
    """The unit's one training session (made by the row's setup)."""
    session = TrainingSession.objects.get(rollout__unit=world.unit(target))
    return {"pk": session.rollout.unit_id, "session_pk": session.pk}


def first_theme(municipality: Municipality) -> Theme:
    theme = Theme.objects.filter(municipality=municipality).order_by("position", "pk").first()
    assert theme is not None, f"{municipality}: no themes (run themes_ensure_defaults first)"
    return theme


def theme_kwargs(world: World, target: str) -> dict[str, Any]:
    municipality = world.municipality(target)
    return {"municipality_pk": municipality.pk, "theme_pk": first_theme(municipality).pk}


def feed_kwargs(world: World, target: str) -> dict[str, Any]:
    """The coordinator's private calendar address (made by the row's setup)."""
    return {"token": world.tokens["calendar_feed"]}


def routine_of(world: World, target: str) -> Routine:
    """The unit's routine (started by the row's setup)."""
    routine = routine_selectors.routine_for(unit=world.unit(target))
    assert routine is not None, f"{target}: no routine (the row's setup starts one)"
    return routine


def example_kwargs(world: World, target: str) -> dict[str, Any]:
    """The unit's routine, shared as an example (by the row's setup)."""
    return {"routine_pk": routine_of(world, target).pk}


def six_months(world: World, target: str) -> FollowUp:
    """The unit's 6-month follow-up (created when the row's setup starts step 4)."""
    return FollowUp.objects.get(rollout__unit=world.unit(target), offset_months=6)


def follow_up_kwargs(world: World, target: str) -> dict[str, Any]:
    return {"pk": world.unit(target).pk, "follow_up_pk": six_months(world, target).pk}


# The unit whose manager gets the municipality's failed reminder (made by the row's setup).
REMINDER_UNIT = {"municipality_a": "unit_a", "municipality_x": "unit_x"}


def reminder_key(target: str) -> str:
    return f"matrix:{target}"


def failed_reminder_of(target: str) -> Reminder:
    return Reminder.objects.get(subject_key=reminder_key(target))


def reminder_kwargs(world: World, target: str) -> dict[str, Any]:
    return {
        "municipality_pk": world.municipality(target).pk,
        "pk": failed_reminder_of(target).pk,
    }


def no_data(world: World, target: str) -> dict[str, Any]:
    return {}


def no_query(world: World, target: str) -> dict[str, Any]:
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


def import_csv(world: World, target: str) -> bytes:
    """units.imports: one new unit in a sector of the municipality."""
    sector = world.sectors[target].name
    return f"namn;sektor;antal anställda\r\nNya fritidsgården;{sector};5\r\n".encode()


def import_upload(world: World, target: str) -> dict[str, Any]:
    return {"file": SimpleUploadedFile("enheter.csv", import_csv(world, target))}


def import_payload(world: World, target: str) -> dict[str, Any]:
    """The preview's signed rows, as the confirm button posts them."""
    rows = imports.parse(import_csv(world, target)).rows
    return {"payload": imports.sign(municipality_id=world.municipality(target).pk, rows=rows)}


def invite_csv(world: World, target: str) -> bytes:
    """units.invitation_imports: a new manager for one of the municipality's units."""
    unit = world.unit("unit_a" if target == "municipality_a" else "unit_x")
    return f"enhet;e-post\r\n{unit.name};ny.chef.fil@example.se\r\n".encode()


def invite_upload(world: World, target: str) -> dict[str, Any]:
    return {"file": SimpleUploadedFile("chefer.csv", invite_csv(world, target))}


def invite_payload(world: World, target: str) -> dict[str, Any]:
    """The invitation preview's signed rows, as its send button posts them."""
    spec = invitation_imports.SPEC
    rows = imports.parse(invite_csv(world, target), spec).rows
    municipality_id = world.municipality(target).pk
    return {"payload": imports.sign(municipality_id=municipality_id, rows=rows, spec=spec)}


def people_page(world: World, target: str) -> str:
    return reverse("units:people", args=[world.municipality(target).pk])


def unit_list_page(world: World, target: str) -> str:
    return reverse("units:list")


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


def step_kwargs(step: int) -> Filler:
    return lambda world, target: {"pk": world.unit(target).pk, "step": step}


def reason_form(world: World, target: str) -> dict[str, Any]:
    """rollout.forms.ReasonForm: decline, pause and the early start of a step."""
    return {"reason": "Personalbyte under hösten"}


def web_course_report_form(world: World, target: str) -> dict[str, Any]:
    """training.forms.WebCourseReportForm: 2 more of the unit's 20 have taken the course today."""
    return {
        "reported_on": timezone.localdate().isoformat(),
        "completed_count": 2,
        "mode": CourseMode.GROUPS.value,
        "group_sessions": 1,
        "knowledge_level": 3,
        "reflections": "",
        "new_headcount": "",
    }


def in_days(days: int, hour: int) -> dt.datetime:
    """A whole hour `days` from today, local (Stockholm) time."""
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def theme_pks(world: World, target: str, count: int = 2) -> list[int]:
    municipality = world.unit(target).municipality
    themes = Theme.objects.filter(municipality=municipality, is_active=True).order_by("position")
    return list(themes.values_list("pk", flat=True)[:count])


def wish_form(world: World, target: str) -> dict[str, Any]:
    """training.forms.WishForm: the unit's wishes for step 2."""
    return {
        "themes": theme_pks(world, target),
        "suggested_dates": "tisdagar efter 15",
        "note": "",
    }


def booking_form(world: World, target: str) -> dict[str, Any]:
    """training.forms.SessionForm without warnings: in 5 days, 18 of the unit's 20, led by a
    coordinator of the municipality (a choice for the superuser too), no clash for the leader."""
    when = in_days(5, hour=9)
    return {
        "date": when.date().isoformat(),
        "time": when.strftime("%H:%M"),
        "duration_minutes": 120,
        "place": "Personalrummet",
        "video_url": "",
        "themes": theme_pks(world, target),
        "expected_participants": 18,
        "leader": coordinator_of(world, target).pk,
        "confirm": "",
    }


def held_form(world: World, target: str) -> dict[str, Any]:
    """training.forms.HeldForm: counts and a group rating only."""
    return {"participants": 15, "exercises": "Fallövningar i grupp", "rating": 4, "notes": ""}


def new_theme_form(world: World, target: str) -> dict[str, Any]:
    return {
        "name": "Nätverk och sociala medier",
        "description": "Kontroll via telefon och nätet.",
        "is_active": "on",
    }


def theme_form(world: World, target: str) -> dict[str, Any]:
    return {
        "name": "Begrepp och ideologi",
        "description": "Hedersnormer och kollektiv kontroll.",
        "is_active": "on",
    }


def sections_of(routine: Routine) -> dict[str, str]:
    """The text of the routine's current version, section by section."""
    sections = routine_selectors.version(routine=routine).sections
    return {key: sections.get(key, "") for key in SECTION_KEYS}


def routine_form(world: World, target: str) -> dict[str, Any]:
    """routines.forms.RoutineForm: the current version with one more sign, built on it."""
    routine = routine_of(world, target)
    sections = sections_of(routine)
    sections["signs"] += "\n- Slutar plötsligt delta i idrotten"
    return {"base_version": routine.current_version, **sections}


def approve_form(world: World, target: str) -> dict[str, Any]:
    """The version the person read and approves: the current one."""
    return {"version": routine_of(world, target).current_version}


def implement_form(world: World, target: str) -> dict[str, Any]:
    """routines.forms.ImplementForm: in force and made known to the staff today."""
    today = timezone.localdate().isoformat()
    return {
        "implemented_on": today,
        "staff_informed_on": today,
        "business_plan_location": "Verksamhetsplan 2027, avsnitt 4.2 Trygghet",
    }


def reference_form(world: World, target: str) -> dict[str, Any]:
    """routines.forms.ReferenceForm: a value for every key of the municipality."""
    keys = ReferenceEntry.objects.filter(municipality=world.municipality(target)).values_list(
        "key", flat=True
    )
    assert keys, f"{target}: no reference data (run references_ensure_defaults first)"
    return {key: f"08-580 {number:03d} 00" for number, key in enumerate(sorted(keys), start=100)}


def compare_query(world: World, target: str) -> dict[str, Any]:
    return {"a": 1, "b": 2}


def follow_up_booking_form(world: World, target: str) -> dict[str, Any]:
    """followup.forms.BookForm: a meeting at the unit in 5 days."""
    when = in_days(5, hour=10)
    return {
        "date": when.date().isoformat(),
        "time": when.strftime("%H:%M"),
        "mode": "meeting",
        "place": "Personalrummet",
    }


def follow_up_record_form(world: World, target: str) -> dict[str, Any]:
    """followup.forms.RecordForm: the oral follow-up, as counts and judgements."""
    return {
        "routine_in_use": "yes",
        "times_used": 2,
        "consultations": 1,
        "reports_of_concern": 0,
        "support_needed": "supervision",
        "effect": 4,
        "effect_text": "Personalen vet vem de ska fråga.",
        "lessons": "Rutinen behöver bli kortare.",
        "share_lessons": "on",
    }


# followup.forms.NotificationSettingsForm: every field away from its default (daily, on, sv);
# the unchecked box turns the nudges off.
NOTIFICATION_SETTINGS = {"digest": "weekly", "language": "en"}


def unit_page(world: World, target: str) -> str:
    return reverse("units:detail", kwargs={"pk": world.unit(target).pk})


def web_course_page(world: World, target: str) -> str:
    return reverse("training:web_course", kwargs={"pk": world.unit(target).pk})


def targeted_page(world: World, target: str) -> str:
    return reverse("training:targeted", kwargs={"pk": world.unit(target).pk})


def themes_page(world: World, target: str) -> str:
    return reverse("training:themes", kwargs={"municipality_pk": world.municipality(target).pk})


def routine_page(world: World, target: str) -> str:
    return reverse("routines:routine", kwargs={"pk": world.unit(target).pk})


def routine_edit_page(world: World, target: str) -> str:
    return reverse("routines:edit", kwargs={"pk": world.unit(target).pk})


def references_page(world: World, target: str) -> str:
    return reverse("routines:references", kwargs={"municipality_pk": world.municipality(target).pk})


def follow_up_page(world: World, target: str) -> str:
    return reverse("followup:step", kwargs={"pk": world.unit(target).pk})


def notification_settings_page(world: World, target: str) -> str:
    return reverse("followup:settings")


def outbox_page(world: World, target: str) -> str:
    return reverse("followup:outbox", kwargs={"municipality_pk": world.municipality(target).pk})


# --- Preparing a target before the request ----------------------------------------------------
# The state in which the action is possible, made through the services as the people who would
# really do it: the unit's manager asks to join, the municipality's coordinator starts and pauses.

Setup = Callable[[World, str], object]


def nothing(world: World, target: str) -> None:
    pass


def coordinator_of(world: World, target: str) -> User:
    return world.users["other_coordinator" if target == "unit_x" else "coordinator"]


def manager_of(world: World, target: str) -> User:
    return world.memberships[target].user


def requested_rollout(world: World, target: str) -> Rollout:
    return rollout_services.rollout_request(
        actor=manager_of(world, target), unit=world.unit(target)
    )


def active_rollout(world: World, target: str) -> Rollout:
    """Started by the coordinator: step 1 in progress, steps 2-4 not started."""
    return rollout_services.rollout_start(
        actor=coordinator_of(world, target), unit=world.unit(target)
    )


def paused_rollout(world: World, target: str) -> Rollout:
    return rollout_services.rollout_pause(
        actor=coordinator_of(world, target), rollout=active_rollout(world, target), reason="Sommar"
    )


def report_web_course(rollout: Rollout, *, completed: int, actor: User) -> None:
    training_services.web_course_report(
        actor=actor,
        unit_id=rollout.unit_id,
        reported_on=timezone.localdate(),
        completed_count=completed,
        mode=CourseMode.GROUPS,
        group_sessions=1,
        knowledge_level=3,
        reflections="",
    )


def web_course_at_threshold(world: World, target: str) -> Rollout:
    """16 of the unit's 20 have taken the course: 80 %, so the manager may close step 1 too."""
    rollout = active_rollout(world, target)
    report_web_course(rollout, completed=16, actor=manager_of(world, target))
    return rollout


def training_rollout(world: World, target: str) -> Rollout:
    """Step 1 closed by the coordinator: step 2 (targeted training) in progress, the municipality's
    default themes in place."""
    rollout = active_rollout(world, target)
    rollout_services.step_complete(
        actor=coordinator_of(world, target), rollout=rollout, step=Step.WEB_COURSE
    )
    training_services.themes_ensure_defaults(municipality=world.unit(target).municipality)
    return rollout


def book_session(
    world: World,
    target: str,
    rollout: Rollout,
    *,
    starts_at: dt.datetime,
    leader: User | None = None,
) -> TrainingSession:
    """Booked by the municipality's coordinator, as the booking page would."""
    coordinator = coordinator_of(world, target)
    return training_services.session_book(
        actor=coordinator,
        rollout=rollout,
        starts_at=starts_at,
        duration_minutes=120,
        place="Personalrummet",
        video_url="",
        themes=Theme.objects.filter(pk__in=theme_pks(world, target)),
        expected_participants=18,
        leader=leader or coordinator,
    )


def move_to(session: TrainingSession, starts_at: dt.datetime) -> TrainingSession:
    """Booking in the past is refused, so a past session is booked ahead and then moved back."""
    TrainingSession.objects.filter(pk=session.pk).update(starts_at=starts_at)
    session.refresh_from_db()
    return session


def booked_session(world: World, target: str) -> TrainingSession:
    """Step 2 in progress, one session booked 3 days ahead."""
    return book_session(
        world, target, training_rollout(world, target), starts_at=in_days(3, hour=13)
    )


def past_session(world: World, target: str) -> TrainingSession:
    """A booked session that started two days ago: it can be registered as held."""
    return move_to(booked_session(world, target), timezone.now() - dt.timedelta(days=2))


def held_session(world: World, target: str) -> TrainingSession:
    """A session registered as held by the coordinator: step 2 may be closed."""
    return training_services.session_record_held(
        actor=coordinator_of(world, target),
        session=past_session(world, target),
        participants=15,
        exercises="Fallövningar i grupp",
        rating=4,
        notes="",
    )


def themes_of(world: World, target: str) -> None:
    training_services.themes_ensure_defaults(municipality=world.municipality(target))


def this_monday() -> dt.date:
    today = timezone.localdate()
    return today - dt.timedelta(days=today.weekday())


def sessions_this_week(world: World, target: str) -> None:
    """One session in each of units A, B and X on Monday of the current ISO week (target-less)."""
    monday = timezone.make_aware(dt.datetime.combine(this_monday(), dt.time(10)))
    for unit in UNITS:
        move_to(booked_session(world, unit), monday)


def coordinator_feed(world: World, target: str) -> CalendarFeed:
    """A session in unit A and the coordinator's private calendar address (target-less); its
    token (only a digest is stored) in world.tokens["calendar_feed"]."""
    booked_session(world, "unit_a")
    feed, world.tokens["calendar_feed"] = training_services.calendar_feed_renew(
        user=world.users["coordinator"]
    )
    return feed


def routines_rollout(world: World, target: str) -> Rollout:
    """Steps 1 and 2 closed by the coordinator: step 3 (routines) in progress, no routine yet."""
    rollout = active_rollout(world, target)
    for step in (Step.WEB_COURSE, Step.TRAINING):
        rollout_services.step_complete(
            actor=coordinator_of(world, target), rollout=rollout, step=step
        )
    return rollout


def started_routine(world: World, target: str) -> Routine:
    """Started from the municipality's template by the unit's manager: version 1, a draft."""
    return routine_services.routine_start(
        actor=manager_of(world, target), rollout=routines_rollout(world, target)
    )


def save_version(world: World, target: str, routine: Routine, actor: User, text: str) -> None:
    """One more version, built on the latest: `text` added to the section on whom to consult."""
    routine.refresh_from_db()
    sections = sections_of(routine)
    sections["consult"] += f"\n\n{text}"
    routine_services.routine_save(
        actor=actor, routine=routine, base_version=routine.current_version, sections=sections
    )
    routine.refresh_from_db()


def routine_with_two_versions(world: World, target: str) -> Routine:
    """Version 2 saved by the coordinator on top of the manager's version 1."""
    routine = started_routine(world, target)
    save_version(world, target, routine, coordinator_of(world, target), "Ring samordnaren först.")
    return routine


def routine_in_review(world: World, target: str) -> Routine:
    """Version 1 sent for review by the unit's manager."""
    return routine_services.routine_send_for_review(
        actor=manager_of(world, target), routine=started_routine(world, target)
    )


def approved_routine(world: World, target: str) -> Routine:
    """Version 1 approved by both: the unit's manager and the municipality's coordinator."""
    routine = routine_in_review(world, target)
    for actor, as_coordinator in (
        (manager_of(world, target), False),
        (coordinator_of(world, target), True),
    ):
        routine = routine_services.routine_approve(
            actor=actor,
            routine=routine,
            version=routine.current_version,
            as_coordinator=as_coordinator,
        )
    assert routine.status == RoutineStatus.APPROVED
    return routine


def implemented_routine(world: World, target: str) -> Routine:
    """Approved and implemented by the unit's manager today: step 3 done, step 4 under way."""
    routine = approved_routine(world, target)
    today = timezone.localdate()
    routine_services.routine_implement(
        actor=manager_of(world, target),
        routine=routine,
        implemented_on=today,
        business_plan_location="Verksamhetsplan 2027, avsnitt 4.2 Trygghet",
        staff_informed_on=today,
    )
    return routine


def published_example(world: World, target: str) -> Routine:
    """Approved, and shared by the coordinator as an example for units of the same sector."""
    return routine_services.routine_publish(
        actor=coordinator_of(world, target), routine=approved_routine(world, target), published=True
    )


def references_of(world: World, target: str) -> None:
    routine_services.references_ensure_defaults(municipality=world.municipality(target))


def follow_up_rollout(world: World, target: str) -> Rollout:
    """Started by the coordinator, steps 1-3 done and the routine implemented today (the step 4
    tests' `implement`): step 4 in progress, the 6- and 12-month follow-ups planned."""
    rollout = active_rollout(world, target)
    implement(
        rollout, manager_of(world, target), coordinator_of(world, target), on=timezone.localdate()
    )
    return rollout


def book_follow_up(world: World, target: str, months: int, *, days: int) -> FollowUp:
    """Booked by the municipality's coordinator, `days` ahead, as the booking page would."""
    follow_up = FollowUp.objects.get(rollout__unit=world.unit(target), offset_months=months)
    return followups.book(
        actor=coordinator_of(world, target),
        follow_up=follow_up,
        starts_at=in_days(days, hour=10),
        mode="meeting",
        place="Personalrummet",
    )


def failed_reminder(world: World, target: str) -> Reminder:
    """A nudge to the manager of a unit in the municipality that could not be sent: scheduled in
    the outbox, then FAILED (the dispatcher gave up on it)."""
    unit = REMINDER_UNIT[target]
    reminder, _created = outbox_services.schedule(
        recipient=manager_of(world, unit),
        kind="nudge",
        subject_key=reminder_key(target),
        due_on=timezone.localdate(),
        subject="Påminnelse om webbkursen",
        body="Hur går det med webbkursen?",
        unit=world.unit(unit),
    )
    Reminder.objects.filter(pk=reminder.pk).update(
        status=ReminderStatus.FAILED, attempts=outbox_services.MAX_ATTEMPTS, last_error="550"
    )
    return reminder


# --- The intervention map (insatskedjor) -----------------------------------------------------
# Its URLs name the municipality `pk` (dashboard/<int:pk>/insatser/…).


def intervention_map_kwargs(world: World, target: str) -> dict[str, Any]:
    return {"pk": world.municipality(target).pk}


def coordinator_of_municipality(world: World, target: str) -> User:
    return world.users["other_coordinator" if target == "municipality_x" else "coordinator"]


def municipality_intervention(world: World, target: str) -> None:
    """One intervention of the municipality, registered by its coordinator: owned by the sector
    of the municipality's first unit, which takes part."""
    unit = world.unit("unit_x" if target == "municipality_x" else "unit_a")
    intervention_services.intervention_create(
        actor=coordinator_of_municipality(world, target),
        municipality=world.municipality(target),
        name="Föräldraträffar om rättigheter",
        level="universal",
        target_group="Föräldrar i förskolan",
        owner_sector=world.sectors[target],
        participating_units=[unit],
    )


def intervention_pk_kwargs(world: World, target: str) -> dict[str, Any]:
    """The municipality's one intervention (made by the row's setup)."""
    intervention = world.municipality(target).interventions.get()
    return {"pk": world.municipality(target).pk, "intervention_pk": intervention.pk}


def intervention_cell_query(world: World, target: str) -> dict[str, Any]:
    return {"sektor": world.sectors[target].pk, "niva": "universal"}


def dashboard_kwargs(world: World, target: str) -> dict[str, Any]:
    return {"pk": world.municipality(target).pk}


def export_kwargs(fmt: str) -> Filler:
    def kwargs(world: World, target: str) -> dict[str, Any]:
        return {"pk": world.municipality(target).pk, "fmt": fmt}

    return kwargs


def board_rollouts(world: World, target: str) -> None:
    """Something to count: an active rollout in the municipality's first unit."""
    unit = world.unit("unit_x" if target == "municipality_x" else "unit_a")
    coordinator = world.users["other_coordinator" if target == "municipality_x" else "coordinator"]
    rollout_services.rollout_start(actor=coordinator, unit=unit)


def start_many_form(world: World, target: str) -> dict[str, Any]:
    """rollout.forms.StartManyForm: the municipality's first unit, which has no rollout yet."""
    return {"units": [world.unit("unit_x" if target == "municipality_x" else "unit_a").pk]}


def unit_table_page(world: World, target: str) -> str:
    return reverse("rollout:unit_table", kwargs={"pk": world.municipality(target).pk})


def intervention_form(world: World, target: str) -> dict[str, Any]:
    """rollout.intervention_forms.InterventionForm: a selective intervention of the sector."""
    unit = world.unit("unit_x" if target == "municipality_x" else "unit_a")
    return {
        "name": "Samtalsgrupper för unga",
        "level": "selective",
        "owner_sector": world.sectors[target].pk,
        "owner_unit": unit.pk,
        "target_group": "Unga 13–16 år",
        "starts_on": timezone.localdate().isoformat(),
        "ends_on": "",
        "description": "Grupper om normer, rättigheter och var man får stöd.",
        "participating_units": [unit.pk],
    }


def interventions_page(world: World, target: str) -> str:
    return reverse("rollout:interventions", kwargs={"pk": world.municipality(target).pk})


# --- Board reports and certificates -----------------------------------------------------------
# The report pages name the municipality `pk` (dashboard/<int:pk>/rapport/…); the certificate is
# the unit's (units/<int:pk>/intyg/).


def report_municipality_kwargs(world: World, target: str) -> dict[str, Any]:
    return {"pk": world.municipality(target).pk}


def queued_board_report(world: World, target: str) -> None:
    """A report asked for by the municipality's coordinator, waiting for the worker."""
    reports.board_report_request(
        actor=world.users["other_coordinator" if target == "municipality_x" else "coordinator"],
        municipality=world.municipality(target),
        language="sv",
    )


def done_board_report(world: World, target: str) -> None:
    """A report asked for by the municipality's coordinator and rendered by the worker."""
    queued_board_report(world, target)
    report = world.municipality(target).board_reports.get()
    assert reports.board_report_render(report_id=report.pk) == "done", report.error


def board_report_kwargs(world: World, target: str) -> dict[str, Any]:
    """The municipality's one report (made by the row's setup)."""
    report = world.municipality(target).board_reports.get()
    return {"pk": report.municipality_id, "report_pk": report.pk}


def newest_report_page(world: World, target: str) -> str:
    report = world.municipality(target).board_reports.first()
    assert report is not None
    return reverse("rollout:report", kwargs={"pk": report.municipality_id, "report_pk": report.pk})


def certified_round(world: World, target: str) -> None:
    """All four steps done (both follow-ups recorded by the coordinator) and the certificate made
    by the worker (in the matrix the on-commit task does not run, so it is made here)."""
    rollout = follow_up_rollout(world, target)
    for follow_up in FollowUp.objects.filter(rollout=rollout).order_by("offset_months"):
        followups.record(
            actor=coordinator_of(world, target),
            follow_up=follow_up,
            routine_in_use="yes",
            effect=4,
            support_needed="none",
        )
    assert certificates.certificate_render(rollout_id=rollout.pk) is not None


# --- What a POST without a trail changed ------------------------------------------------------
# Asked after every request of the row (Spec.done): true after a success, false otherwise.


def queued_again(world: World, target: str, persona: str) -> bool:
    """The failed reminder waits for the next dispatch again."""
    return failed_reminder_of(target).status == ReminderStatus.PENDING


def own_settings_saved(world: World, target: str, persona: str) -> bool:
    """The person's own settings, as posted, and nobody else's (a GET saves nothing)."""
    saved = list(
        NotificationSettings.objects.values_list("user_id", "digest", "nudges", "language")
    )
    user = world.users.get(persona)
    if user is None or not saved:
        assert not saved, f"settings saved for {persona}: {saved}"
        return False
    # Only coordinators (and superusers) are asked about the digest; anyone else keeps the default.
    digest = "weekly" if persona in ("coordinator", "other_coordinator", "superuser") else "daily"
    assert saved == [(user.pk, digest, False, "en")], f"{persona} saved {saved}"
    return True


# --- The expectations -------------------------------------------------------------------------

LOGIN: Literal["login"] = "login"  # 302 to the login page with ?next=
Expected = int | Literal["login"]

# The two audit trails. units' services (units, people, invitations, settings) write AuditEvent;
# the rollout engine and the step apps (rollout:*, training:*) write TimelineEvent instead.
Trail = Literal["audit", "timeline"]
AUDIT: Trail = "audit"  # units.models.AuditEvent
TIMELINE: Trail = "timeline"  # rollout.models.TimelineEvent


def trail_counts() -> dict[Trail, int]:
    return {AUDIT: AuditEvent.objects.count(), TIMELINE: TimelineEvent.objects.count()}


def trail_ends() -> dict[Trail, int]:
    """The newest id in each trail: what a request writes comes after it."""
    return {
        AUDIT: AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
        TIMELINE: TimelineEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
    }


def no_municipality(world: World, target: str) -> None:
    """An audit event about a person, filed under no municipality."""
    return None


def own_municipality(world: World, target: str) -> Municipality:
    return world.municipality(target)


@dataclass(frozen=True)
class Written:
    """What a successful POST writes, more precisely than "something in the trail".

    `kinds`: exactly the kinds (TimelineEvent.kind) or actions (AuditEvent.action) of the new
    events. New timeline events must all be the target unit's. For the audit log, `municipality`
    names where every new event is filed (no_municipality: filed under none); None: unchecked."""

    trail: Trail
    kinds: frozenset[str]
    municipality: Callable[[World, str], Municipality | None] | None = None


def timeline(*kinds: str) -> Written:
    return Written(TIMELINE, frozenset(kinds))


def audit(
    *actions: str, municipality: Callable[[World, str], Municipality | None] | None = None
) -> Written:
    return Written(AUDIT, frozenset(actions), municipality)


def check_written(
    written: Written, world: World, target: str, since: dict[Trail, int], label: str
) -> None:
    if written.trail == TIMELINE:
        timeline_events = TimelineEvent.objects.filter(pk__gt=since[TIMELINE])
        kinds = set(timeline_events.values_list("kind", flat=True))
        units = set(timeline_events.values_list("unit_id", flat=True))
        assert units == {world.unit(target).pk}, f"{label}: timeline events of units {units}"
    else:
        audit_events = AuditEvent.objects.filter(pk__gt=since[AUDIT])
        kinds = set(audit_events.values_list("action", flat=True))
        if written.municipality is not None:
            expected = written.municipality(world, target)
            filed = set(audit_events.values_list("municipality_id", flat=True))
            assert filed == {expected.pk if expected else None}, (
                f"{label}: audit events filed under municipalities {filed}, expected {expected}"
            )
    assert kinds == written.kinds, (
        f"{label}: wrote {sorted(kinds)}, expected {sorted(written.kinds)}"
    )


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
    # Where a successful POST records what it did (AUDIT or TIMELINE, or Written for which events
    # exactly); None: it records nothing.
    trail: Trail | Written | None = AUDIT
    # Run before the request (and before the trails are counted), for every persona alike; also
    # for a target-less row (target "-"), which may prepare what its URL needs.
    setup: Setup = nothing
    # Where a successful POST (302) sends the person; None: not checked beyond "not the login".
    success_url: Callable[[World, str], str] | None = None
    # The media type of every 200 (e.g. "text/calendar"); None: not checked.
    content_type: str | None = None
    # The query string of the URL (e.g. the versions to compare).
    query: Filler = no_query
    # The view writes generated files (routine PDFs): MEDIA_ROOT goes to the case's tmp_path.
    writes_media: bool = False
    # A row whose POST leaves no trail (trail=None) names what the POST changes instead: asked
    # after every request, (world, target, persona) → whether the change is in place; it must be
    # exactly after a successful POST (302). None: not checked.
    done: Callable[[World, str, str], bool] | None = None


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
    }}, data=fixed({"language": "en", "next": "/"}), allowed=None, trail=None),

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
    "units:archive": Spec(UNITS, {  # coordinator only; GET asks to confirm, POST archives
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
    }, kwargs=unit_kwargs, data=fixed({"archive": "1"}), allowed=("GET", "POST")),
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
    "units:manager_remove": Spec(UNITS, {  # coordinator only; GET asks to confirm, POST removes
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
    }, kwargs=manager_membership_kwargs, allowed=("GET", "POST")),
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
    "units:import": Spec(MUNICIPALITIES, {  # a POST shows the preview and saves nothing
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
            "coordinator":       (200,           404),
            "other_coordinator": (404,           200),
            "observer":          (403,           404),
            "superuser":         (200,           200),
        },
    }, kwargs=municipality_kwargs, data=import_upload, allowed=("GET", "POST")),
    "units:import_confirm": Spec(MUNICIPALITIES, {"POST": {
        #                     municipality_a municipality_x
        "anonymous":         (LOGIN,         LOGIN),
        "manager_a":         (404,           404),
        "manager_b":         (404,           404),
        "coordinator":       (302,           404),
        "other_coordinator": (404,           302),
        "observer":          (403,           404),
        "superuser":         (302,           302),
    }}, kwargs=municipality_kwargs, data=import_payload, allowed=("POST",),
       trail=audit("unit.created", municipality=own_municipality), success_url=unit_list_page),
    "units:import_template": Spec(MUNICIPALITIES, {"GET": {
        #                     municipality_a municipality_x
        "anonymous":         (LOGIN,         LOGIN),
        "manager_a":         (404,           404),
        "manager_b":         (404,           404),
        "coordinator":       (200,           404),
        "other_coordinator": (404,           200),
        "observer":          (403,           404),
        "superuser":         (200,           200),
    }}, kwargs=municipality_kwargs, content_type="text/csv"),
    "units:invite_import": Spec(MUNICIPALITIES, {  # a POST shows the preview, sends nothing
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
            "coordinator":       (200,           404),
            "other_coordinator": (404,           200),
            "observer":          (403,           404),
            "superuser":         (200,           200),
        },
    }, kwargs=municipality_kwargs, data=invite_upload, allowed=("GET", "POST")),
    "units:invite_import_confirm": Spec(MUNICIPALITIES, {"POST": {
        #                     municipality_a municipality_x
        "anonymous":         (LOGIN,         LOGIN),
        "manager_a":         (404,           404),
        "manager_b":         (404,           404),
        "coordinator":       (302,           404),
        "other_coordinator": (404,           302),
        "observer":          (403,           404),
        "superuser":         (302,           302),
    }}, kwargs=municipality_kwargs, data=invite_payload, allowed=("POST",),
       trail=audit("invitation.created", municipality=own_municipality), success_url=people_page),
    "units:invite_import_template": Spec(MUNICIPALITIES, {"GET": {
        #                     municipality_a municipality_x
        "anonymous":         (LOGIN,         LOGIN),
        "manager_a":         (404,           404),
        "manager_b":         (404,           404),
        "coordinator":       (200,           404),
        "other_coordinator": (404,           200),
        "observer":          (403,           404),
        "superuser":         (200,           200),
    }}, kwargs=municipality_kwargs, content_type="text/csv"),
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
    "units:role_remove": Spec(MUNICIPALITIES, {  # an observer role; GET asks to confirm
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
    }, kwargs=municipal_role_kwargs, allowed=("GET", "POST")),
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
        "POST": {  # signed in as someone else: refused, with the way to log out (409)
            "anonymous":         (302,         302,         302),
            "manager_a":         (409,         409,         409),
            "manager_b":         (409,         409,         409),
            "coordinator":       (409,         409,         409),
            "other_coordinator": (409,         409,         409),
            "observer":          (409,         409,         409),
            "superuser":         (409,         409,         409),
        },
    }, kwargs=token_kwargs,
       data=fixed({"password1": DEFAULT_PASSWORD, "password2": DEFAULT_PASSWORD}),
       allowed=("GET", "POST")),

    # --- Rollout (rollout/urls.py): the unit's run through the model ---
    # Starting, answering a request, pausing, resuming and starting a step early belong to the
    # municipality's coordinator (access.get_unit_for_coordinator): the unit's manager gets 403.
    # Asking to join and "nothing new" are writes to the unit (access.get_rw_unit_for_user): its
    # manager and the coordinator. Every success goes back to the unit page with a timeline event.
    "rollout:start": Spec(UNITS, {"POST": {  # the unit has no rollout yet
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (403,   404,   404),
        "manager_b":         (404,   403,   404),
        "coordinator":       (302,   302,   404),
        "other_coordinator": (404,   404,   302),
        "observer":          (403,   403,   404),
        "superuser":         (302,   302,   302),
    }}, kwargs=unit_kwargs, allowed=("POST",), trail=TIMELINE, success_url=unit_page),
    "rollout:request": Spec(UNITS, {"POST": {  # the unit has no rollout yet
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (302,   404,   404),
        "manager_b":         (404,   302,   404),
        "coordinator":       (302,   302,   404),
        "other_coordinator": (404,   404,   302),
        "observer":          (403,   403,   404),
        "superuser":         (302,   302,   302),
    }}, kwargs=unit_kwargs, allowed=("POST",), trail=TIMELINE, success_url=unit_page),
    "rollout:accept": Spec(UNITS, {"POST": {  # the unit's manager has asked to join
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (403,   404,   404),
        "manager_b":         (404,   403,   404),
        "coordinator":       (302,   302,   404),
        "other_coordinator": (404,   404,   302),
        "observer":          (403,   403,   404),
        "superuser":         (302,   302,   302),
    }}, kwargs=unit_kwargs, allowed=("POST",), trail=TIMELINE, setup=requested_rollout,
       success_url=unit_page),
    "rollout:decline": Spec(UNITS, {  # the unit's manager has asked to join; GET: the reason form
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
    }, kwargs=unit_kwargs, data=reason_form, allowed=("GET", "POST"), trail=TIMELINE,
       setup=requested_rollout, success_url=unit_page),
    "rollout:pause": Spec(UNITS, {  # an active rollout; GET: the reason form
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
    }, kwargs=unit_kwargs, data=reason_form, allowed=("GET", "POST"), trail=TIMELINE,
       setup=active_rollout, success_url=unit_page),
    "rollout:resume": Spec(UNITS, {"POST": {  # a paused rollout
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (403,   404,   404),
        "manager_b":         (404,   403,   404),
        "coordinator":       (302,   302,   404),
        "other_coordinator": (404,   404,   302),
        "observer":          (403,   403,   404),
        "superuser":         (302,   302,   302),
    }}, kwargs=unit_kwargs, allowed=("POST",), trail=TIMELINE, setup=paused_rollout,
       success_url=unit_page),
    "rollout:checkin": Spec(UNITS, {"POST": {  # an active rollout; "nothing new since last time"
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (302,   404,   404),
        "manager_b":         (404,   302,   404),
        "coordinator":       (302,   302,   404),
        "other_coordinator": (404,   404,   302),
        "observer":          (403,   403,   404),
        "superuser":         (302,   302,   302),
    }}, kwargs=unit_kwargs, allowed=("POST",), trail=TIMELINE, setup=active_rollout,
       success_url=unit_page),
    # Step 3 (routines) is not started while step 1 runs, so starting it early is possible.
    "rollout:start_step": Spec(UNITS, {  # an active rollout; GET: the reason form
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
    }, kwargs=step_kwargs(Step.ROUTINES), data=reason_form, allowed=("GET", "POST"),
       trail=TIMELINE, setup=active_rollout, success_url=unit_page),
    "rollout:timeline": Spec(UNITS, {"GET": {  # everyone who sees the unit
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (200,   404,   404),
        "manager_b":         (404,   200,   404),
        "coordinator":       (200,   200,   404),
        "other_coordinator": (404,   404,   200),
        "observer":          (200,   200,   404),
        "superuser":         (200,   200,   200),
    }}, kwargs=unit_kwargs, setup=active_rollout),

    # --- The dashboard (rollout/board_views.py): read-only aggregates of a municipality ---
    # Coordinators, observers and superusers read them (access.get_municipality_for_user);
    # managers see no municipality pages (404). /dashboard/ sends a person with one municipality
    # there (302) and shows a superuser the choice; a manager has no dashboard (403).
    "rollout:dashboard_home": Spec(NONE, {"GET": {
        "anonymous":         (LOGIN,),
        "manager_a":         (403,),
        "manager_b":         (403,),
        "coordinator":       (302,),
        "other_coordinator": (302,),
        "observer":          (302,),
        "superuser":         (200,),
    }}),
    # The regional view compares municipalities (access.regional_municipalities): superusers and
    # regional observers only; a municipality's own coordinators and observers have their
    # dashboard instead (403).
    "rollout:regional": Spec(NONE, {"GET": {
        "anonymous":         (LOGIN,),
        "manager_a":         (403,),
        "manager_b":         (403,),
        "coordinator":       (403,),
        "other_coordinator": (403,),
        "observer":          (403,),
        "superuser":         (200,),
    }}),
    **{
        name: Spec(MUNICIPALITIES, {"GET": {  # an active rollout in unit A and unit X
            #                     municipality_a municipality_x
            "anonymous":         (LOGIN,         LOGIN),
            "manager_a":         (404,           404),
            "manager_b":         (404,           404),
            "coordinator":       (200,           404),
            "other_coordinator": (404,           200),
            "observer":          (200,           404),
            "superuser":         (200,           200),
        }}, kwargs=kwargs, setup=board_rollouts)
        for name, kwargs in (
            ("rollout:dashboard", dashboard_kwargs),
            ("rollout:unit_table", dashboard_kwargs),
            ("rollout:indicators", dashboard_kwargs),
            ("rollout:unit_table_export", export_kwargs("xlsx")),
            ("rollout:indicators_export", export_kwargs("csv")),
        )
    },
    # Starting several units' rollouts from the unit table: the municipality's coordinator only
    # (access.get_rw_municipality_for_user: the observer gets 403), back to the table.
    "rollout:start_many": Spec(MUNICIPALITIES, {"POST": {  # unit A / unit X has no rollout yet
        #                     municipality_a municipality_x
        "anonymous":         (LOGIN,         LOGIN),
        "manager_a":         (404,           404),
        "manager_b":         (404,           404),
        "coordinator":       (302,           404),
        "other_coordinator": (404,           302),
        "observer":          (403,           404),
        "superuser":         (302,           302),
    }}, kwargs=dashboard_kwargs, data=start_many_form, allowed=("POST",), trail=TIMELINE,
       success_url=unit_table_page),

    # --- The intervention map (rollout/urls.py): the municipality's interventions ---
    # Read by the municipality's coordinators and observers (access.get_municipality_for_user),
    # changed by its coordinators only (access.get_rw_municipality_for_user: the observer gets
    # 403); managers see no municipality pages (404). Every change goes to the audit log, filed
    # under the municipality.
    "rollout:interventions": Spec(MUNICIPALITIES, {"GET": {  # one intervention in the matrix
        #                     municipality_a municipality_x
        "anonymous":         (LOGIN,         LOGIN),
        "manager_a":         (404,           404),
        "manager_b":         (404,           404),
        "coordinator":       (200,           404),
        "other_coordinator": (404,           200),
        "observer":          (200,           404),
        "superuser":         (200,           200),
    }}, kwargs=intervention_map_kwargs, setup=municipality_intervention),
    "rollout:intervention_list": Spec(MUNICIPALITIES, {"GET": {  # the cell of its intervention
        #                     municipality_a municipality_x
        "anonymous":         (LOGIN,         LOGIN),
        "manager_a":         (404,           404),
        "manager_b":         (404,           404),
        "coordinator":       (200,           404),
        "other_coordinator": (404,           200),
        "observer":          (200,           404),
        "superuser":         (200,           200),
    }}, kwargs=intervention_map_kwargs, setup=municipality_intervention,
       query=intervention_cell_query),
    "rollout:intervention_create": Spec(MUNICIPALITIES, {
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
    }, kwargs=intervention_map_kwargs, data=intervention_form, allowed=("GET", "POST"),
       trail=audit("intervention.created", municipality=own_municipality),
       success_url=interventions_page),
    "rollout:intervention_edit": Spec(MUNICIPALITIES, {  # the municipality's one intervention
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
    }, kwargs=intervention_pk_kwargs, data=intervention_form, allowed=("GET", "POST"),
       trail=audit("intervention.changed", municipality=own_municipality),
       setup=municipality_intervention, success_url=interventions_page),
    "rollout:intervention_delete": Spec(MUNICIPALITIES, {  # GET: the confirmation page
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
    }, kwargs=intervention_pk_kwargs, allowed=("GET", "POST"),
       trail=audit("intervention.deleted", municipality=own_municipality),
       setup=municipality_intervention, success_url=interventions_page),

    # --- Step 1, Webbkurs Heder (training/urls.py) ---
    # The page is read by everyone who sees the unit; reporting (POST) and closing the step are
    # writes to the unit: its manager and the coordinator, 403 for the read-only observer.
    "training:web_course": Spec(UNITS, {  # an active rollout, step 1 in progress
        "GET": {
            #                     unit_a unit_b unit_x
            "anonymous":         (LOGIN, LOGIN, LOGIN),
            "manager_a":         (200,   404,   404),
            "manager_b":         (404,   200,   404),
            "coordinator":       (200,   200,   404),
            "other_coordinator": (404,   404,   200),
            "observer":          (200,   200,   404),
            "superuser":         (200,   200,   200),
        },
        "POST": {  # a report: 2 more have taken the course
            "anonymous":         (LOGIN, LOGIN, LOGIN),
            "manager_a":         (302,   404,   404),
            "manager_b":         (404,   302,   404),
            "coordinator":       (302,   302,   404),
            "other_coordinator": (404,   404,   302),
            "observer":          (403,   403,   404),
            "superuser":         (302,   302,   302),
        },
    }, kwargs=unit_kwargs, data=web_course_report_form, allowed=("GET", "POST"), trail=TIMELINE,
       setup=active_rollout, success_url=web_course_page),
    # 16 of 20 have taken the course (80 %), so the manager may close the step as well as the
    # coordinator. Below the threshold: test_web_course_complete_below_the_threshold.
    "training:web_course_complete": Spec(UNITS, {"POST": {
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (302,   404,   404),
        "manager_b":         (404,   302,   404),
        "coordinator":       (302,   302,   404),
        "other_coordinator": (404,   404,   302),
        "observer":          (403,   403,   404),
        "superuser":         (302,   302,   302),
    }}, kwargs=unit_kwargs, allowed=("POST",), trail=TIMELINE, setup=web_course_at_threshold,
       success_url=unit_page),
    # --- Step 2, targeted training (training/urls.py) ---
    # The page and a session's calendar file are read by everyone who sees the unit; the unit's
    # wishes (POST on the page) are a write to the unit: its manager and the coordinator, 403 for
    # the observer. Booking, changing, cancelling and registering sessions, and closing the step,
    # are the coordinator's (access.get_unit_for_coordinator): 403 for the unit's manager and the
    # observer. Every success writes a timeline event and goes back to the step 2 page (closing the
    # step: the unit page).
    "training:targeted": Spec(UNITS, {  # step 2 in progress
        "GET": {
            #                     unit_a unit_b unit_x
            "anonymous":         (LOGIN, LOGIN, LOGIN),
            "manager_a":         (200,   404,   404),
            "manager_b":         (404,   200,   404),
            "coordinator":       (200,   200,   404),
            "other_coordinator": (404,   404,   200),
            "observer":          (200,   200,   404),
            "superuser":         (200,   200,   200),
        },
        "POST": {  # the unit's wishes: themes and suggested dates
            "anonymous":         (LOGIN, LOGIN, LOGIN),
            "manager_a":         (302,   404,   404),
            "manager_b":         (404,   302,   404),
            "coordinator":       (302,   302,   404),
            "other_coordinator": (404,   404,   302),
            "observer":          (403,   403,   404),
            "superuser":         (302,   302,   302),
        },
    }, kwargs=unit_kwargs, data=wish_form, allowed=("GET", "POST"), trail=TIMELINE,
       setup=training_rollout, success_url=targeted_page),
    "training:targeted_complete": Spec(UNITS, {"POST": {  # a session registered as held
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (403,   404,   404),
        "manager_b":         (404,   403,   404),
        "coordinator":       (302,   302,   404),
        "other_coordinator": (404,   404,   302),
        "observer":          (403,   403,   404),
        "superuser":         (302,   302,   302),
    }}, kwargs=unit_kwargs, allowed=("POST",), trail=TIMELINE, setup=held_session,
       success_url=unit_page),
    "training:session_book": Spec(UNITS, {  # step 2 in progress; GET: the booking form
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
    }, kwargs=unit_kwargs, data=booking_form, allowed=("GET", "POST"), trail=TIMELINE,
       setup=training_rollout, success_url=targeted_page),
    "training:session_edit": Spec(UNITS, {  # a session booked 3 days ahead; POST: 5 days ahead
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
    }, kwargs=session_kwargs, data=booking_form, allowed=("GET", "POST"), trail=TIMELINE,
       setup=booked_session, success_url=targeted_page),
    "training:session_cancel": Spec(UNITS, {  # a session booked 3 days ahead; GET: the reason form
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
    }, kwargs=session_kwargs, data=reason_form, allowed=("GET", "POST"), trail=TIMELINE,
       setup=booked_session, success_url=targeted_page),
    "training:session_held": Spec(UNITS, {  # a booked session that began 2 days ago
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
    }, kwargs=session_kwargs, data=held_form, allowed=("GET", "POST"), trail=TIMELINE,
       setup=past_session, success_url=targeted_page),
    "training:session_ics": Spec(UNITS, {"GET": {  # a booked session; everyone who sees the unit
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (200,   404,   404),
        "manager_b":         (404,   200,   404),
        "coordinator":       (200,   200,   404),
        "other_coordinator": (404,   404,   200),
        "observer":          (200,   200,   404),
        "superuser":         (200,   200,   200),
    }}, kwargs=session_kwargs, setup=booked_session, content_type="text/calendar"),
    # The sessions of this ISO week in the units the person sees (which ones:
    # test_week_lists_exactly_the_sessions_of_visible_units).
    "training:week": Spec(NONE, {"GET": {  # a session in each of units A, B and X this week
        "anonymous":         (LOGIN,),
        "manager_a":         (200,),
        "manager_b":         (200,),
        "coordinator":       (200,),
        "other_coordinator": (200,),
        "observer":          (200,),
        "superuser":         (200,),
    }}, setup=sessions_this_week),
    # The theme catalogue is the municipality's (access.get_rw_municipality_for_user): managers see
    # no municipality pages (404), the observer reads but may not change it (403). A saved theme is
    # a change to the municipality, so it goes to the audit log (theme.created / theme.changed).
    "training:themes": Spec(MUNICIPALITIES, {  # POST: a new theme
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
    }, kwargs=municipality_kwargs, data=new_theme_form, allowed=("GET", "POST"), trail=AUDIT,
       success_url=themes_page),
    "training:theme_edit": Spec(MUNICIPALITIES, {  # the first default theme of the municipality
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
    }, kwargs=theme_kwargs, data=theme_form, allowed=("GET", "POST"), trail=AUDIT,
       setup=themes_of, success_url=themes_page),
    # A coordinator's (or superuser's) own private calendar address; anyone else is refused (403).
    # A new address is a new credential, so creating it (here: nobody has one yet) goes to the
    # audit log, filed under no municipality (the address is the person's). Replacing it
    # (calendar_feed.renewed), and the new address: test_calendar_feed_renewal_retires_*.
    # Only a digest is stored, so the POST answers with the page that shows the address once
    # (200, no redirect): tests/training/test_calendar_feed.py.
    "training:calendar_feed_settings": Spec(NONE, {
        "GET": {
            "anonymous":         (LOGIN,),
            "manager_a":         (403,),
            "manager_b":         (403,),
            "coordinator":       (200,),
            "other_coordinator": (200,),
            "observer":          (403,),
            "superuser":         (200,),
        },
        "POST": {
            "anonymous":         (LOGIN,),
            "manager_a":         (403,),
            "manager_b":         (403,),
            "coordinator":       (200,),
            "other_coordinator": (200,),
            "observer":          (403,),
            "superuser":         (200,),
        },
    }, allowed=("GET", "POST"), trail=audit("calendar_feed.created", municipality=no_municipality)),
    # Public: the token in the address is the only credential, so whoever holds the coordinator's
    # address gets the feed, logged in or not. An unknown token: test_calendar_feed_unknown_token_*.
    "training:calendar_feed": Spec(NONE, {"GET": {  # the coordinator's address; a session in A
        "anonymous":         (200,),
        "manager_a":         (200,),
        "manager_b":         (200,),
        "coordinator":       (200,),
        "other_coordinator": (200,),
        "observer":          (200,),
        "superuser":         (200,),
    }}, kwargs=feed_kwargs, setup=coordinator_feed, content_type="text/calendar"),

    # --- Step 3, routines (routines/urls.py) ---
    # The routine, its versions compared, the printable page and the PDF are read by everyone who
    # sees the unit. Starting, editing, review, approval, sending back, implementing and revising
    # are writes to the unit (access.get_rw_unit_for_user): its manager and the coordinator, 403
    # for the observer. Sharing as an example is the coordinator's
    # (access.get_unit_for_coordinator): 403 for the unit's manager. Every success writes timeline
    # events of the unit. The setups: steps 1 and 2 closed by the coordinator, the routine started
    # by the unit's manager.
    "routines:routine": Spec(UNITS, {"GET": {  # version 1, a draft
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (200,   404,   404),
        "manager_b":         (404,   200,   404),
        "coordinator":       (200,   200,   404),
        "other_coordinator": (404,   404,   200),
        "observer":          (200,   200,   404),
        "superuser":         (200,   200,   200),
    }}, kwargs=unit_kwargs, setup=started_routine),
    "routines:start": Spec(UNITS, {"POST": {  # step 3 in progress, no routine yet
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (302,   404,   404),
        "manager_b":         (404,   302,   404),
        "coordinator":       (302,   302,   404),
        "other_coordinator": (404,   404,   302),
        "observer":          (403,   403,   404),
        "superuser":         (302,   302,   302),
    }}, kwargs=unit_kwargs, allowed=("POST",), trail=timeline("routine.started"),
       setup=routines_rollout, success_url=routine_page),
    "routines:edit": Spec(UNITS, {  # version 1, a draft; POST: version 2, one more sign
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
    }, kwargs=unit_kwargs, data=routine_form, allowed=("GET", "POST"),
       trail=timeline("routine.saved"), setup=started_routine, success_url=routine_page),
    "routines:compare": Spec(UNITS, {"GET": {  # ?a=1&b=2: the manager's and the coordinator's
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (200,   404,   404),
        "manager_b":         (404,   200,   404),
        "coordinator":       (200,   200,   404),
        "other_coordinator": (404,   404,   200),
        "observer":          (200,   200,   404),
        "superuser":         (200,   200,   200),
    }}, kwargs=unit_kwargs, query=compare_query, setup=routine_with_two_versions),
    "routines:review": Spec(UNITS, {"POST": {  # version 1, a draft
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (302,   404,   404),
        "manager_b":         (404,   302,   404),
        "coordinator":       (302,   302,   404),
        "other_coordinator": (404,   404,   302),
        "observer":          (403,   403,   404),
        "superuser":         (302,   302,   302),
    }}, kwargs=unit_kwargs, allowed=("POST",), trail=timeline("routine.review"),
       setup=started_routine, success_url=routine_page),
    # Whoever approves does so in their role: the coordinator (and the superuser) as coordinator.
    "routines:approve": Spec(UNITS, {"POST": {  # version 1 sent for review; POST: version=1
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (302,   404,   404),
        "manager_b":         (404,   302,   404),
        "coordinator":       (302,   302,   404),
        "other_coordinator": (404,   404,   302),
        "observer":          (403,   403,   404),
        "superuser":         (302,   302,   302),
    }}, kwargs=unit_kwargs, data=approve_form, allowed=("POST",),
       trail=timeline("routine.approved"), setup=routine_in_review, success_url=routine_page),
    "routines:send_back": Spec(UNITS, {  # version 1 sent for review; GET: the reason form
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
    }, kwargs=unit_kwargs, data=reason_form, allowed=("GET", "POST"),
       trail=timeline("routine.sent_back"), setup=routine_in_review, success_url=routine_page),
    # Implementing closes step 3 and starts step 4 (the follow-ups).
    "routines:implement": Spec(UNITS, {  # approved by both; GET: the form
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
    }, kwargs=unit_kwargs, data=implement_form, allowed=("GET", "POST"),
       trail=timeline("routine.implemented", "step.completed", "step.started"),
       setup=approved_routine, success_url=unit_page),
    "routines:revise": Spec(UNITS, {"POST": {  # implemented; a new draft opens in the editor
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (302,   404,   404),
        "manager_b":         (404,   302,   404),
        "coordinator":       (302,   302,   404),
        "other_coordinator": (404,   404,   302),
        "observer":          (403,   403,   404),
        "superuser":         (302,   302,   302),
    }}, kwargs=unit_kwargs, allowed=("POST",), trail=timeline("routine.revised"),
       setup=implemented_routine, success_url=routine_edit_page),
    "routines:publish": Spec(UNITS, {"POST": {  # approved by both; coordinator only
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (403,   404,   404),
        "manager_b":         (404,   403,   404),
        "coordinator":       (302,   302,   404),
        "other_coordinator": (404,   404,   302),
        "observer":          (403,   403,   404),
        "superuser":         (302,   302,   302),
    }}, kwargs=unit_kwargs, data=fixed({"published": "1"}), allowed=("POST",),
       trail=timeline("routine.published"), setup=approved_routine, success_url=routine_page),
    "routines:document": Spec(UNITS, {"GET": {  # version 1: the printable page
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (200,   404,   404),
        "manager_b":         (404,   200,   404),
        "coordinator":       (200,   200,   404),
        "other_coordinator": (404,   404,   200),
        "observer":          (200,   200,   404),
        "superuser":         (200,   200,   200),
    }}, kwargs=unit_kwargs, setup=started_routine, content_type="text/html"),
    "routines:pdf": Spec(UNITS, {"GET": {  # version 1, rendered (tasks run eagerly) and cached
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (200,   404,   404),
        "manager_b":         (404,   200,   404),
        "coordinator":       (200,   200,   404),
        "other_coordinator": (404,   404,   200),
        "observer":          (200,   200,   404),
        "superuser":         (200,   200,   200),
    }}, kwargs=unit_kwargs, setup=started_routine, content_type="application/pdf",
       writes_media=True),
    # A routine shared as an example is read by everyone who sees a unit of the same municipality
    # and sector (units A and B share a sector), 404 for anyone else. Across sectors:
    # test_example_is_not_shown_in_another_sector.
    "routines:example": Spec(UNITS, {"GET": {  # the target unit's routine, shared
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (200,   200,   404),
        "manager_b":         (200,   200,   404),
        "coordinator":       (200,   200,   404),
        "other_coordinator": (404,   404,   200),
        "observer":          (200,   200,   404),
        "superuser":         (200,   200,   200),
    }}, kwargs=example_kwargs, setup=published_example),
    # Reference data is the municipality's (access.get_rw_municipality_for_user), like the theme
    # catalogue: a change goes to the audit log, one reference.changed per changed value.
    "routines:references": Spec(MUNICIPALITIES, {  # POST: a value for every default key
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
    }, kwargs=municipality_kwargs, data=reference_form, allowed=("GET", "POST"),
       trail=audit("reference.changed", municipality=own_municipality), setup=references_of,
       success_url=references_page),

    # --- Step 4, follow-ups, notification settings and the outbox (followup/urls.py) ---
    # The step 4 page is read by everyone who sees the unit. Booking and recording a follow-up are
    # the coordinator's (access.get_unit_for_coordinator): 403 for the unit's manager and the
    # observer; each success writes one timeline event of the unit. The setups: the coordinator
    # started the rollout, steps 1-3 are done and the routine implemented today, so the 6- and
    # 12-month follow-ups are planned; the rows act on the 6-month one.
    "followup:step": Spec(UNITS, {"GET": {  # step 4 in progress
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (200,   404,   404),
        "manager_b":         (404,   200,   404),
        "coordinator":       (200,   200,   404),
        "other_coordinator": (404,   404,   200),
        "observer":          (200,   200,   404),
        "superuser":         (200,   200,   200),
    }}, kwargs=unit_kwargs, setup=follow_up_rollout),
    "followup:book": Spec(UNITS, {  # the 6-month follow-up, planned; POST: a meeting in 5 days
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
    }, kwargs=follow_up_kwargs, data=follow_up_booking_form, allowed=("GET", "POST"),
       trail=timeline("followup.booked"), setup=follow_up_rollout, success_url=follow_up_page),
    # The 12-month follow-up is still open, so recording the 6-month one does not close step 4.
    "followup:record": Spec(UNITS, {  # the 6-month follow-up, planned; GET: the form
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
    }, kwargs=follow_up_kwargs, data=follow_up_record_form, allowed=("GET", "POST"),
       trail=timeline("followup.held"), setup=follow_up_rollout, success_url=unit_page),
    # Every logged-in person's own notification settings; there is no object to aim at, so no one
    # can reach anyone else's. No trail, on purpose: which e-mails a person wants, and in which
    # language, is a personal preference, not an audited change (unlike a calendar address, which
    # is a credential and goes to the audit log). What a success saves: own_settings_saved.
    "followup:settings": Spec(NONE, {
        "GET": {
            "anonymous":         (LOGIN,),
            "manager_a":         (200,),
            "manager_b":         (200,),
            "coordinator":       (200,),
            "other_coordinator": (200,),
            "observer":          (200,),
            "superuser":         (200,),
        },
        "POST": {
            "anonymous":         (LOGIN,),
            "manager_a":         (302,),
            "manager_b":         (302,),
            "coordinator":       (302,),
            "other_coordinator": (302,),
            "observer":          (302,),
            "superuser":         (302,),
        },
    }, data=fixed(NOTIFICATION_SETTINGS), allowed=("GET", "POST"), trail=None,
       success_url=notification_settings_page, done=own_settings_saved),
    # The outbox is the municipality's (access.get_rw_municipality_for_user): managers see no
    # municipality pages (404), the observer may not see it either (403: it lists people's e-mail).
    # Sending a failed reminder again changes only the row's status (back to pending), no trail;
    # the reminder must be one of the municipality's (test_retry_refuses_a_reminder_of_*).
    "followup:outbox": Spec(MUNICIPALITIES, {"GET": {  # a failed reminder to a unit's manager
        #                     municipality_a municipality_x
        "anonymous":         (LOGIN,         LOGIN),
        "manager_a":         (404,           404),
        "manager_b":         (404,           404),
        "coordinator":       (200,           404),
        "other_coordinator": (404,           200),
        "observer":          (403,           404),
        "superuser":         (200,           200),
    }}, kwargs=municipality_kwargs, setup=failed_reminder),
    "followup:retry": Spec(MUNICIPALITIES, {"POST": {  # a failed reminder to a unit's manager
        #                     municipality_a municipality_x
        "anonymous":         (LOGIN,         LOGIN),
        "manager_a":         (404,           404),
        "manager_b":         (404,           404),
        "coordinator":       (302,           404),
        "other_coordinator": (404,           302),
        "observer":          (403,           404),
        "superuser":         (302,           302),
    }}, kwargs=reminder_kwargs, allowed=("POST",), trail=None, setup=failed_reminder,
       success_url=outbox_page, done=queued_again),

    # --- Board reports and certificates (rollout/urls.py) ---
    # Reports are the municipality's: read by its coordinators and observers
    # (access.get_municipality_for_user), asked for by its coordinators only
    # (access.get_rw_municipality_for_user: the observer gets 403); managers see no municipality
    # pages (404). Asking is in the audit log, filed under the municipality. The certificate is
    # the unit's: whoever can read the unit downloads it (access.get_unit_for_user).
    "rollout:reports": Spec(MUNICIPALITIES, {
        "GET": {
            #                     municipality_a municipality_x
            "anonymous":         (LOGIN,         LOGIN),
            "manager_a":         (404,           404),
            "manager_b":         (404,           404),
            "coordinator":       (200,           404),
            "other_coordinator": (404,           200),
            "observer":          (200,           404),
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
    }, kwargs=report_municipality_kwargs, data=fixed({"language": "sv"}), allowed=("GET", "POST"),
       trail=audit("board_report.requested", municipality=own_municipality),
       success_url=newest_report_page),
    "rollout:report": Spec(MUNICIPALITIES, {"GET": {  # a queued report of the municipality
        #                     municipality_a municipality_x
        "anonymous":         (LOGIN,         LOGIN),
        "manager_a":         (404,           404),
        "manager_b":         (404,           404),
        "coordinator":       (200,           404),
        "other_coordinator": (404,           200),
        "observer":          (200,           404),
        "superuser":         (200,           200),
    }}, kwargs=board_report_kwargs, setup=queued_board_report),
    "rollout:report_pdf": Spec(MUNICIPALITIES, {"GET": {  # a finished report of the municipality
        #                     municipality_a municipality_x
        "anonymous":         (LOGIN,         LOGIN),
        "manager_a":         (404,           404),
        "manager_b":         (404,           404),
        "coordinator":       (200,           404),
        "other_coordinator": (404,           200),
        "observer":          (200,           404),
        "superuser":         (200,           200),
    }}, kwargs=board_report_kwargs, setup=done_board_report, content_type="application/pdf",
       writes_media=True),
    "rollout:certificate": Spec(UNITS, {"GET": {  # a completed round, its certificate made
        #                     unit_a unit_b unit_x
        "anonymous":         (LOGIN, LOGIN, LOGIN),
        "manager_a":         (200,   404,   404),
        "manager_b":         (404,   200,   404),
        "coordinator":       (200,   200,   404),
        "other_coordinator": (404,   404,   200),
        "observer":          (200,   200,   404),
        "superuser":         (200,   200,   200),
    }}, kwargs=unit_kwargs, setup=certified_round, content_type="application/pdf",
       writes_media=True),
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
    settings: Any,
    request: pytest.FixtureRequest,
    name: str,
    method: str,
    persona: str,
    target: str,
    expected: Expected,
) -> None:
    spec = EXPECTATIONS[name]
    if spec.writes_media:
        settings.MEDIA_ROOT = request.getfixturevalue("tmp_path")
    spec.setup(world, target)
    url = reverse(name, kwargs=spec.kwargs(world, target))
    if query := spec.query(world, target):
        url += f"?{urlencode(query)}"
    data = spec.data(world, target) if method == "POST" else {}
    log_in(client, world, persona)
    before = trail_counts()
    ends = trail_ends()

    response = send(client, method, url, data)

    label = f"{method} {url} as {persona}"
    check(response, expected, label)
    if expected == 200 and spec.content_type is not None:
        media_type = response["Content-Type"].split(";")[0].strip()
        assert media_type == spec.content_type, f"{label}: {response['Content-Type']}"
    after = trail_counts()
    written = {trail: after[trail] - before[trail] for trail in after}
    if expected in (LOGIN, 403, 404, 410) or method == "GET":
        # Refused means refused, and a page is only a page: nothing in either trail (every
        # service leaves an audit or timeline event, so nothing was changed).
        assert not any(written.values()), f"{label}: wrote {written}"
    elif method == "POST" and expected == 302 and spec.trail is not None:
        # …and the redirect of a success is a real success, not a message saying why not.
        trail = spec.trail.trail if isinstance(spec.trail, Written) else spec.trail
        assert written[trail] > 0, f"{label}: redirected without a {trail} event"
        if isinstance(spec.trail, Written):
            check_written(spec.trail, world, target, ends, label)
        if spec.success_url is not None:
            assert response["Location"] == spec.success_url(world, target), label
    elif method == "POST" and expected == 302:
        # A row without a trail records nothing: not the place for a change that needs one.
        assert not any(written.values()), f"{label}: wrote {written} (the row names no trail)"
        if spec.success_url is not None:
            assert response["Location"] == spec.success_url(world, target), label
    if spec.done is not None:
        # Without a trail, the change itself shows that a success is real and a refusal changed
        # nothing.
        succeeded = method == "POST" and expected == 302
        assert spec.done(world, target, persona) == succeeded, (
            f"{label}: {'not ' if succeeded else ''}changed"
        )


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
    target = spec.targets[0]
    spec.setup(world, target)
    url = reverse(name, kwargs=spec.kwargs(world, target))
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


# A session's pages and the form each accepts (the calendar file: GET only).
SESSION_PAGES: dict[str, Filler | None] = {
    "training:session_edit": booking_form,
    "training:session_cancel": reason_form,
    "training:session_held": held_form,
    "training:session_ics": None,
}


@pytest.mark.django_db
@pytest.mark.parametrize("page", sorted(SESSION_PAGES))
@pytest.mark.parametrize(
    ("persona", "in_unit", "session_of"),
    [
        ("coordinator", "unit_a", "unit_b"),  # same municipality, another unit
        ("coordinator", "unit_a", "unit_x"),  # another municipality
        ("superuser", "unit_a", "unit_b"),
    ],
)
def test_session_pages_refuse_a_session_of_another_unit(
    client: Client, world: World, page: str, persona: str, in_unit: str, session_of: str
) -> None:
    training_rollout(world, in_unit)
    session = booked_session(world, session_of)
    log_in(client, world, persona)
    url = reverse(page, kwargs={"pk": world.unit(in_unit).pk, "session_pk": session.pk})
    before = trail_counts()
    assert client.get(url).status_code == 404
    form = SESSION_PAGES[page]
    if form is not None:
        assert client.post(url, form(world, in_unit)).status_code == 404
    assert trail_counts() == before
    session.refresh_from_db()
    assert session.status == SessionStatus.BOOKED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "in_municipality", "theme_of"),
    [
        ("coordinator", "municipality_a", "municipality_x"),
        ("other_coordinator", "municipality_x", "municipality_a"),
        ("superuser", "municipality_a", "municipality_x"),
    ],
)
def test_theme_edit_refuses_a_theme_of_another_municipality(
    client: Client, world: World, persona: str, in_municipality: str, theme_of: str
) -> None:
    themes_of(world, in_municipality)
    themes_of(world, theme_of)
    theme = first_theme(world.municipality(theme_of))
    log_in(client, world, persona)
    url = reverse(
        "training:theme_edit",
        kwargs={"municipality_pk": world.municipality(in_municipality).pk, "theme_pk": theme.pk},
    )
    assert client.get(url).status_code == 404
    assert client.post(url, theme_form(world, in_municipality)).status_code == 404
    theme.refresh_from_db()
    assert theme.name != theme_form(world, in_municipality)["name"]
    assert not AuditEvent.objects.filter(action__startswith="theme.").exists()


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


@pytest.mark.django_db
@pytest.mark.parametrize("persona", sorted(VISIBLE_UNITS))
def test_week_lists_exactly_the_sessions_of_visible_units(
    client: Client, world: World, persona: str
) -> None:
    sessions_this_week(world, "-")
    log_in(client, world, persona)
    response = client.get(reverse("training:week"))
    assert response.status_code == 200
    assert response.context["monday"] == this_monday()
    shown = {session.rollout.unit_id for session in response.context["sessions"]}
    expected = VISIBLE_UNITS[persona]
    assert shown == {world.unit(target).pk for target in expected}
    html = response.content.decode()
    for target in UNITS:
        unit = world.unit(target)
        link = reverse("training:targeted", kwargs={"pk": unit.pk})
        assert (f'href="{link}"' in html) == (target in expected), f"{persona}: {link}"


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


# --- Step 1 below the threshold -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "closes"),
    [
        ("manager_a", False),  # refused: 15 of 20 is 75 %, the threshold is 80 %
        ("coordinator", True),  # the coordinator may close step 1 at any time
        ("superuser", True),
    ],
)
def test_web_course_complete_below_the_threshold(
    client: Client, world: World, persona: str, closes: bool
) -> None:
    rollout = active_rollout(world, "unit_a")
    report_web_course(rollout, completed=15, actor=manager_of(world, "unit_a"))
    log_in(client, world, persona)
    before = trail_counts()

    response = client.post(reverse("training:web_course_complete", kwargs={"pk": rollout.unit_id}))

    # Both answers are a 302; only the place differs: the unit page after closing the step, the
    # step 1 page (with the reason as a message) after a refusal.
    assert response.status_code == 302
    back_to = "units:detail" if closes else "training:web_course"
    assert response["Location"] == reverse(back_to, kwargs={"pk": rollout.unit_id})
    written = trail_counts()[TIMELINE] - before[TIMELINE]
    step_1 = StepState.objects.get(rollout=rollout, step=Step.WEB_COURSE)
    step_2 = StepState.objects.get(rollout=rollout, step=Step.TRAINING)
    if closes:
        assert (step_1.status, step_2.status) == (StepStatus.DONE, StepStatus.IN_PROGRESS)
        assert written == 2  # step 1 completed, step 2 started
    else:
        assert (step_1.status, step_2.status) == (StepStatus.IN_PROGRESS, StepStatus.NOT_STARTED)
        assert written == 0
        messages = [str(message) for message in get_messages(response.wsgi_request)]
        assert any("80" in message for message in messages), messages
    rollout.refresh_from_db()
    assert rollout.status == RolloutStatus.ACTIVE


# --- The rollout pages do not grow with the unit's history ------------------------------------


def add_history(
    world: World, target: str, rollout: Rollout, *, checkins: int, reports: int
) -> None:
    """Check-ins and web-course reports (2 each), taking turns between manager and coordinator."""
    people = (manager_of(world, target), coordinator_of(world, target))
    for i in range(checkins):
        rollout_services.checkin_nothing_new(actor=people[i % 2], rollout=rollout)
    for i in range(reports):
        report_web_course(rollout, completed=2, actor=people[i % 2])


# Measured on SQLite and PostgreSQL: the most of the personas below (coordinator and superuser; a
# manager or observer needs one to three fewer). Each includes the 9 of every logged-in request
# (session user, allauth's usersession update with 2 savepoints, roles ×2, the MFA authenticator,
# the session save with 2 savepoints). units:detail: unit, access checks, managers and invitations
# for the coordinator, then the rollout section (rounds, steps, one facts query per step app, the
# latest 30 events with their actors, their count); the section repeats the view's two access checks.
ROLLOUT_PAGE_MAX_QUERIES = {
    "units:detail": 25,
    "rollout:timeline": 16,
    "training:web_course": 21,
}

# What each page shows of a long history (1 start + 40 check-ins + 5 reports = 46 events).
LONG_HISTORY_ROWS = {
    "units:detail": ('<li class="border-start', 30),  # the latest 30 (TIMELINE_LENGTH)
    "rollout:timeline": ('<li class="border-start', 46),  # one page of up to 50
    "training:web_course": ("<tr><td>", 5),  # every report (one page holds 20)
}


@pytest.mark.django_db
@pytest.mark.parametrize("page", sorted(ROLLOUT_PAGE_MAX_QUERIES))
@pytest.mark.parametrize("persona", ["manager_a", "coordinator", "observer", "superuser"])
def test_rollout_pages_query_count_does_not_grow_with_history(
    client: Client,
    world: World,
    page: str,
    persona: str,
    django_assert_max_num_queries: Any,
) -> None:
    rollout = active_rollout(world, "unit_a")
    add_history(world, "unit_a", rollout, checkins=1, reports=1)
    url = reverse(page, kwargs={"pk": rollout.unit_id})
    log_in(client, world, persona)
    client.get(url)  # the first request after login also records the session
    limit = ROLLOUT_PAGE_MAX_QUERIES[page]

    # Rendered each time, not served from units.pagecache (add_history writes past the services).
    pagecache.clear()
    with django_assert_max_num_queries(limit) as short:  # 3 events, 1 report
        assert client.get(url).status_code == 200
    add_history(world, "unit_a", rollout, checkins=39, reports=4)
    pagecache.clear()
    with django_assert_max_num_queries(limit) as long:  # 46 events, 5 reports
        response = client.get(url)

    assert response.status_code == 200
    marker, rows = LONG_HISTORY_ROWS[page]
    assert response.content.decode().count(marker) == rows
    assert len(long) == len(short), (
        f"{page} as {persona}: {len(short)} queries with a short history, {len(long)} with a long"
    )


# --- Step 2: the page does not grow with the sessions -----------------------------------------


def add_sessions(world: World, target: str, rollout: Rollout, count: int) -> None:
    """`count` more sessions, one a day from 4 days ahead, led in turn by the coordinator and the
    superuser; every third one began in the past and is registered as held."""
    coordinator = coordinator_of(world, target)
    first = TrainingSession.objects.filter(rollout=rollout).count()
    for i in range(first, first + count):
        session = book_session(
            world,
            target,
            rollout,
            starts_at=in_days(4 + i, hour=9 + i % 8),
            leader=(coordinator, world.users["superuser"])[i % 2],
        )
        if i % 3 == 2:
            move_to(session, timezone.now() - dt.timedelta(days=i))
            training_services.session_record_held(
                actor=coordinator,
                session=session,
                participants=12,
                exercises="",
                rating=i % 5 + 1,
                notes="",
            )


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["manager_a", "coordinator", "observer", "superuser"])
def test_targeted_page_query_count_does_not_grow_with_sessions(
    client: Client, world: World, persona: str, django_assert_num_queries: Any
) -> None:
    rollout = training_rollout(world, "unit_a")
    add_sessions(world, "unit_a", rollout, 1)
    training_services.wish_save(
        actor=manager_of(world, "unit_a"),
        rollout=rollout,
        themes=Theme.objects.filter(pk__in=theme_pks(world, "unit_a")),
        suggested_dates="tisdagar efter 15",
        note="",
    )
    url = reverse("training:targeted", kwargs={"pk": rollout.unit_id})
    log_in(client, world, persona)
    client.get(url)  # the first request after login also records the session

    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    add_sessions(world, "unit_a", rollout, 7)
    with django_assert_num_queries(len(one)):  # the same number with 8 sessions as with 1
        response = client.get(url)

    assert response.status_code == 200
    assert len(response.context["sessions"]) == 8
    assert response.content.decode().count('<li class="list-group-item">') == 8


# --- Step 2: the private calendar feed --------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_calendar_feed_unknown_token_is_404(client: Client, world: World, persona: str) -> None:
    coordinator_feed(world, "-")  # a real address exists; a made-up one still finds nothing
    log_in(client, world, persona)
    for token in ("okand-adress", world.tokens["calendar_feed"][:-1]):
        url = reverse("training:calendar_feed", kwargs={"token": token})
        assert client.get(url).status_code == 404, url


@pytest.mark.django_db
def test_calendar_feed_renewal_retires_the_old_address(client: Client, world: World) -> None:
    coordinator = world.users["coordinator"]
    coordinator_feed(world, "-")
    old = world.tokens["calendar_feed"]
    client.force_login(coordinator)
    ends = trail_ends()

    response = client.post(reverse("training:calendar_feed_settings"))

    assert response.status_code == 200
    new = response.context["feed_url"].rsplit("/", 1)[1].removesuffix(".ics")
    assert new != old
    # Audited as the person's own (no municipality), and the log never holds the credential.
    renewed = AuditEvent.objects.get(pk__gt=ends[AUDIT])
    assert (renewed.action, renewed.actor_id, renewed.municipality_id) == (
        "calendar_feed.renewed",
        coordinator.pk,
        None,
    )
    logged = f"{renewed.target_repr} {renewed.changes}"
    assert old not in logged
    assert new not in logged
    client.logout()  # the address alone is the credential
    assert client.get(reverse("training:calendar_feed", kwargs={"token": old})).status_code == 404
    feed = client.get(reverse("training:calendar_feed", kwargs={"token": new}))
    assert feed.status_code == 200
    assert feed["Content-Type"].startswith("text/calendar")
    assert b"BEGIN:VEVENT" in feed.content  # the session booked in unit A


@pytest.mark.django_db
def test_calendar_feed_of_a_deactivated_user_is_404(client: Client, world: World) -> None:
    feed = coordinator_feed(world, "-")
    User.objects.filter(pk=feed.user_id).update(is_active=False)
    url = reverse("training:calendar_feed", args=[world.tokens["calendar_feed"]])
    assert client.get(url).status_code == 404


# --- Step 3: examples stay within the sector ---------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("manager_a", 200),  # the example's own unit
        ("manager_b", 404),  # same municipality, another sector now
        ("coordinator", 200),  # sees unit A
        ("observer", 200),
        ("other_coordinator", 404),
        ("superuser", 200),
    ],
)
def test_example_is_not_shown_in_another_sector(
    client: Client, world: World, persona: str, expected: int
) -> None:
    unit_a, unit_b = world.unit("unit_a"), world.unit("unit_b")
    other_sector = unit_a.municipality.sectors.exclude(pk=unit_a.sector_id).first()
    assert other_sector is not None
    Unit.objects.filter(pk=unit_b.pk).update(sector=other_sector)
    shared = published_example(world, "unit_a")
    log_in(client, world, persona)
    url = reverse("routines:example", kwargs={"routine_pk": shared.pk})
    assert client.get(url).status_code == expected, f"GET {url} as {persona}"


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["manager_a", "manager_b", "coordinator", "superuser"])
def test_example_that_is_not_shared_is_404(client: Client, world: World, persona: str) -> None:
    """An approved routine, never shared (or shared and withdrawn): no example page for anyone."""
    routine = published_example(world, "unit_a")
    url = reverse("routines:example", kwargs={"routine_pk": routine.pk})
    log_in(client, world, persona)
    assert client.get(url).status_code == 200
    routine_services.routine_publish(
        actor=coordinator_of(world, "unit_a"), routine=routine, published=False
    )
    assert client.get(url).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "role"),
    [("manager_a", "manager"), ("coordinator", "coordinator"), ("superuser", "coordinator")],
)
def test_approval_is_given_in_the_approvers_own_role(
    client: Client, world: World, persona: str, role: str
) -> None:
    """The role comes from who approves, never from the form: a manager's approval cannot stand
    in for the coordinator's."""
    routine = routine_in_review(world, "unit_a")
    log_in(client, world, persona)
    url = reverse("routines:approve", kwargs={"pk": world.unit("unit_a").pk})

    response = client.post(url, {"version": 1, "as_coordinator": "1", "role": "coordinator"})

    assert response.status_code == 302
    routine.refresh_from_db()
    approved = {
        "manager": routine.manager_approved_version,
        "coordinator": routine.coordinator_approved_version,
    }
    assert approved == {name: (1 if name == role else None) for name in approved}
    assert routine.status == RoutineStatus.REVIEW  # one approval of the two


# --- Step 3: the routine pages do not grow with the versions ---------------------------------


def add_versions(world: World, target: str, routine: Routine, count: int) -> None:
    """`count` more versions, saved in turn by the unit's manager and the coordinator."""
    people = (manager_of(world, target), coordinator_of(world, target))
    for i in range(count):
        save_version(world, target, routine, people[i % 2], f"Tillägg {i + 1}.")


# Measured on SQLite and PostgreSQL as the coordinator and the superuser (a manager or observer
# needs one fewer), including the 9 of every logged-in request and the lookup of the unit's open
# rollout (a new round writes a new routine). However many versions there are, the routine page
# counts them and reads one page of them, and the compare page reads their numbers in one query.
ROUTINE_PAGE_MAX_QUERIES = {
    "routines:routine": 20,
    "routines:compare": 19,
}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["manager_a", "coordinator", "observer", "superuser"])
def test_routine_page_query_count_does_not_grow_with_versions(
    client: Client,
    world: World,
    persona: str,
    django_assert_max_num_queries: Any,
    django_assert_num_queries: Any,
) -> None:
    routine = started_routine(world, "unit_a")
    url = reverse("routines:routine", kwargs={"pk": routine.rollout.unit_id})
    log_in(client, world, persona)
    client.get(url)  # the first request after login also records the session

    with django_assert_max_num_queries(ROUTINE_PAGE_MAX_QUERIES["routines:routine"]) as one:
        assert client.get(url).status_code == 200
    add_versions(world, "unit_a", routine, 5)
    with django_assert_num_queries(len(one)):  # the same number with 6 versions as with 1
        response = client.get(url)

    assert response.status_code == 200
    assert [version.number for version in response.context["versions"]] == [6, 5, 4, 3, 2, 1]
    assert response.content.decode().count("jämför med föregående") == 5


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["manager_a", "coordinator", "observer", "superuser"])
def test_compare_query_count_does_not_grow_with_versions(
    client: Client,
    world: World,
    persona: str,
    django_assert_max_num_queries: Any,
    django_assert_num_queries: Any,
) -> None:
    routine = routine_with_two_versions(world, "unit_a")
    url = reverse("routines:compare", kwargs={"pk": routine.rollout.unit_id})
    log_in(client, world, persona)
    client.get(url)  # the first request after login also records the session

    with django_assert_max_num_queries(ROUTINE_PAGE_MAX_QUERIES["routines:compare"]) as two:
        assert client.get(f"{url}?a=1&b=2").status_code == 200
    add_versions(world, "unit_a", routine, 4)
    with django_assert_num_queries(len(two)):  # the same number with 6 versions as with 2
        response = client.get(f"{url}?a=1&b=6")

    assert response.status_code == 200
    assert (response.context["a"].number, response.context["b"].number) == (1, 6)
    assert response.context["numbers"] == [1, 2, 3, 4, 5, 6]


# --- Step 4: ids that do not belong together, and pages that do not grow ---------------------

FOLLOW_UP_PAGES: dict[str, Filler] = {
    "followup:book": follow_up_booking_form,
    "followup:record": follow_up_record_form,
}


@pytest.mark.django_db
@pytest.mark.parametrize("page", sorted(FOLLOW_UP_PAGES))
@pytest.mark.parametrize(
    ("persona", "in_unit", "follow_up_of"),
    [
        ("coordinator", "unit_a", "unit_b"),  # same municipality, another unit
        ("coordinator", "unit_a", "unit_x"),  # another municipality
        ("superuser", "unit_a", "unit_b"),
    ],
)
def test_follow_up_pages_refuse_a_follow_up_of_another_unit(
    client: Client, world: World, page: str, persona: str, in_unit: str, follow_up_of: str
) -> None:
    follow_up_rollout(world, in_unit)
    follow_up_rollout(world, follow_up_of)
    follow_up = six_months(world, follow_up_of)
    log_in(client, world, persona)
    url = reverse(page, kwargs={"pk": world.unit(in_unit).pk, "follow_up_pk": follow_up.pk})
    before = trail_counts()
    assert client.get(url).status_code == 404
    assert client.post(url, FOLLOW_UP_PAGES[page](world, in_unit)).status_code == 404
    assert trail_counts() == before
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUpStatus.PLANNED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "in_municipality", "reminder_of"),
    [
        ("coordinator", "municipality_a", "municipality_x"),
        ("other_coordinator", "municipality_x", "municipality_a"),
        ("superuser", "municipality_a", "municipality_x"),
    ],
)
def test_retry_refuses_a_reminder_of_another_municipality(
    client: Client, world: World, persona: str, in_municipality: str, reminder_of: str
) -> None:
    failed_reminder(world, in_municipality)
    reminder = failed_reminder(world, reminder_of)
    log_in(client, world, persona)
    url = reverse(
        "followup:retry",
        kwargs={"municipality_pk": world.municipality(in_municipality).pk, "pk": reminder.pk},
    )
    assert client.post(url).status_code == 404
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.FAILED
    # …and the municipality's own outbox does not list it either.
    outbox = client.get(outbox_page(world, in_municipality))
    assert outbox.status_code == 200
    assert [row.pk for row in outbox.context["page"].object_list] == [
        failed_reminder_of(in_municipality).pk
    ]


# Measured on SQLite and PostgreSQL as the coordinator and the superuser (on the step 4 page a
# manager or observer needs one fewer), including the 12 statements every logged-in request makes
# (the session's user, allauth's usersession bookkeeping, roles ×2, the MFA authenticator and the
# session save, with their savepoints). The step 4 page: the unit, its open rollout, the four
# step apps' facts (the implementation date), the follow-ups with who booked them, and the
# navigation's municipalities. The outbox: the municipality, the coordinator check, the count for
# the pager, the stuck ones, the navigation's municipalities and one page of reminders with their
# recipients and units.
STEP_4_PAGE_MAX_QUERIES = {
    "followup:step": 20,
    "followup:outbox": 18,
}


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["manager_a", "coordinator", "observer", "superuser"])
def test_follow_up_page_query_count_does_not_grow_with_bookings(
    client: Client,
    world: World,
    persona: str,
    django_assert_max_num_queries: Any,
    django_assert_num_queries: Any,
) -> None:
    rollout = follow_up_rollout(world, "unit_a")
    book_follow_up(world, "unit_a", 6, days=5)
    url = reverse("followup:step", kwargs={"pk": rollout.unit_id})
    log_in(client, world, persona)
    client.get(url)  # the first request after login also records the session

    with django_assert_max_num_queries(STEP_4_PAGE_MAX_QUERIES["followup:step"]) as one:
        assert client.get(url).status_code == 200
    book_follow_up(world, "unit_a", 12, days=12)
    with django_assert_num_queries(len(one)):  # the same number with 2 booked as with 1
        response = client.get(url)

    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(f.offset_months, f.status) for f, _due in rows] == [
        (6, FollowUpStatus.BOOKED),
        (12, FollowUpStatus.BOOKED),
    ]
    html = response.content.decode()
    for days in (5, 12):
        assert f"{in_days(days, hour=10):%Y-%m-%d %H:%M}" in html


def add_reminders(world: World, count: int) -> None:
    """`count` more reminders in municipality A: nudges to the managers of units A and B and
    digests to the coordinator (no unit) in turn; every third one failed, every fourth sent."""
    people = (
        ("unit_a", manager_of(world, "unit_a"), "nudge"),
        ("unit_b", manager_of(world, "unit_b"), "nudge"),
        (None, world.users["coordinator"], "digest"),
    )
    first = Reminder.objects.count()
    for i in range(first, first + count):
        unit, recipient, kind = people[i % 3]
        reminder, _created = outbox_services.schedule(
            recipient=recipient,
            kind=kind,
            subject_key=f"matrix:many:{i}",
            due_on=timezone.localdate(),
            subject=f"Påminnelse {i}",
            body="…",
            unit=world.unit(unit) if unit else None,
        )
        if i % 3 == 2:
            status = ReminderStatus.FAILED
        elif i % 4 == 3:
            status = ReminderStatus.SENT
        else:
            continue
        Reminder.objects.filter(pk=reminder.pk).update(status=status, attempts=1)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["coordinator", "superuser"])
def test_outbox_query_count_does_not_grow_with_reminders(
    client: Client,
    world: World,
    persona: str,
    django_assert_max_num_queries: Any,
    django_assert_num_queries: Any,
) -> None:
    add_reminders(world, 5)
    url = outbox_page(world, "municipality_a")
    log_in(client, world, persona)
    client.get(url)  # the first request after login also records the session

    with django_assert_max_num_queries(STEP_4_PAGE_MAX_QUERIES["followup:outbox"]) as five:
        assert client.get(url).status_code == 200
    add_reminders(world, 35)
    with django_assert_num_queries(len(five)):  # the same number with 40 reminders as with 5
        response = client.get(url)

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 40  # one page of up to 50
    failed = Reminder.objects.filter(status=ReminderStatus.FAILED).values_list("pk", flat=True)
    assert len(failed) == 13
    html = response.content.decode()
    for pk in failed:  # a retry button for every failed one
        retry_url = reverse(
            "followup:retry",
            kwargs={"municipality_pk": world.municipality("municipality_a").pk, "pk": pk},
        )
        assert f'action="{retry_url}"' in html


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
