"""Query-count bounds on the list and aggregate pages (issue 9): each page is drawn with a few rows
and with three times as many, and must make the same number of queries both times, below a
ceiling. An N+1 shows as a difference; the ceiling catches a page that grows by a constant.

Also bounded in the strong form elsewhere, with the dimension that grows there: the unit page,
timeline and step 1 page with a long history (tests/test_permission_matrix.py), step 2 with many
sessions, the routine and compare pages with many versions, step 4 and the outbox with many
reminders, the week (tests/training/test_sessions.py), the intervention map and list
(tests/rollout/test_interventions.py), the regional view (tests/rollout/test_regional.py) and the
dashboard's pages at 20 and 2,000 units (tests/rollout/test_board.py). The dashboard's pages are
here too, with units in every step, and their exports.

Every page is drawn afresh for each count: the page cache and the Board cache are emptied first,
so the session and the person with their roles are read each time too."""

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest
from django.core.cache import cache
from django.db import connection
from django.http.response import HttpResponseBase
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from followup.models import FollowUp, FollowUpStatus
from rollout import services as engine
from rollout.models import (
    BoardReport,
    ReportStatus,
    Rollout,
    RolloutStatus,
    Step,
    StepState,
    StepStatus,
)
from routines.models import ReferenceEntry, Routine, RoutineStatus
from tests.factories import (
    MunicipalityFactory,
    UnitFactory,
    UserFactory,
    make_coordinator,
    make_manager,
    make_observer,
)
from training import services as training_services
from training.models import CourseMode, Theme
from units import access, pagecache, services
from units.models import (
    Municipality,
    RegionalObserver,
    Role,
    Unit,
    UnitManager,
    User,
)

SMALL, LARGE = 3, 9


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # Dozens of people per case: the real hasher would take most of the module's time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Env:
    municipality: Municipality
    unit_a: Unit
    users: dict[str, User]

    @property
    def coordinator(self) -> User:
        return self.users["coordinator"]


@pytest.fixture
def env(
    municipality: Municipality,
    unit_a: Unit,
    manager_a: User,
    coordinator: User,
    superuser: User,
) -> Env:
    return Env(
        municipality=municipality,
        unit_a=unit_a,
        users={
            "manager_a": manager_a,
            "coordinator": coordinator,
            "superuser": superuser,
        },
    )


Grow = Callable[[Env, range], None]
Url = Callable[[Env], str]
# Asserts that the page shows the rows (all `count` of them), so that a page drawing nothing
# cannot pass.
Shown = Callable[[HttpResponseBase, Env, int], None]


@dataclass(frozen=True)
class Page:
    id: str
    persona: str  # "anonymous" or a key of Env.users
    url: Url
    grow: Grow
    shown: Shown
    ceiling: int


# --- Rows ---------------------------------------------------------------------------------------


def units(env: Env, rows: range) -> None:
    for i in rows:
        UnitFactory.create(municipality=env.municipality, name=f"Radenhet {i:02d}")


def managed(env: Env, rows: range) -> None:
    for i in rows:
        unit = UnitFactory.create(municipality=env.municipality, name=f"Radenhet {i:02d}")
        UnitManager.objects.create(user=env.users["manager_a"], unit=unit)


def managers(env: Env, rows: range) -> None:
    for i in rows:
        make_manager(env.unit_a, email=f"chef{i:02d}@rad.example.se")
        services.invitation_create(
            actor=env.coordinator,
            email=f"inbjuden{i:02d}@rad.example.se",
            municipality=env.municipality,
            role=Role.MANAGER,
            unit=env.unit_a,
        )


def people(env: Env, rows: range) -> None:
    for i in rows:
        make_observer(env.municipality, email=f"observator{i:02d}@rad.example.se")
        services.invitation_create(
            actor=env.coordinator,
            email=f"inbjuden{i:02d}@rad.example.se",
            municipality=env.municipality,
            role=Role.OBSERVER,
        )


def sectors(env: Env, rows: range) -> None:
    for i in rows:
        services.sector_create(
            actor=env.coordinator, municipality=env.municipality, name=f"Radsektor {i:02d}"
        )


def kommuner(env: Env, rows: range) -> None:
    for i in rows:
        UnitFactory.create(municipality=MunicipalityFactory.create(name=f"Radkommun {i:02d}"))


