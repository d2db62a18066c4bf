import io
import random
import re
import time
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Model
from django.test import Client

from units.management.commands.seed_demo import demo_units, seeded_random, spread
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
