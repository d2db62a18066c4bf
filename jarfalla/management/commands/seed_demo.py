"""Demo data for `make run` and bulk data for benchmarks (DESIGN.md section 6).

Deterministic (every random choice comes from ``random.Random`` seeded with ``--seed``) and
idempotent (everything is looked up by its natural key before it is created, and a unit that
already has a rollout, of any round or status, is left alone).

The command lives in the project package rather than in an app because it writes through the
services of every app (units, rollout, training), which no single app may import (DESIGN.md 3).
"""

import base64
import datetime as dt
import hashlib
import itertools
import random
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from allauth.mfa.utils import decrypt
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.text import slugify

from followup import followups
from followup.models import FollowUp, SupportNeed, Usage
from rollout import interventions as intervention_services
from rollout import services as rollout_services
from rollout.engine import add_months
from rollout.models import Rollout, RolloutStatus, Step, StepState, StepStatus
from routines import services as routine_services
from training import services as training_services
from training.models import CourseMode
from units import services
from units.models import Municipality, Role, Sector, Unit, UnitKind, User

DEMO_SLUG = "demo"
DEMO_NAME = "Demo kommun"
# Printed for everyone to see: these logins exist only where DEBUG is on or --force was given.
DEMO_PASSWORD = "demo-Heder-2026!"  # noqa: S105
COORDINATOR_EMAIL = "samordnare@demo.example"
MANAGER_EMAIL = "chef@demo.example"
OBSERVER_EMAIL = "fou@demo.example"
# The acceptance walk-through starts a rollout for the first and follows progress in the second.
NO_ROLLOUT_UNIT = "Solrosens förskola"
IN_PROGRESS_UNIT = "Kvarnskolan"
MANAGED_UNITS = (NO_ROLLOUT_UNIT, IN_PROGRESS_UNIT)
BATCH_SIZE = 5_000
# Bulk municipalities are "Kommun 001", "Kommun 002", … unless --prefix names another series.
BULK_PREFIX = "Kommun"


@dataclass(frozen=True)
class SectorProfile:
    """How units of a sector typically look: staff size, prevention levels and names."""

    headcount: tuple[int, int]
    # Chance that a unit works at the universal, selective and indicated level.
    levels: tuple[float, float, float]
    # The first name is always in the demo; the seed picks `extra` more of the rest.
    demo_names: tuple[str, ...]
    extra: tuple[int, int]
    # Bulk data: name pattern and how common the sector is among a municipality's units.
    pattern: str
    weight: int


PROFILES: dict[str, SectorProfile] = {
    "Förskola": SectorProfile(
        (8, 24),
        (0.9, 0.15, 0.0),
        (
            "Solrosens förskola",
            "Förskolan Blåklockan",
            "Ekorrens förskola",
            "Förskolan Tallbacken",
            "Lärkans förskola",
            "Förskolan Regnbågen",
            "Björkhagens förskola",
            "Förskolan Myran",
        ),
        (4, 6),
        "Förskolan {stem}",
        25,
    ),
    "Grundskola": SectorProfile(
        (35, 95),
        (0.95, 0.35, 0.1),
        (
            "Kvarnskolan",
            "Ängsskolan",
            "Bergaskolan",
            "Sjöviksskolan",
            "Lindskolan",
            "Kyrkbyskolan",
            "Backeskolan",
        ),
        (3, 5),
        "{stem}s skola",
        20,
    ),
    "Gymnasieskola": SectorProfile(
        (60, 150),
        (0.9, 0.4, 0.15),
        ("Kvarnbygymnasiet", "Tekniska gymnasiet"),
        (0, 1),
        "Gymnasiet {stem}",
        4,
    ),
    "Elevhälsa": SectorProfile(
        (6, 22),
        (0.6, 0.7, 0.6),
        ("Ungdomsmottagningen", "Elevhälsan grundskola", "Elevhälsan gymnasiet"),
        (1, 2),
        "Elevhälsan {stem}",
        5,
    ),
    "Socialtjänst": SectorProfile(
        (18, 70),
        (0.1, 0.6, 0.95),
        (
            "Socialtjänsten barn och unga",
            "Mottagningsgruppen",
            "Vuxenenheten",
            "Familjerätten",
        ),
        (1, 2),
        "Socialtjänsten {stem}",
        8,
    ),
    "Familjestöd": SectorProfile(
        (5, 16),
        (0.5, 0.8, 0.4),
        ("Familjecentralen Solgläntan", "Föräldrastödet", "Familjebehandlingen"),
        (0, 1),
        "Familjecentralen {stem}",
        5,
    ),
    "Fritidsgård": SectorProfile(
        (3, 10),
        (0.8, 0.6, 0.1),
        ("Fritidsgården Tornet", "Fritidsgården Ekan", "Ungdomens hus", "Fritidsgården Kvarnen"),
        (1, 2),
        "Fritidsgården {stem}",
        6,
    ),
    "Integration": SectorProfile(
        (4, 12),
        (0.5, 0.8, 0.2),
        ("Integrationscoacherna", "Mottagningsenheten för nyanlända", "Samhällsorienteringen"),
        (0, 1),
        "Integrationsenheten {stem}",
        4,
    ),
    "Trygghetsvärdar": SectorProfile(
        (5, 16),
        (0.7, 0.5, 0.1),
        ("Trygghetsvärdarna", "Fältassistenterna"),
        (0, 1),
        "Trygghetsvärdarna {stem}",
        3,
    ),
    "Bostadsbolag": SectorProfile(
        (25, 140),
        (0.6, 0.1, 0.0),
        (
            "Stiftelsen Järfällahus",
            "Bostadsbolaget Ängshem",
            "Fastighets AB Tallen",
            "Hyresbostäder i Kvarnby",
        ),
        (1, 2),
        "Bostadsbolaget {stem}",
        5,
    ),
    "Civilsamhälle": SectorProfile(
        (1, 12),
        (0.7, 0.4, 0.05),
        (
            "Somaliska föräldraföreningen",
            "Kurdiska kulturföreningen",
            "Arabiska kvinnoföreningen",
            "Kvinnojouren Ängen",
            "Nattvandrarna",
            "Kvarnby IF",
            "Kvarnby församling",
            "Föräldranätverket Trygg skolväg",
        ),
        (3, 5),
        "Föreningen {stem}",
        15,
    ),
}