def rollouts(env: Env, rows: range) -> None:
    """Units in turn started, in step 1 with a report, in step 2 with a booked session, paused,
    and in step 4 with an implemented routine, a follow-up held and one to come."""
    coordinator = env.coordinator
    training_services.themes_ensure_defaults(municipality=env.municipality)
    for i in rows:
        unit = UnitFactory.create(municipality=env.municipality, name=f"Radenhet {i:02d}")
        if i % 5 == 4:
            late_rollout(unit)
            continue
        rollout = engine.rollout_start(actor=coordinator, unit=unit)
        if i % 5 == 0:
            continue
        training_services.web_course_report(
            actor=coordinator,
            unit_id=unit.pk,
            reported_on=timezone.localdate(),
            completed_count=5,
            mode=CourseMode.GROUPS,
            group_sessions=1,
            knowledge_level=3,
            reflections="",
        )
        if i % 5 == 2:
            engine.step_complete(actor=coordinator, rollout=rollout, step=Step.WEB_COURSE)
            training_services.session_book(
                actor=coordinator,
                rollout=rollout,
                starts_at=timezone.now() + dt.timedelta(days=3 + i, hours=i),
                duration_minutes=60,
                place="Aulan",
                video_url="",
                themes=list(Theme.objects.filter(municipality=env.municipality)[:2]),
                expected_participants=10,
                leader=coordinator,
            )
        elif i % 5 == 3:
            engine.rollout_pause(actor=coordinator, rollout=rollout, reason="Omorganisation")


def late_rollout(unit: Unit) -> None:
    """Written past the services, as the routine and follow-up flows would take long."""
    now = timezone.now()
    rollout = Rollout.objects.create(
        unit=unit, status=RolloutStatus.ACTIVE, started_at=now - dt.timedelta(days=400)
    )
    StepState.objects.bulk_create(
        StepState(
            rollout=rollout,
            step=step,
            status=StepStatus.DONE if step < Step.FOLLOW_UP else StepStatus.IN_PROGRESS,
            started_at=now - dt.timedelta(days=400 - 30 * step),
            completed_at=now - dt.timedelta(days=390 - 30 * step)
            if step < Step.FOLLOW_UP
            else None,
        )
        for step in Step.values
    )
    Routine.objects.create(
        rollout=rollout,
        status=RoutineStatus.IMPLEMENTED,
        implemented_on=timezone.localdate() - dt.timedelta(days=250),
    )
    FollowUp.objects.create(rollout=rollout, offset_months=6, status=FollowUpStatus.HELD)
    FollowUp.objects.create(rollout=rollout, offset_months=12)


def reports(env: Env, rows: range) -> None:
    BoardReport.objects.bulk_create(
        BoardReport(
            municipality=env.municipality,
            language="sv",
            # At most one running at a time (per language): the first.
            status=ReportStatus.RENDERING
            if i == 0
            else (ReportStatus.DONE, ReportStatus.FAILED)[i % 2],
            requested_by=(env.coordinator, env.users["superuser"], None)[i % 3],
            file=f"reports/{env.municipality.pk}/{i}.pdf",
        )
        for i in rows
    )


def themes(env: Env, rows: range) -> None:
    for i in rows:
        training_services.theme_save(
            actor=env.coordinator,
            municipality=env.municipality,
            theme=None,
            name=f"Radtema {i:02d}",
            description="Beskrivning",
            is_active=bool(i % 2),
        )


def themes_and_leaders(env: Env, rows: range) -> None:
    """For the booking form: its themes to choose from and the coordinators who may lead."""
    if not Rollout.objects.filter(unit=env.unit_a).exists():
        rollout = engine.rollout_start(actor=env.coordinator, unit=env.unit_a)
        engine.step_complete(actor=env.coordinator, rollout=rollout, step=Step.WEB_COURSE)
    for i in rows:
        training_services.theme_save(
            actor=env.coordinator,
            municipality=env.municipality,
            theme=None,
            name=f"Radtema {i:02d}",
            description="Beskrivning",
            is_active=True,
        )
        make_coordinator(
            env.municipality, email=f"samordnare{i:02d}@rad.example.se", first_name=f"Ledare{i:02d}"
        )


def examples(env: Env, rows: range) -> None:
    """Approved routines of other units in unit A's sector, shared as examples."""
    for i in rows:
        unit = UnitFactory.create(
            municipality=env.municipality, sector=env.unit_a.sector, name=f"Radenhet {i:02d}"
        )
        rollout = Rollout.objects.create(unit=unit, status=RolloutStatus.COMPLETED)
        Routine.objects.create(
            rollout=rollout, status=RoutineStatus.APPROVED, published_as_example=True
        )


def rounds(env: Env, rows: range) -> None:
    """Earlier rounds of unit A, each completed: the unit page lists them."""
    now = timezone.now()
    Rollout.objects.bulk_create(
        Rollout(
            unit=env.unit_a,
            round=i + 1,
            status=RolloutStatus.COMPLETED,
            started_at=now - dt.timedelta(days=400),
            completed_at=now - dt.timedelta(days=10),
        )
        for i in rows
    )


