"""What `make bench` measures: one small declarative entry per scenario, with its target.

Paths are templates filled from the data the bench prepares (see ``world.World.placeholders``):
``{municipality}`` is the municipality of 2,000 units, ``{small_municipality}`` the one of 20,
``{workspace_unit}`` a unit of the big municipality with a history through all four steps,
``{manager_unit}`` a unit in step 1 that the bench's unit manager leads, ``{sector}`` the big
municipality's largest sector and ``{today}`` today's date. Personas are the users the bench
creates: ``coordinator`` (of the big municipality, with TOTP), ``small_coordinator`` (of the small
one), ``manager`` and ``superuser`` (with TOTP).

Ratios are scenario / baseline in the same run. The issue's targets (issue 9) are the defaults;
change them here, not in the runner.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    """Ratios against the baseline of the same run, plus absolute bounds where the issue gives
    them; None means "not a target of this scenario"."""

    min_rps_ratio: float | None = None
    max_p99_ratio: float | None = None
    max_p50_ms: float | None = None
    max_time_ratio: float | None = None
    queries_constant: bool = False

    def describe(self) -> str:
        parts = []
        if self.min_rps_ratio is not None:
            parts.append(f"req/s >= {self.min_rps_ratio:g}x")
        if self.max_p99_ratio is not None:
            parts.append(f"p99 <= {self.max_p99_ratio:g}x")
        if self.max_p50_ms is not None:
            parts.append(f"p50 <= {self.max_p50_ms:g} ms")
        if self.max_time_ratio is not None:
            parts.append(f"time <= {self.max_time_ratio:g}x")
        if self.queries_constant:
            parts.append("queries 20 = 2,000 units")
        return ", ".join(parts) or "-"


@dataclass(frozen=True)
class HttpScenario:
    name: str
    title: str
    path: str
    persona: str | None = None
    method: str = "GET"
    # Form fields of a POST (values are templates too); the CSRF token is added by the bench.
    form: tuple[tuple[str, str], ...] = ()
    # The statuses that mean "it worked"; any other 2xx/3xx is reported as unexpected.
    expect: tuple[int, ...] = (200,)
    # The same page for a small municipality: its query count must equal this one's.
    compare_path: str | None = None
    compare_persona: str | None = None
    target: Target = Target()


BASELINE = HttpScenario(name="baseline", title="baseline (trivial view)", path="/bench/baseline/")

HTTP_SCENARIOS: tuple[HttpScenario, ...] = (
    BASELINE,
    HttpScenario(
        name="dashboard",
        title="coordinator dashboard, 2,000 units",
        path="/dashboard/{municipality}/",
        persona="coordinator",
        compare_path="/dashboard/{small_municipality}/",
        compare_persona="small_coordinator",
        target=Target(min_rps_ratio=0.25, max_p99_ratio=4.0, queries_constant=True),
    ),
    HttpScenario(
        name="workspace",
        title="unit workspace page",
        path="/units/{workspace_unit}/",
        persona="coordinator",
        target=Target(min_rps_ratio=0.25),
    ),
    HttpScenario(
        name="unit_table",
        title="unit table (50 rows, filtered)",
        path="/dashboard/{municipality}/enheter/?sektor={sector}",
        persona="coordinator",
        target=Target(min_rps_ratio=0.15),
    ),
    HttpScenario(
        name="regional",
        title="regional view, 100,000 units",
        path="/regional/",
        persona="superuser",
        target=Target(max_p50_ms=100),
    ),
    # Last of the page scenarios: every POST adds a report (and a timeline event).
    HttpScenario(
        name="step1_post",
        title="step 1 report (POST + redirect)",
        path="/units/{manager_unit}/webbkurs/",
        persona="manager",
        method="POST",
        form=(
            ("reported_on", "{today}"),
            # No more staff since the last report: a valid report that can be repeated forever
            # without passing the unit's headcount.
            ("completed_count", "0"),
            ("mode", "groups"),
            ("group_sessions", "1"),
            ("knowledge_level", "3"),
            ("reflections", "Bra diskussioner i arbetslaget; vi vill öva på samtal i steg 2."),
            ("new_headcount", ""),
        ),
        expect=(302,),
        target=Target(min_rps_ratio=0.15),
    ),
)

REMINDERS = "reminders"
REMINDERS_TITLE = "reminder sweep, {count:,} due"
REMINDERS_TARGET = Target(max_time_ratio=1.5)
# Reminders dispatched while queries are counted, twice: the count per reminder may not grow.
REMINDERS_QUERY_SAMPLES = (20, 100)
# The dispatcher is stopped (and its time extrapolated) once it has certainly missed the target.
REMINDERS_GIVE_UP_RATIO = REMINDERS_TARGET.max_time_ratio or 1.5

PDF = "pdf"
PDF_TITLE = "municipality PDF report, {units} units"
PDF_TARGET = Target(max_time_ratio=1.2)

MEMORY = "memory"
MEMORY_TITLE = "memory (web worker RSS, PDF worker peak)"
WEB_RSS_LIMIT_MB = 150.0
PDF_PEAK_LIMIT_MB = 400.0
# A web worker's RSS counts once it has served this many requests.
MIN_REQUESTS_PER_WORKER = 1000

# Scale data (seed_demo): a national set of 290 municipalities and 100,000 units in all, three
# of them with exact sizes for the scenarios above.
BIG_PREFIX, BIG_UNITS = "Storstad", 2000
SMALL_PREFIX, SMALL_UNITS = "Småort", 20
REPORT_PREFIX, REPORT_UNITS = "Mellanstad", 345
NATIONAL_MUNICIPALITIES, NATIONAL_UNITS = 290, 100_000
SEED = 1


def scenario_names() -> list[str]:
    return [scenario.name for scenario in HTTP_SCENARIOS] + [REMINDERS, PDF]