# The youth clinic is run by the region, yet its health-care staff must report concern too.
KIND_OVERRIDES: dict[str, tuple[str, bool]] = {"Ungdomsmottagningen": (UnitKind.OTHER, True)}

STEMS = (
    "Björken",
    "Eken",
    "Linden",
    "Tallen",
    "Granen",
    "Rönnen",
    "Solen",
    "Kvarnen",
    "Ängen",
    "Berget",
    "Sjön",
    "Lärkan",
    "Myran",
    "Hagen",
    "Viken",
    "Bäcken",
    "Ugglan",
    "Stjärnan",
    "Regnbågen",
    "Fyren",
)


def sector_kind(sector: str) -> str:
    if sector == "Bostadsbolag":
        return UnitKind.HOUSING
    if sector == "Civilsamhälle":
        return UnitKind.ASSOCIATION
    return UnitKind.MUNICIPAL


def unit_fields(rng: random.Random, name: str, sector: str) -> dict[str, Any]:
    """Every field of a unit except its municipality and sector."""
    profile = PROFILES[sector]
    kind = sector_kind(sector)
    kind, duty_to_report = KIND_OVERRIDES.get(name, (kind, Unit.default_duty_to_report(kind)))
    universal, selective, indicated = (rng.random() < chance for chance in profile.levels)
    return {
        "name": name,
        "kind": kind,
        "duty_to_report": duty_to_report,
        "headcount": rng.randint(*profile.headcount),
        "works_universal": universal,
        "works_selective": selective,
        "works_indicated": indicated,
        "functional_email": f"{slugify(name)}@demo.example",
    }


def seeded_random(seed: int | str) -> random.Random:
    """Demo data must repeat, so never the global generator and never secrets."""
    return random.Random(seed)  # noqa: S311