def references(env: Env, rows: range) -> None:
    ReferenceEntry.objects.bulk_create(
        ReferenceEntry(
            municipality=env.municipality, key=f"rad-{i:02d}", label=f"Raduppgift {i:02d}"
        )
        for i in rows
    )


def admin_rows(env: Env, rows: range) -> None:
    """One of each for the admin's lists: a municipality, a unit with a manager, an observer,
    a regional observer, an invitation (and the audit events they leave)."""
    for i in rows:
        other = MunicipalityFactory.create(name=f"Radkommun {i:02d}")
        unit = UnitFactory.create(municipality=env.municipality, name=f"Radenhet {i:02d}")
        make_manager(unit, email=f"chef{i:02d}@rad.example.se")
        make_observer(other, email=f"observator{i:02d}@rad.example.se")
        regional = RegionalObserver.objects.create(
            user=UserFactory.create(email=f"lansstyrelsen{i:02d}@rad.example.se"),
            organisation="Länsstyrelsen",
        )
        regional.municipalities.set([env.municipality, other])
        services.invitation_create(
            actor=env.coordinator,
            email=f"inbjuden{i:02d}@rad.example.se",
            municipality=env.municipality,
            role=Role.MANAGER,
            unit=unit,
        )


# --- What the pages must show -------------------------------------------------------------------


def text(response: HttpResponseBase) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


def names(prefix: str, width: int = 2) -> Shown:
    def shown(response: HttpResponseBase, env: Env, count: int) -> None:
        html = text(response)
        for i in range(count):
            assert f"{prefix}{i:0{width}d}" in html, f"{prefix}{i:0{width}d} is not shown"

    return shown


def each(*prefixes: str) -> Shown:
    checks = [names(prefix) for prefix in prefixes]

    def shown(response: HttpResponseBase, env: Env, count: int) -> None:
        for check in checks:
            check(response, env, count)

    return shown


managed_shown = each("chef", "inbjuden")
people_shown = each("observator", "inbjuden")
session_shown = each("Radtema ", "Ledare")
table_rows = names("Radenhet ")


def rounds_shown(response: HttpResponseBase, env: Env, count: int) -> None:
    # The latest round is the one shown; the earlier ones are listed by number.
    for number in range(1, count):
        assert f"Omgång {number}:" in text(response), number


def audit_rows(response: HttpResponseBase, env: Env, count: int) -> None:
    rows = response.context["page"].object_list  # type: ignore[attr-defined]
    assert len(rows) >= count  # an invitation each, and the fixtures' own
    assert text(response).count("<tr>") == len(rows) + 1  # and the header


def report_rows(response: HttpResponseBase, env: Env, count: int) -> None:
    assert len(response.context["page"].object_list) == count  # type: ignore[attr-defined]


def cells(response: HttpResponseBase) -> list[list[str]]:
    """Every row of every sheet of a CSV or XLSX download, as text."""
    body = response.content  # type: ignore[attr-defined]
    if response["Content-Type"].startswith("text/csv"):
        return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    workbook = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    return [
        ["" if value is None else str(value) for value in row]
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
    ]


def exported(response: HttpResponseBase, env: Env, count: int) -> None:
    first_column = {row[0] for row in cells(response) if row}
    assert {f"Radenhet {i:02d}" for i in range(count)} <= first_column


def indicator_rows(response: HttpResponseBase, env: Env, count: int) -> None:
    # The indicators count units, not list them: the page must have counted them all.
    board = response.context["board"]  # type: ignore[attr-defined]
    assert board.unit_count == count + 1  # and unit A
    assert board.started_count == count


def adoption(response: HttpResponseBase, env: Env, count: int) -> None:
    row = next(row for row in cells(response) if row and row[0].startswith("Användning"))
    assert row[1:3] == [str(count), str(count + 1)]  # started, of all units (and unit A)


def feed_events(response: HttpResponseBase, env: Env, count: int) -> None:
    booked = len([i for i in range(count) if i % 5 == 2])
    assert text(response).count("BEGIN:VEVENT") == booked


def example_links(response: HttpResponseBase, env: Env, count: int) -> None:
    assert text(response).count('href="/rutiner/exempel/') == count


def admin_count(response: HttpResponseBase, env: Env, count: int) -> None:
    assert response.context["cl"].result_count >= count  # type: ignore[attr-defined]


# --- The pages ------------------------------------------------------------------------------------


def url(name: str) -> Url:
    return lambda env: reverse(name)


def municipal(name: str, **kwargs: object) -> Url:
    return lambda env: reverse(name, kwargs={"municipality_pk": env.municipality.pk, **kwargs})


