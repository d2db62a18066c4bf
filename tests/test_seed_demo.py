import datetime as dt
import io
import random
import re
import time
from collections import Counter
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, Model, QuerySet
from django.test import Client
from django.utils import timezone

from jarfalla.management.commands.seed_demo import (
    demo_rollout_plan,
    demo_units,
    seeded_random,
    spread,
)
from rollout import services as rollout_services
from rollout.models import (
    OPEN_STATUSES,
    Rollout,
    RolloutStatus,
    Step,
    StepState,
    StepStatus,
    TimelineEvent,
)
from training.models import WebCourseReport
from units.models import (
    AuditEvent,
    Municipality,
    MunicipalRole,
    Role,
    Sector,
    Unit,
    UnitKind,
    UnitManager,
    User,
)
from units.services import DEFAULT_SECTORS

COORDINATOR = "samordnare@demo.example"
MANAGER = "chef@demo.example"
OBSERVER = "fou@demo.example"


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def printed(label: str, output: str) -> str:
    match = re.search(rf"{label}[^:]*: (\S+)", output)
    assert match, f"{label} missing from:\n{output}"
    return match.group(1)


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # Every test hashes the three demo passwords; the production hasher would take seconds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def debug(settings: Any, db: None) -> None:
    settings.DEBUG = True


def test_refuses_when_debug_is_off(settings: Any, db: None) -> None:
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG") as excinfo:
        seed()

    assert "\n" not in str(excinfo.value)
    assert not Municipality.objects.exists()
    assert not User.objects.exists()


def test_force_seeds_even_when_debug_is_off(settings: Any, db: None) -> None:
    settings.DEBUG = False

    seed("--force")

    assert Municipality.objects.filter(slug="demo", name="Demo kommun").exists()


def test_demo_municipality_has_realistic_units(debug: None) -> None:
    seed()

    demo = Municipality.objects.get(slug="demo")
    assert demo.model_name == "Järfällamodellen"
    assert set(demo.sectors.values_list("name", flat=True)) == set(DEFAULT_SECTORS)
    units = Unit.objects.filter(municipality=demo)
    assert 25 <= units.count() <= 40
    assert units.values("sector").distinct().count() >= 5
    assert {UnitKind.MUNICIPAL, UnitKind.HOUSING, UnitKind.ASSOCIATION} <= set(
        units.values_list("kind", flat=True)
    )
    for unit in units.exclude(kind=UnitKind.MUNICIPAL).exclude(kind=UnitKind.OTHER):
        assert not unit.duty_to_report
        assert unit.sector.name == (
            "Bostadsbolag" if unit.kind == UnitKind.HOUSING else "Civilsamhälle"
        )
    assert units.filter(kind=UnitKind.MUNICIPAL, duty_to_report=True).count() >= 15
    assert units.filter(headcount__gt=0).count() == units.count()
    assert units.filter(works_universal=True).exists()
    assert units.filter(works_selective=True).exists()
    assert units.filter(works_indicated=True).exists()
    # Created through the services, so every unit is in the audit trail.
    assert AuditEvent.objects.filter(action="unit.created", municipality=demo).count() == (
        units.count()
    )


def test_demo_logins_have_their_roles(debug: None) -> None:
    seed()

    demo = Municipality.objects.get(slug="demo")
    assert MunicipalRole.objects.get(user__email=COORDINATOR).role == Role.COORDINATOR
    assert MunicipalRole.objects.get(user__email=OBSERVER).role == Role.OBSERVER
    assert MunicipalRole.objects.get(user__email=COORDINATOR).municipality == demo
    assert not MunicipalRole.objects.filter(user__email=MANAGER).exists()
    managed = UnitManager.objects.filter(user__email=MANAGER)
    assert managed.count() == 2
    assert {membership.unit.municipality for membership in managed} == {demo}
    for email in (COORDINATOR, MANAGER, OBSERVER):
        assert EmailAddress.objects.filter(email=email, verified=True, primary=True).exists()


