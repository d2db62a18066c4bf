"""The bench's Django side on a small data set: seed_demo's --prefix series, the users and
sessions the scenarios use (coordinators must get past the MFA requirement), and the in-process
probe that counts queries and fetches the CSRF token for the POST scenario. No timings."""

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from jarfalla.bench import scenarios
from jarfalla.bench.world import PERSONAS, prepare, probe
from rollout.models import Rollout, RolloutStatus
from training.models import WebCourseReport
from units.models import Municipality, MunicipalRole, Role, Unit, UnitManager

HOST = "127.0.0.1"


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--force", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def bench_data(db: None) -> None:
    for prefix, units in (
        (scenarios.BIG_PREFIX, 40),
        (scenarios.SMALL_PREFIX, 6),
        (scenarios.REPORT_PREFIX, 5),
    ):
        seed("--municipalities", "1", "--units", str(units), "--prefix", prefix)


def test_prefix_makes_its_own_series_of_exact_size(db: None) -> None:
    seed("--municipalities", "1", "--units", "40", "--prefix", "Storstad")
    seed("--municipalities", "2", "--units", "30")

    storstad = Municipality.objects.get(slug="storstad-001")
    assert storstad.name == "Storstad 001"
    assert Unit.objects.filter(municipality=storstad).count() == 40
    # The default series is untouched by the other prefix.
    assert set(
        Municipality.objects.filter(slug__startswith="kommun-").values_list("name", flat=True)
    ) == {
        "Kommun 001",
        "Kommun 002",
    }
    assert Unit.objects.filter(municipality__slug__startswith="kommun-").count() == 30

    before = Unit.objects.count(), Rollout.objects.count()
    seed("--municipalities", "1", "--units", "40", "--prefix", "Storstad")
    assert (Unit.objects.count(), Rollout.objects.count()) == before


def test_prefix_must_have_letters_or_digits(db: None) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--prefix"):
        seed("--municipalities", "1", "--units", "5", "--prefix", " -- ")


def test_world_has_the_users_the_scenarios_need(bench_data: None) -> None:
    world = prepare()

    big = Municipality.objects.get(pk=world.municipality)
    assert big.slug == "storstad-001"
    assert MunicipalRole.objects.get(user__email=PERSONAS["coordinator"]).municipality == big
    assert (
        MunicipalRole.objects.get(user__email=PERSONAS["small_coordinator"]).municipality_id
        == world.small_municipality
    )
    assert MunicipalRole.objects.get(user__email=PERSONAS["coordinator"]).role == Role.COORDINATOR
    assert UnitManager.objects.get(user__email=PERSONAS["manager"]).unit_id == world.manager_unit
    assert set(world.sessions) == set(PERSONAS)
    manager_rollout = Rollout.objects.get(unit_id=world.manager_unit)
    assert manager_rollout.status == RolloutStatus.ACTIVE
    # The workspace unit went through the services: it has a history to show.
    assert Unit.objects.get(pk=world.workspace_unit).timeline.count() >= 5

    # Running it again (--reuse-data) finds the same units instead of making new ones.
    again = prepare()
    assert (again.workspace_unit, again.manager_unit) == (world.workspace_unit, world.manager_unit)


def test_sessions_pass_the_mfa_requirement(bench_data: None) -> None:
    world = prepare()

    for persona in ("coordinator", "superuser"):
        found = probe(f"/units/{world.workspace_unit}/", session=world.sessions[persona], host=HOST)
        assert found.status == 200, persona
        assert found.queries > 0
    anonymous = probe(f"/units/{world.workspace_unit}/", session=None, host=HOST)
    assert anonymous.status == 302


def test_post_probe_sends_the_form_with_its_csrf_token(bench_data: None) -> None:
    world = prepare()
    step1 = next(s for s in scenarios.HTTP_SCENARIOS if s.name == "step1_post")
    values = world.placeholders()
    form = {key: value.format(**values) for key, value in step1.form}
    reports = WebCourseReport.objects.filter(rollout__unit_id=world.manager_unit).count()

    found = probe(
        step1.path.format(**values),
        session=world.sessions["manager"],
        host=HOST,
        method="POST",
        form=form,
    )

    assert found.status in step1.expect, found.error
    assert found.csrf_cookie
    assert found.csrf_token
    # A warm-up post and the counted one: both saved a report.
    assert (
        WebCourseReport.objects.filter(rollout__unit_id=world.manager_unit).count() == reports + 2
    )


@pytest.mark.urls("tests.bench.urls")
def test_baseline_goes_through_the_middleware_without_touching_the_database(
    db: None, client: Any, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(0):
        response = client.get("/bench/baseline/")

    assert response.status_code == 200
    assert response.content == b"ok"
    # Same middleware as every page: the security headers are there, no session cookie is set.
    assert response["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in response
    assert "sessionid" not in response.cookies


def test_baseline_url_exists_only_for_the_bench() -> None:
    # BENCH is off in the test settings, so jarfalla/urls.py does not mount it.
    with pytest.raises(NoReverseMatch):
        reverse("bench:baseline")