def demo_units(seed: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """(sector name, unit fields) of the demo municipality: 25-39 units over every sector."""
    rng = seeded_random(seed)
    for sector, profile in PROFILES.items():
        anchor, *others = profile.demo_names
        names = [anchor, *rng.sample(others, rng.randint(*profile.extra))]
        for name in names:
            yield sector, unit_fields(rng, name, sector)


def spread(total: int, parts: int, rng: random.Random) -> list[int]:
    """Split `total` over `parts` unevenly: a few big municipalities, many small ones."""
    if parts == 0:
        return []
    # Swedish municipal populations are roughly log-normal (median ~16,000, mean ~36,000).
    weights = [rng.lognormvariate(0.0, 1.2) for _ in range(parts)]
    floor = 1 if total >= parts else 0
    scale = (total - floor * parts) / sum(weights)
    shares = [weight * scale for weight in weights]
    counts = [floor + int(share) for share in shares]
    by_remainder = sorted(range(parts), key=lambda i: shares[i] - int(shares[i]), reverse=True)
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


# --- Rollouts in the demo municipality --------------------------------------------------------

# Free text as units write it: wishes for step 2, never anything about an individual.
REFLECTIONS = (
    "Vi vill gärna ha mer om tecken hos yngre barn.",
    "Många undrar hur vi pratar med vårdnadshavare utan att situationen blir värre.",
    "Önskar konkreta exempel på när det är dags att göra en orosanmälan.",
    "Bra diskussioner i arbetslaget; vi vill öva på samtal i steg 2.",
    "Vi behöver veta vilka vi kan samverka med i kommunen och hur man når dem.",
    "Svårt att hinna med kursen för personal som arbetar kvällar och helger.",
    "",
)
PAUSE_REASONS = (
    "Enheten byter chef; arbetet tas upp igen efter sommaren.",
    "Verksamheten flyttar till nya lokaler under hösten.",
    "Stor personalomsättning just nu; vi väntar tills arbetslaget är på plats.",
)


@dataclass(frozen=True)
class PlannedRollout:
    """What the seed does for one demo unit: request a rollout, or start one, report `reports`
    times on the web course, complete step 1 when `step` is 2, and pause it when `status` says so.
    A unit that is not in the plan gets no rollout."""

    status: str  # RolloutStatus.REQUESTED, ACTIVE, PAUSED or COMPLETED
    step: int = Step.WEB_COURSE
    reports: int = 0
    # For step 4: how many months ago the routine was implemented (its follow-ups count from it).
    implemented_months_ago: int = 6


def demo_rollout_plan(seed: int, names: Sequence[str]) -> dict[str, PlannedRollout]:
    """A realistic spread over the demo units (given in seed order): about a quarter without a
    rollout, one request, one or two paused, a fifth in step 2 and the rest in step 1."""
    rng = seeded_random(f"{seed}-rollouts")
    plan: dict[str, PlannedRollout] = {}
    if IN_PROGRESS_UNIT in names:
        plan[IN_PROGRESS_UNIT] = PlannedRollout(RolloutStatus.ACTIVE, Step.WEB_COURSE, 1)
    others = [name for name in names if name not in MANAGED_UNITS]
    rng.shuffle(others)
    without = round(len(names) / 4) - (NO_ROLLOUT_UNIT in names)
    paused = 2 if len(names) >= 20 else 1
    in_step_2 = round(len(names) / 5)
    del others[: max(without, 0)]
    if others:
        plan[others.pop()] = PlannedRollout(RolloutStatus.REQUESTED)
    for _ in range(min(paused, len(others))):
        step = rng.choice((Step.WEB_COURSE, Step.TRAINING))
        reports = rng.randint(0 if step == Step.WEB_COURSE else 1, 2)
        plan[others.pop()] = PlannedRollout(RolloutStatus.PAUSED, step, reports)
    if others:
        # Routine implemented almost six months ago: its first follow-up is due within days,
        # so the coordinator's digest has something to say right after `make run`.
        plan[others.pop()] = PlannedRollout(RolloutStatus.ACTIVE, Step.FOLLOW_UP, 2)
    if others:
        # Implemented seven months ago and not followed up: overdue on the dashboard.
        plan[others.pop()] = PlannedRollout(
            RolloutStatus.ACTIVE, Step.FOLLOW_UP, 2, implemented_months_ago=7
        )
    if others:
        # All four steps done, with lessons shared: a certificate and the board report's lessons.
        plan[others.pop()] = PlannedRollout(
            RolloutStatus.COMPLETED, Step.FOLLOW_UP, 2, implemented_months_ago=13
        )
    for _ in range(min(in_step_2, len(others))):
        plan[others.pop()] = PlannedRollout(RolloutStatus.ACTIVE, Step.TRAINING, rng.randint(1, 2))
    for name in others:
        plan[name] = PlannedRollout(RolloutStatus.ACTIVE, Step.WEB_COURSE, rng.randint(0, 2))
    return plan


def rollout_stages(units: Iterable[Unit]) -> Counter[str]:
    """How many of `units` stand where, judged by each unit's latest rollout: "none",
    "requested", "paused", "completed", "declined", or the current step ("1"…"4") of an active
    rollout (its lowest step that is not done)."""
    unit_ids = [unit.pk for unit in units]
    latest: dict[int, tuple[int, str]] = {}
    for unit_id, rollout_id, status in (
        Rollout.objects.filter(unit_id__in=unit_ids)
        .order_by("unit_id", "round")
        .values_list("unit_id", "pk", "status")
    ):
        latest[unit_id] = (rollout_id, status)
    current: dict[int, int] = {}
    for rollout_id, step in (
        StepState.objects.filter(rollout_id__in=[pk for pk, _ in latest.values()])
        .exclude(status=StepStatus.DONE)
        .order_by("-step")
        .values_list("rollout_id", "step")
    ):
        current[rollout_id] = step
    stages: Counter[str] = Counter()
    for unit_id in unit_ids:
        if unit_id not in latest:
            stages["none"] += 1
            continue
        rollout_id, status = latest[unit_id]
        active = status == RolloutStatus.ACTIVE and rollout_id in current
        stages[str(current[rollout_id]) if active else status] += 1
    return stages


STAGE_LABELS = (
    ("none", "utan införande"),
    (RolloutStatus.REQUESTED, "förfrågan"),
    ("1", "i steg 1"),
    ("2", "i steg 2"),
    ("3", "i steg 3"),
    ("4", "i steg 4"),
    (RolloutStatus.PAUSED, "pausade"),
    (RolloutStatus.COMPLETED, "klara"),
    (RolloutStatus.DECLINED, "avböjda"),
)


def describe_stages(stages: Counter[str]) -> str:
    return ", ".join(f"{stages[key]} {label}" for key, label in STAGE_LABELS if stages[key])


# --- Rollouts in the bulk data ----------------------------------------------------------------

# Share (in %) of bulk units at each stage: no rollout, current step 1…4, all four steps done.
BULK_NO_ROLLOUT, BULK_COMPLETED = 0, 5
BULK_STAGES = (BULK_NO_ROLLOUT, 1, 2, 3, 4, BULK_COMPLETED)
BULK_CUM_WEIGHTS = tuple(itertools.accumulate((20, 30, 20, 15, 10, 5)))
# How many days a step typically takes; step 4 spans the 6- and 12-month follow-ups.
STEP_DAYS = {1: (30, 120), 2: (20, 90), 3: (30, 150), 4: (190, 400)}


def bulk_rollout(
    rng: random.Random, unit_id: int, now: dt.datetime
) -> tuple[int, Rollout | None, list[StepState]]:
    """(stage, unsaved rollout, its four unsaved step states) for one bulk unit.

    The states are what the engine would have left: the steps before the current one done, the
    current one in progress, the later ones not started; all four done for a completed rollout.
    Dates go back from `now` by typical step lengths."""
    stage = rng.choices(BULK_STAGES, cum_weights=BULK_CUM_WEIGHTS)[0]
    if stage == BULK_NO_ROLLOUT:
        return stage, None, []
    done = 4 if stage == BULK_COMPLETED else stage - 1
    lengths = [dt.timedelta(days=rng.randint(*STEP_DAYS[step])) for step in range(1, done + 1)]
    if stage == BULK_COMPLETED:
        tail = dt.timedelta(days=rng.randint(1, 365))
    else:
        tail = dt.timedelta(days=rng.randint(0, STEP_DAYS[stage][1]), hours=rng.randint(1, 23))
    started = now - sum(lengths, dt.timedelta()) - tail
    rollout = Rollout(
        unit_id=unit_id,
        round=1,
        status=RolloutStatus.COMPLETED if stage == BULK_COMPLETED else RolloutStatus.ACTIVE,
        started_at=started,
    )
    states = []
    at = started
    for step in Step.values:
        if step <= done:
            end = at + lengths[step - 1]
            states.append(
                StepState(
                    rollout=rollout,
                    step=step,
                    status=StepStatus.DONE,
                    started_at=at,
                    completed_at=end,
                )
            )
            at = end
        elif step == stage:
            states.append(
                StepState(rollout=rollout, step=step, status=StepStatus.IN_PROGRESS, started_at=at)
            )
        else:
            states.append(StepState(rollout=rollout, step=step, status=StepStatus.NOT_STARTED))
    if stage == BULK_COMPLETED:
        rollout.completed_at = at
    return stage, rollout, states


class Command(BaseCommand):
    help = (
        "Skapar demodata: Demo kommun med enheter och tre demoinloggningar. Med --municipalities "
        "och --units dessutom massdata för belastningstester. Samma frö ger samma data och en "
        "andra körning skapar inget nytt."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--municipalities",
            type=int,
            default=0,
            help="Antal extra kommuner (Kommun 001, Kommun 002, …) för belastningstester.",
        )
        parser.add_argument(
            "--units",
            type=int,
            default=0,
            help="Totalt antal enheter att fördela över de extra kommunerna (minst en kommun).",
        )
        parser.add_argument(
            "--prefix",
            default=BULK_PREFIX,
            help=(
                "Namn på de extra kommunerna (standard: Kommun, alltså Kommun 001, …). Ett annat "
                "namn ger en egen serie, t.ex. --municipalities 1 --units 2000 --prefix Storstad "
                "för en kommun med exakt 2 000 enheter bredvid den nationella mängden."
            ),
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="Slumpfrö; samma frö ger samma data."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Kör även när DEBUG är avstängt (demoinloggningarna har kända lösenord).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo skapar inloggningar med kända lösenord och körs bara med DEBUG=1 "
                "(eller --force)."
            )
        municipalities, units, seed = options["municipalities"], options["units"], options["seed"]
        if municipalities < 0 or units < 0:
            raise CommandError("--municipalities och --units kan inte vara negativa.")
        prefix = options["prefix"].strip()
        if not slugify(prefix):
            raise CommandError("--prefix måste innehålla bokstäver eller siffror.")

        self.seed_demo(seed)
        if municipalities or units:
            self.seed_bulk(max(municipalities, 1), units, seed, prefix=prefix)

    # --- The demo municipality ----------------------------------------------------------------

    @transaction.atomic
    def seed_demo(self, seed: int) -> None:
        coordinator = demo_user(COORDINATOR_EMAIL, "Leila", "Berg")
        manager = demo_user(MANAGER_EMAIL, "Johan", "Lind")
        observer = demo_user(OBSERVER_EMAIL, "Maria", "Ek")

        municipality = Municipality.objects.filter(slug=DEMO_SLUG).first()
        if municipality is None:
            municipality = services.municipality_create(
                actor=None, name=DEMO_NAME, slug=DEMO_SLUG, model_name="Järfällamodellen"
            )
        services.municipal_role_set(
            actor=None, municipality=municipality, user=coordinator, role=Role.COORDINATOR
        )
        services.municipal_role_set(
            actor=None, municipality=municipality, user=observer, role=Role.OBSERVER
        )

        sectors = {sector.name: sector for sector in municipality.sectors.all()}
        existing = {name.lower() for name in municipality.units.values_list("name", flat=True)}
        created = 0
        for sector_name, fields in demo_units(seed):
            if fields["name"].lower() in existing:
                continue
            if sector_name not in sectors:
                sectors[sector_name] = services.sector_create(
                    actor=coordinator, municipality=municipality, name=sector_name
                )
            services.unit_create(
                actor=coordinator,
                municipality=municipality,
                sector=sectors[sector_name],
                **fields,
            )
            created += 1

        for unit in municipality.units.filter(name__in=MANAGED_UNITS):
            services.manager_add(actor=coordinator, unit=unit, user=manager)

        started = self.seed_demo_rollouts(seed, municipality, coordinator, manager)
        seed_interventions(municipality, coordinator)
        stages = rollout_stages(municipality.units.filter(is_active=True))

        secret, recovery_codes = ensure_mfa(coordinator, seed)
        totp_url = get_mfa_adapter().build_totp_url(coordinator, secret)
        self.stdout.write(
            f"{DEMO_NAME}: {municipality.units.count()} enheter ({created} nya).\n"
            "\n"
            f"Demoinloggningar på {settings.SITE_URL}\n"
            f"  Samordnare:  {COORDINATOR_EMAIL}  lösenord: {DEMO_PASSWORD}\n"
            f"  Enhetschef:  {MANAGER_EMAIL}  lösenord: {DEMO_PASSWORD}"
            f"  ({', '.join(MANAGED_UNITS)})\n"
            f"  Observatör:  {OBSERVER_EMAIL}  lösenord: {DEMO_PASSWORD}\n"
            f"  TOTP-hemlighet (samordnare): {secret}\n"
            f"  {totp_url}\n"
            f"  Reservkoder (samordnare): {' '.join(recovery_codes[:3])}\n"
            "  (Lösenordet sätts bara när kontot skapas.)\n"
            "\n"
            f"Införanden i {DEMO_NAME} ({started} nya): {describe_stages(stages)}."
        )

    def seed_demo_rollouts(
        self, seed: int, municipality: Municipality, coordinator: User, manager: User
    ) -> int:
        """Rollouts for the demo units, through the services so that the timelines tell the
        story. Units that already have a rollout (of any status) are skipped."""
        units = {unit.name: unit for unit in municipality.units.filter(is_active=True)}
        names = [fields["name"] for _, fields in demo_units(seed) if fields["name"] in units]
        has_rollout = set(
            Rollout.objects.filter(unit__in=units.values()).values_list("unit_id", flat=True)
        )
        plan = demo_rollout_plan(seed, names)
        started = 0
        for name in names:
            unit = units[name]
            if name not in plan or unit.pk in has_rollout:
                continue
            planned = plan[name]
            started += 1
            if planned.status == RolloutStatus.REQUESTED:
                # A manager's request; the demo manager leads other units, so the coordinator
                # stands in (the service takes any actor).
                rollout_services.rollout_request(actor=coordinator, unit=unit)
                continue
            rng = seeded_random(f"{seed}-{name}-rollout")
            rollout = rollout_services.rollout_start(actor=coordinator, unit=unit)
            reporter = manager if name in MANAGED_UNITS else coordinator
            report_web_course(rng, rollout, reporter, planned.reports)
            if planned.step >= Step.TRAINING:
                training_services.web_course_complete(
                    actor=coordinator, rollout=rollout, is_coordinator=True
                )
            if planned.step >= Step.FOLLOW_UP:
                implement_routine(rollout, coordinator, planned.implemented_months_ago)
            if planned.status == RolloutStatus.COMPLETED:
                hold_follow_ups(rng, rollout, coordinator)
            if planned.status == RolloutStatus.PAUSED:
                rollout_services.rollout_pause(
                    actor=coordinator, rollout=rollout, reason=rng.choice(PAUSE_REASONS)
                )
        return started

    # --- Bulk data for benchmarks -------------------------------------------------------------

    def seed_bulk(
        self, count: int, total_units: int, seed: int, *, prefix: str = BULK_PREFIX
    ) -> None:
        """Municipalities "Kommun 001"… (or "<prefix> 001"…) with `total_units` units between
        them.

        Bulk data for benchmarks: rows go in with bulk_create and without audit events, which
        would otherwise double the rows and take most of the time. Another prefix is another
        series (its own slugs, so its own units): one municipality of an exact size can sit
        next to the spread-out national set."""
        width = max(3, len(str(count)))
        numbers = [f"{n:0{width}}" for n in range(1, count + 1)]
        names = {f"{slugify(prefix)}-{number}": f"{prefix} {number}" for number in numbers}
        slugs = list(names)

        existing_slugs = set(
            Municipality.objects.filter(slug__in=slugs).values_list("slug", flat=True)
        )
        new_municipalities = (
            Municipality(name=names[slug], slug=slug)
            for slug in slugs
            if slug not in existing_slugs
        )
        created_municipalities = 0
        for batch in itertools.batched(new_municipalities, BATCH_SIZE):
            Municipality.objects.bulk_create(batch)
            created_municipalities += len(batch)
        ids = dict(Municipality.objects.filter(slug__in=slugs).values_list("slug", "pk"))

        sector_ids = self.ensure_default_sectors(list(ids.values()))

        counts = spread(total_units, count, seeded_random(f"{seed}-spread"))
        created_units = 0
        units = bulk_units(seed, [(slug, ids[slug]) for slug in slugs], counts, sector_ids)
        for unit_batch in itertools.batched(units, BATCH_SIZE):
            Unit.objects.bulk_create(unit_batch)
            created_units += len(unit_batch)

        stages = self.seed_bulk_rollouts(seed, ids)
        created_rollouts = stages.total() - stages["none"]

        self.stdout.write(
            f"Massdata: {created_municipalities} nya kommuner, {created_units} nya enheter och "
            f"{created_rollouts} nya införanden ({count} kommuner, {total_units} enheter begärda)."
        )
        if created_rollouts:
            without = stages.pop("none", 0)
            self.stdout.write(
                f"  Nya införanden: {describe_stages(stages)}; {without} enheter utan införande."
            )

    def seed_bulk_rollouts(self, seed: int, municipality_ids: dict[str, int]) -> Counter[str]:
        """One rollout with its four step states for about 80 % of the bulk units that have none.

        Like the units, these go in with bulk_create and without timeline events (the services
        would record several events per rollout and take most of the time); created_at and
        last_activity_at are therefore the time of the run. Each unit's stage and dates come
        from its own generator (seed, municipality, name), so they do not depend on the order or
        on an interrupted earlier run. Units are read in primary-key batches and each batch is
        written in one transaction: memory stays bounded and a rollout never lacks its steps."""
        slugs = {pk: slug for slug, pk in municipality_ids.items()}
        without_rollout = Unit.objects.filter(
            ~Exists(Rollout.objects.filter(unit=OuterRef("pk"))),
            municipality_id__in=list(slugs),
            is_active=True,
        ).order_by("pk")
        now = timezone.now()
        stages: Counter[str] = Counter()
        last_pk = 0
        while batch := list(
            without_rollout.filter(pk__gt=last_pk).values_list("pk", "name", "municipality_id")[
                :BATCH_SIZE
            ]
        ):
            last_pk = batch[-1][0]
            rollouts: list[Rollout] = []
            states: list[StepState] = []
            for unit_id, name, municipality_id in batch:
                rng = seeded_random(f"{seed}-{slugs[municipality_id]}-{name}-rollout")
                stage, rollout, steps = bulk_rollout(rng, unit_id, now)
                stages[BULK_STAGE_KEYS[stage]] += 1
                if rollout is not None:
                    rollouts.append(rollout)
                    states.extend(steps)
            with transaction.atomic():
                # Sets the primary keys, which the step states then pick up from their rollout.
                Rollout.objects.bulk_create(rollouts, batch_size=BATCH_SIZE)
                StepState.objects.bulk_create(states, batch_size=BATCH_SIZE)
        return stages

    def ensure_default_sectors(self, municipality_ids: list[int]) -> dict[tuple[int, str], int]:
        """The default sectors of every municipality: {(municipality id, name): sector id}."""
        existing = {
            (municipality_id, name.lower())
            for municipality_id, name in Sector.objects.filter(
                municipality_id__in=municipality_ids
            ).values_list("municipality_id", "name")
        }
        missing = (
            Sector(municipality_id=municipality_id, name=name)
            for municipality_id in municipality_ids
            for name in services.DEFAULT_SECTORS
            if (municipality_id, name.lower()) not in existing
        )
        for batch in itertools.batched(missing, BATCH_SIZE):
            Sector.objects.bulk_create(batch)
        return {
            (municipality_id, name): pk
            for municipality_id, name, pk in Sector.objects.filter(
                municipality_id__in=municipality_ids, name__in=services.DEFAULT_SECTORS
            ).values_list("municipality_id", "name", "pk")
        }


BULK_STAGE_KEYS = {
    BULK_NO_ROLLOUT: "none",
    1: "1",
    2: "2",
    3: "3",
    4: "4",
    BULK_COMPLETED: RolloutStatus.COMPLETED.value,
}


def implement_routine(rollout: Rollout, coordinator: User, months_ago: int = 6) -> None:
    """Steps 2 and 3 done, the routine implemented `months_ago` months minus ten days ago."""
    rollout_services.step_complete(actor=coordinator, rollout=rollout, step=Step.TRAINING)
    routine = routine_services.routine_start(actor=coordinator, rollout=rollout)
    routine_services.routine_send_for_review(actor=coordinator, routine=routine)
    for as_coordinator in (False, True):
        routine_services.routine_approve(
            actor=coordinator, routine=routine, version=1, as_coordinator=as_coordinator
        )
    implemented = add_months(timezone.localdate(), -months_ago) + dt.timedelta(days=10)
    routine_services.routine_implement(
        actor=coordinator,
        routine=routine,
        implemented_on=implemented,
        business_plan_location="Verksamhetsplan, avsnitt Trygghet och studiero",
        staff_informed_on=implemented,
    )


LESSONS = (
    "Personalen tar upp rutinen på arbetsplatsträffarna en gång per termin; det har gjort den "
    "levande.",
    "Det hjälpte att ha samordnarens nummer i rutinen: personalen ringde tidigare än förut.",
)


def hold_follow_ups(rng: random.Random, rollout: Rollout, coordinator: User) -> None:
    """Every follow-up held with the routine in use; the last completes the rollout."""
    for number, follow_up in enumerate(FollowUp.objects.filter(rollout=rollout)):
        followups.record(
            actor=coordinator,
            follow_up=follow_up,
            routine_in_use=Usage.YES,
            times_used=rng.randint(1, 4),
            consultations=rng.randint(0, 2),
            reports_of_concern=rng.randint(0, 1),
            support_needed=SupportNeed.NONE,
            effect=rng.randint(3, 5),
            lessons=LESSONS[number % len(LESSONS)],
            share_lessons=True,
        )


def seed_interventions(municipality: Municipality, coordinator: User) -> None:
    """A few interventions in the map, and gaps between them (idempotent by name)."""
    sectors = {sector.name: sector for sector in municipality.sectors.all()}
    existing = set(municipality.interventions.values_list("name", flat=True))
    for name, sector, level, target in DEMO_INTERVENTIONS:
        if name in existing or sector not in sectors:
            continue
        intervention_services.intervention_create(
            actor=coordinator,
            municipality=municipality,
            name=name,
            level=level,
            target_group=target,
            owner_sector=sectors[sector],
            participating_units=municipality.units.filter(sector=sectors[sector], is_active=True)[
                :3
            ],
        )


DEMO_INTERVENTIONS = (
    ("Värdegrundslektioner om rättigheter", "Förskola", "universal", "Barn 4–5 år"),
    ("Samtalsgrupper om normer och rättigheter", "Grundskola", "selective", "Elever år 7–9"),
    ("Föräldraträffar på flera språk", "Fritidsgård", "universal", "Föräldrar"),
    ("Stödsamtal efter orosanmälan", "Socialtjänst", "indicated", "Unga och familjer"),
)


def report_web_course(rng: random.Random, rollout: Rollout, actor: User, reports: int) -> None:
    """Up to `reports` web-course reports, dated in the past, that together stay within the
    unit's headcount (and, but for small units, below the share that lets the manager close the
    step)."""
    unit = rollout.unit
    remaining = unit.headcount
    today = timezone.localdate()
    days_ago = rng.randint(25, 50)
    # Knowledge grows, if at all, as more of the staff take the course.
    knowledge = rng.randint(1, 4)
    for number in range(reports):
        if number:  # a later report, some days after the one before
            days_ago = rng.randint(3, max(3, days_ago - 10))
            knowledge = min(5, knowledge + rng.randint(0, 1))
        share = rng.uniform(0.25, 0.5) if number == 0 else rng.uniform(0.1, 0.25)
        count = min(remaining, max(1, round(unit.headcount * share)))
        if count == 0:
            break
        mode = rng.choice(CourseMode.values)
        training_services.web_course_report(
            actor=actor,
            unit_id=rollout.unit_id,
            reported_on=today - dt.timedelta(days=days_ago),
            completed_count=count,
            mode=mode,
            group_sessions=0 if mode == CourseMode.INDIVIDUAL else rng.randint(1, 3),
            knowledge_level=knowledge,
            reflections=rng.choice(REFLECTIONS),
        )
        remaining -= count


def bulk_units(
    seed: int,
    municipalities: list[tuple[str, int]],
    counts: list[int],
    sector_ids: dict[tuple[int, str], int],
) -> Iterator[Unit]:
    """Unsaved units, one municipality at a time, skipping names that already exist there."""
    sectors = [name for name in PROFILES if name in services.DEFAULT_SECTORS]
    cum_weights = list(itertools.accumulate(PROFILES[name].weight for name in sectors))
    for (slug, municipality_id), count in zip(municipalities, counts, strict=True):
        existing = {
            name.lower()
            for name in Unit.objects.filter(municipality_id=municipality_id).values_list(
                "name", flat=True
            )
        }
        # One generator per municipality, so a resumed run draws exactly the same units.
        rng = seeded_random(f"{seed}-{slug}")
        for number in range(1, count + 1):
            sector = rng.choices(sectors, cum_weights=cum_weights)[0]
            stem = rng.choice(STEMS)
            name = f"{PROFILES[sector].pattern.format(stem=stem)} {number}"
            fields = unit_fields(rng, name, sector)
            if name.lower() in existing:
                continue
            yield Unit(
                municipality_id=municipality_id,
                sector_id=sector_ids[(municipality_id, sector)],
                **fields,
            )


# --- Demo logins ------------------------------------------------------------------------------


def demo_user(email: str, first_name: str, last_name: str) -> User:
    """A demo login with a verified address; the password is set only when it is created."""
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email=email, password=DEMO_PASSWORD, first_name=first_name, last_name=last_name
        )
    # allauth's mandatory verification would otherwise stop the login with a confirmation mail.
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def totp_secret(seed: int) -> str:
    return base64.b32encode(hashlib.sha256(f"demo-totp-{seed}".encode()).digest()[:20]).decode()


def ensure_mfa(user: User, seed: int) -> tuple[str, list[str]]:
    """TOTP and recovery codes for the coordinator, who must use a second factor.

    Returns the TOTP secret actually stored (it may predate this seed) and the unused codes."""
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        authenticator = TOTP.activate(user, totp_secret(seed)).instance
    recovery_codes = RecoveryCodes.activate(user).get_unused_codes()
    return decrypt(authenticator.data["secret"]), recovery_codes