def test_coordinator_has_mfa_and_the_printed_secret_works(debug: None) -> None:
    output = seed()

    coordinator = User.objects.get(email=COORDINATOR)
    secret = printed("TOTP-hemlighet", output)
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    totp = Authenticator.objects.get(user=coordinator, type=Authenticator.Type.TOTP)
    assert TOTP(totp).validate_code(code)
    assert f"otpauth://totp/samordnare%40demo.example?secret={secret}" in output
    recovery = Authenticator.objects.get(user=coordinator, type=Authenticator.Type.RECOVERY_CODES)
    codes = output.split("Reservkoder (samordnare): ")[1].split("\n")[0].split()
    assert len(codes) == 3
    assert set(codes) <= set(RecoveryCodes(recovery).get_unused_codes())


def test_demo_users_can_log_in_with_the_printed_password(debug: None) -> None:
    output = seed()
    password = printed("lösenord", output)

    for email in (COORDINATOR, MANAGER, OBSERVER):
        response = Client().post("/accounts/login/", {"login": email, "password": password})

        assert response.status_code == 302, email
        if email == COORDINATOR:
            assert "/accounts/2fa/authenticate/" in response["Location"]
        else:
            assert "/accounts/" not in response["Location"]


def counts() -> dict[str, int]:
    models: tuple[type[Model], ...] = (
        Municipality,
        Sector,
        Unit,
        User,
        EmailAddress,
        MunicipalRole,
        UnitManager,
        AuditEvent,
        Authenticator,
        Rollout,
        StepState,
        TimelineEvent,
        WebCourseReport,
    )
    return {model.__name__: model._default_manager.count() for model in models}


def test_running_twice_creates_nothing_new(debug: None) -> None:
    first = seed()
    before = counts()
    names = set(Unit.objects.values_list("name", flat=True))

    second = seed()

    assert counts() == before
    assert set(Unit.objects.values_list("name", flat=True)) == names
    assert printed("TOTP-hemlighet", second) == printed("TOTP-hemlighet", first)
    assert "(0 nya)" in second


def test_units_come_from_the_seed_alone(debug: None) -> None:
    seed("--seed", "7")

    random.seed(1)
    planned = {fields["name"]: (sector, fields) for sector, fields in demo_units(7)}
    random.seed(2)
    assert list(demo_units(7)) == [(sector, fields) for sector, fields in planned.values()]
    assert list(demo_units(7)) != list(demo_units(8))
    stored = Unit.objects.filter(municipality__slug="demo").select_related("sector")
    assert {unit.name for unit in stored} == set(planned)
    for unit in stored:
        sector, fields = planned[unit.name]
        assert unit.sector.name == sector
        assert {field: getattr(unit, field) for field in fields} == fields


def test_scale_mode_adds_municipalities_with_units(debug: None) -> None:
    seed("--municipalities", "3", "--units", "50")

    bulk = Municipality.objects.exclude(slug="demo")
    assert sorted(bulk.values_list("slug", "name")) == [
        ("kommun-001", "Kommun 001"),
        ("kommun-002", "Kommun 002"),
        ("kommun-003", "Kommun 003"),
    ]
    assert Unit.objects.filter(municipality__in=bulk).count() == 50
    for municipality in bulk:
        assert set(municipality.sectors.values_list("name", flat=True)) == set(DEFAULT_SECTORS)
        assert municipality.units.exists()
    housing = Unit.objects.filter(municipality__in=bulk, sector__name="Bostadsbolag")
    assert not housing.exclude(kind=UnitKind.HOUSING, duty_to_report=False).exists()

    before = counts()
    names = set(Unit.objects.values_list("name", flat=True))
    seed("--municipalities", "3", "--units", "50")

    assert counts() == before
    assert set(Unit.objects.values_list("name", flat=True)) == names