def board(name: str, **kwargs: object) -> Url:
    return lambda env: reverse(name, kwargs={"pk": env.municipality.pk, **kwargs})


def of_unit_a(name: str) -> Url:
    return lambda env: reverse(name, kwargs={"pk": env.unit_a.pk})


def export(name: str, fmt: str) -> Url:
    return board(f"rollout:{name}_export", fmt=fmt)


intervention_form = board("rollout:intervention_create")
session_form = of_unit_a("training:session_book")
references_page = municipal("routines:references")


def feed_url(env: Env) -> str:
    _feed, token = training_services.calendar_feed_renew(user=env.coordinator)
    return reverse("training:calendar_feed", kwargs={"token": token})


def admin(model: str) -> Url:
    return lambda env: reverse(f"admin:units_{model}_changelist")


# The ceilings: the counts measured on PostgreSQL (SQLite makes the same), for the persona named.
PAGES = [
    # units
    Page("units-list", "coordinator", url("units:list"), units, names("Radenhet "), 6),
    Page("units-list-manager", "manager_a", url("units:list"), managed, names("Radenhet "), 6),
    Page("unit-managers", "coordinator", of_unit_a("units:detail"), managers, managed_shown, 9),
    Page("unit-rounds", "coordinator", of_unit_a("units:detail"), rounds, rounds_shown, 14),
    Page("unit-form", "coordinator", municipal("units:create"), sectors, names("Radsektor "), 4),
    Page("people", "coordinator", municipal("units:people"), people, people_shown, 7),
    Page("settings", "coordinator", municipal("units:settings"), sectors, names("Radsektor "), 4),
    Page("audit", "coordinator", municipal("units:audit"), managers, audit_rows, 5),
    # rollout
    Page("choose", "superuser", url("rollout:dashboard_home"), kommuner, names("Radkommun "), 4),
    Page("dashboard", "coordinator", board("rollout:dashboard"), rollouts, indicator_rows, 11),
    Page("unit-table", "coordinator", board("rollout:unit_table"), rollouts, table_rows, 11),
    Page("unit-table-csv", "coordinator", export("unit_table", "csv"), rollouts, exported, 11),
    Page("unit-table-xlsx", "coordinator", export("unit_table", "xlsx"), rollouts, exported, 11),
    Page("indicators", "coordinator", board("rollout:indicators"), rollouts, indicator_rows, 11),
    Page("indicators-csv", "coordinator", export("indicators", "csv"), rollouts, adoption, 11),
    Page("indicators-xlsx", "coordinator", export("indicators", "xlsx"), rollouts, adoption, 11),
    Page("reports", "coordinator", board("rollout:reports"), reports, report_rows, 5),
    Page("intervention-form", "coordinator", intervention_form, units, names("Radenhet "), 5),
    # training
    Page("themes", "coordinator", municipal("training:themes"), themes, names("Radtema "), 5),
    Page("session-form", "coordinator", session_form, themes_and_leaders, session_shown, 9),
    Page("calendar-feed", "anonymous", feed_url, rollouts, feed_events, 3),
    # routines
    Page("examples", "manager_a", of_unit_a("routines:routine"), examples, example_links, 7),
    Page("references", "coordinator", references_page, references, names("Raduppgift "), 5),
    # the admin's lists of our models
    *(
        Page(f"admin-{model}", "superuser", admin(model), admin_rows, admin_count, ceiling)
        for model, ceiling in (
            ("municipality", 5),
            ("unit", 6),
            ("unitmanager", 5),
            ("municipalrole", 6),
            ("regionalobserver", 5),
            ("invitation", 6),
            ("auditevent", 9),
            ("user", 5),
        )
    ),
]


def draw(client: Client, url: str) -> tuple[list[str], HttpResponseBase]:
    """One request, drawn afresh: no page from the page cache, no Board from the cache."""
    pagecache.clear()
    cache.clear()
    access.forget_units()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return [query["sql"] for query in queries.captured_queries], response


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.id)
def test_queries_are_the_same_for_few_and_many_rows(client: Client, env: Env, page: Page) -> None:
    page.grow(env, range(SMALL))
    url = page.url(env)
    if page.persona != "anonymous":
        client.force_login(env.users[page.persona])
    client.get(url)  # the first request after login also records the session

    few, response = draw(client, url)
    page.shown(response, env, SMALL)
    page.grow(env, range(SMALL, LARGE))
    many, response = draw(client, url)
    page.shown(response, env, LARGE)

    assert len(many) == len(few), "\n".join(
        [f"{page.id}: {len(few)} queries with {SMALL} rows, {len(many)} with {LARGE}:"]
        + [sql for sql in many if sql not in few]
    )
    assert len(many) <= page.ceiling, f"{page.id}: {len(many)} queries"