def test_units_are_spread_unevenly_like_real_municipalities() -> None:
    shares = sorted(spread(100_000, 290, seeded_random(1)))

    assert sum(shares) == 100_000
    assert shares[0] >= 1
    assert shares[-1] > 10 * shares[len(shares) // 2]
    assert spread(100_000, 290, seeded_random(1)) == spread(100_000, 290, seeded_random(1))


# --- Rollouts ---------------------------------------------------------------------------------

STATUS_ORDER = re.compile(r"^(done )*(in_progress )?(not_started )*$")


def current_step(rollout: Rollout) -> int | None:
    return (
        rollout.steps.exclude(status=StepStatus.DONE)
        .order_by("step")
        .values_list("step", flat=True)
        .first()
    )


def stage(unit: Unit) -> str:
    """Where a unit stands: "none", a rollout status, or "step N" for an active rollout."""
    rollout = unit.rollouts.order_by("-round").first()
    if rollout is None:
        return "none"
    if rollout.status == RolloutStatus.ACTIVE:
        return f"step {current_step(rollout)}"
    return rollout.status


def assert_engine_invariants(rollouts: QuerySet[Rollout]) -> None:
    """What the engine guarantees: a started rollout has its four steps, done ones first, at most
    one under way (the seed never starts a step early), later ones not started, in time order."""
    assert rollouts.exists()
    for rollout in rollouts.prefetch_related("steps"):
        steps = sorted(rollout.steps.all(), key=lambda state: state.step)
        if rollout.started_at is None:  # a request nobody has answered yet
            assert rollout.status == RolloutStatus.REQUESTED
            assert steps == []
            continue
        assert [state.step for state in steps] == Step.values, rollout
        statuses = "".join(f"{state.status} " for state in steps)
        assert STATUS_ORDER.match(statuses), (rollout, statuses)
        if rollout.status == RolloutStatus.COMPLETED:
            assert statuses == "done " * 4
            assert rollout.completed_at == steps[-1].completed_at
        else:
            assert rollout.status in OPEN_STATUSES
            assert statuses.count("in_progress") == 1, (rollout, statuses)
            assert rollout.completed_at is None
        previous = rollout.started_at
        for state in steps:
            assert (state.started_at is not None) == (state.status != StepStatus.NOT_STARTED)
            assert (state.completed_at is not None) == (state.status == StepStatus.DONE)
            if state.started_at is not None:
                assert previous <= state.started_at
                previous = state.started_at
            if state.completed_at is not None:
                assert state.started_at is not None
                assert state.started_at <= state.completed_at
                previous = state.completed_at
    open_twice = (
        Rollout.objects.filter(status__in=OPEN_STATUSES)
        .values("unit")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not open_twice.exists()


def test_demo_units_have_a_spread_of_rollout_states(debug: None) -> None:
    output = seed()

    demo = Municipality.objects.get(slug="demo")
    units = list(demo.units.all())
    stages = Counter(stage(unit) for unit in units)
    assert len(units) * 0.15 <= stages["none"] <= len(units) * 0.35
    assert stage(demo.units.get(name="Solrosens förskola")) == "none"
    assert stages["step 1"] >= 5
    assert stages["step 2"] >= 1
    assert 1 <= stages[RolloutStatus.PAUSED] <= 2
    assert stages[RolloutStatus.REQUESTED] == 1
    # One whose six-month follow-up is due within days, one where it is overdue; one done.
    assert stages["step 4"] == 2
    assert stages[RolloutStatus.COMPLETED] == 1
    assert set(stages) == {
        "none",
        "step 1",
        "step 2",
        "step 4",
        RolloutStatus.PAUSED,
        RolloutStatus.REQUESTED,
        RolloutStatus.COMPLETED,
    }
    done = Rollout.objects.get(unit__municipality=demo, status=RolloutStatus.COMPLETED)
    assert all(f.share_lessons and f.lessons for f in done.follow_ups.all())
    assert demo.interventions.count() == 4

    kvarnskolan = Rollout.objects.get(unit__municipality=demo, unit__name="Kvarnskolan")
    assert kvarnskolan.status == RolloutStatus.ACTIVE
    assert current_step(kvarnskolan) == Step.WEB_COURSE
    reports = kvarnskolan.web_course_reports.all()
    assert len(reports) >= 1
    assert {report.reported_by.email for report in reports if report.reported_by} == {MANAGER}

    requested = Rollout.objects.get(unit__municipality=demo, status=RolloutStatus.REQUESTED)
    assert requested.unit.name not in ("Solrosens förskola", "Kvarnskolan")
    for paused in Rollout.objects.filter(unit__municipality=demo, status=RolloutStatus.PAUSED):
        assert paused.pause_reason
        assert paused.paused_at is not None

    # The printed summary agrees with the database.
    line = next(line for line in output.splitlines() if line.startswith("Införanden i Demo"))
    assert f"{stages['none']} utan införande" in line
    assert f"{stages['step 1']} i steg 1" in line
    assert f"{stages['step 2']} i steg 2" in line
    assert f"{stages[RolloutStatus.PAUSED]} pausade" in line
    assert "1 förfrågan" in line
    assert output.index("Demoinloggningar") < output.index(line)


def test_demo_rollouts_went_through_the_services(debug: None) -> None:
    seed()

    demo = Municipality.objects.get(slug="demo")
    rollouts = Rollout.objects.filter(unit__municipality=demo)
    assert_engine_invariants(rollouts)
    events = Counter(
        TimelineEvent.objects.filter(unit__municipality=demo).values_list("kind", flat=True)
    )
    started = rollouts.exclude(status=RolloutStatus.REQUESTED).count()
    completed_steps = StepState.objects.filter(rollout__in=rollouts, status=StepStatus.DONE).count()
    assert events["rollout.started"] == started
    assert events["rollout.requested"] == 1
    assert events["rollout.paused"] == rollouts.filter(status=RolloutStatus.PAUSED).count()
    assert events["step.completed"] == completed_steps >= 1
    # Completing step 1, 2 or 3 starts the next one; completing step 4 completes the rollout.
    done = rollouts.filter(status=RolloutStatus.COMPLETED).count()
    assert events["step.started"] == completed_steps - done
    assert events["rollout.completed"] == done == 1
    assert events["web_course.reported"] == WebCourseReport.objects.count() >= 5


def test_web_course_reports_look_real(debug: None) -> None:
    seed()

    today = timezone.localdate()
    reports = WebCourseReport.objects.select_related("rollout__unit")
    assert reports.exists()
    assert Counter(report.rollout_id for report in reports).most_common(1)[0][1] == 2
    for report in reports:
        report.full_clean()  # among others, the privacy guard on the reflections
        assert today - dt.timedelta(days=60) <= report.reported_on < today
        assert 1 <= report.knowledge_level <= 5
        assert report.headcount_at_report == report.rollout.unit.headcount
    for rollout in Rollout.objects.filter(web_course_reports__isnull=False).distinct():
        total = sum(report.completed_count for report in rollout.web_course_reports.all())
        assert 0 < total <= rollout.unit.headcount
    assert any(report.reflections for report in reports)


def test_demo_rollouts_follow_the_seed(debug: None) -> None:
    seed("--seed", "7")

    names = [fields["name"] for _, fields in demo_units(7)]
    plan = demo_rollout_plan(7, names)
    assert plan == demo_rollout_plan(7, names)
    assert plan != demo_rollout_plan(8, names)
    for unit in Unit.objects.filter(municipality__slug="demo"):
        planned = plan.get(unit.name)
        if planned is None:
            assert stage(unit) == "none"
            continue
        rollout = unit.rollouts.get()
        assert rollout.status == planned.status
        if rollout.status == RolloutStatus.COMPLETED:
            assert current_step(rollout) is None  # all four steps done
        elif rollout.started_at is not None:
            assert current_step(rollout) == planned.step
            assert rollout.web_course_reports.count() <= planned.reports


def test_units_with_any_rollout_are_left_alone(debug: None) -> None:
    seed()
    requested = Rollout.objects.get(status=RolloutStatus.REQUESTED)
    coordinator = User.objects.get(email=COORDINATOR)
    rollout_services.rollout_decline(actor=coordinator, rollout=requested, reason="Inte i år.")
    solrosen = Unit.objects.get(name="Solrosens förskola")
    rollout_services.rollout_start(actor=coordinator, unit=solrosen)
    before = counts()

    output = seed()

    assert counts() == before
    assert not Rollout.objects.filter(status=RolloutStatus.REQUESTED).exists()
    assert "(0 nya)" in output.split("Införanden i Demo kommun")[1]
    assert "1 avböjda" in output


def bulk_stages() -> dict[tuple[str, str], str]:
    """stage() of every bulk unit, in three queries rather than three per unit."""
    units = Unit.objects.exclude(municipality__slug="demo")
    current: dict[int, int] = {}
    for rollout_id, step in (
        StepState.objects.filter(rollout__unit__in=units)
        .exclude(status=StepStatus.DONE)
        .order_by("-step")
        .values_list("rollout_id", "step")
    ):
        current[rollout_id] = step
    latest: dict[int, str] = {}
    for unit_id, rollout_id, status in (
        Rollout.objects.filter(unit__in=units)
        .order_by("round")
        .values_list("unit_id", "pk", "status")
    ):
        active = status == RolloutStatus.ACTIVE
        latest[unit_id] = f"step {current[rollout_id]}" if active else status
    return {
        (slug, name): latest.get(pk, "none")
        for pk, slug, name in units.values_list("pk", "municipality__slug", "name")
    }


def test_scale_mode_adds_rollouts_spread_over_the_steps(debug: None) -> None:
    output = seed("--municipalities", "4", "--units", "1000")

    bulk_units = Unit.objects.exclude(municipality__slug="demo")
    bulk = Rollout.objects.filter(unit__in=bulk_units)
    stages = Counter(bulk_stages().values())
    expected = {
        "none": 20,
        "step 1": 30,
        "step 2": 20,
        "step 3": 15,
        "step 4": 10,
        RolloutStatus.COMPLETED: 5,
    }
    assert set(stages) == set(expected)
    for key, percent in expected.items():
        assert abs(stages[key] / 10 - percent) <= 4, (key, stages)
    assert set(bulk.values_list("status", flat=True)) == {"active", "completed"}
    assert set(bulk.values_list("round", flat=True)) == {1}
    assert_engine_invariants(bulk)
    # Bulk data skips the timeline (documented in the command).
    assert not TimelineEvent.objects.filter(unit__in=bulk_units).exists()
    assert f"{bulk.count()} nya införanden" in output
    assert f"{stages['step 3']} i steg 3" in output
    assert f"{stages['none']} enheter utan införande" in output
    # Dates lie in the past, spread over months.
    now = timezone.now()
    started = sorted(at for at in bulk.values_list("started_at", flat=True) if at is not None)
    assert len(started) == bulk.count()
    assert started[-1] <= now
    assert now - started[0] > dt.timedelta(days=365)

    before, planned = counts(), bulk_stages()
    second = seed("--municipalities", "4", "--units", "1000")

    assert counts() == before
    assert bulk_stages() == planned
    assert "0 nya införanden" in second


def test_scale_mode_rollouts_come_from_the_seed_alone(debug: None) -> None:
    seed("--municipalities", "2", "--units", "300")
    planned = bulk_stages()
    Rollout.objects.filter(unit__municipality__slug__startswith="kommun-").delete()

    seed("--municipalities", "2", "--units", "300")

    assert bulk_stages() == planned
    Rollout.objects.filter(unit__municipality__slug__startswith="kommun-").delete()
    # Another seed also adds other units; the same units now stand elsewhere.
    seed("--municipalities", "2", "--units", "300", "--seed", "2")
    reseeded = bulk_stages()
    assert {key: reseeded[key] for key in planned} != planned
