"""Results, ratios against the baseline, target checks, the printed table and the JSON record.

Pure: no Django, no processes, no clock. The runner fills ``Result`` objects and calls
``evaluate`` once at the end; the exit code follows from the results alone."""

import dataclasses
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jarfalla.bench.scenarios import Target

OK, FAILED, PENDING = "ok", "failed", "pending"
# Exit codes: 0 every target met; 1 errors (a non-2xx/3xx answer, a scenario that could not
# run, a crash); 2 no errors, but a target missed or not yet measurable (pending).
EXIT_OK, EXIT_ERRORS, EXIT_TARGETS = 0, 1, 2
JSON_VERSION = 1


@dataclass
class Check:
    description: str
    # None: could not be checked (the scenario is pending or a number is missing).
    ok: bool | None
    measured: str = ""


@dataclass
class Result:
    name: str
    title: str
    kind: str = "http"  # http | reminders | pdf | memory
    status: str = OK
    rate: float | None = None
    rate_unit: str = "req/s"
    p50_ms: float | None = None
    p99_ms: float | None = None
    requests: int = 0
    queries: float | None = None
    # The same page at 20 units (the dashboard's query-constancy check).
    queries_compare: float | None = None
    memory_mb: float | None = None
    # Time-based scenarios: the product's time against the reference (SMTP alone, WeasyPrint
    # alone) measured in the same run.
    seconds: float | None = None
    reference_seconds: float | None = None
    # non_2xx_3xx, unexpected (a 2xx/3xx other than expected), socket (connect/read/write/timeout).
    errors: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    note: str = ""
    target: Target = field(default_factory=Target)
    checks: list[Check] = field(default_factory=list)
    ratio: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def fail(self, note: str) -> "Result":
        self.status = FAILED
        self.note = note
        return self


# Baselines at the start and the end of a run further apart than this make the ratios doubtful.
BASELINE_DRIFT = 0.25


def _mean(first: float | None, second: float | None) -> float | None:
    values = [value for value in (first, second) if value is not None]
    return sum(values) / len(values) if values else None


def merge_baselines(start: Result, end: Result) -> Result:
    """One baseline from the runs before and after the page scenarios: the mean of their rates
    and latencies, their requests and errors added up, both kept in ``extra``."""
    merged = dataclasses.replace(
        start,
        rate=_mean(start.rate, end.rate),
        p50_ms=_mean(start.p50_ms, end.p50_ms),
        p99_ms=_mean(start.p99_ms, end.p99_ms),
        requests=start.requests + end.requests,
        errors={
            key: start.errors.get(key, 0) + end.errors.get(key, 0)
            for key in {*start.errors, *end.errors}
        },
        statuses={
            key: start.statuses.get(key, 0) + end.statuses.get(key, 0)
            for key in {*start.statuses, *end.statuses}
        },
        memory_mb=end.memory_mb,
        checks=[*start.checks, *(c for c in end.checks if c not in start.checks)],
        extra={**start.extra, "runs": [_summary(start), _summary(end)]},
    )
    if end.status != OK:
        merged.status, merged.note = end.status, end.note
    elif start.rate and end.rate:
        drift = abs(end.rate - start.rate) / max(start.rate, end.rate)
        merged.note = (
            f"mean of two runs: {start.rate:,.0f} req/s before the pages, {end.rate:,.0f} after"
            + (
                f" — the machine's load changed by {drift:.0%} during the run, so the ratios are "
                "doubtful"
                if drift > BASELINE_DRIFT
                else ""
            )
        )
    return merged


def _summary(result: Result) -> dict[str, Any]:
    return {
        "rate": result.rate,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "requests": result.requests,
    }


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def _times(ratio: float | None) -> str:
    if ratio is None:
        return "-"
    # Small ratios keep a significant digit: 0.002x is not 0.00x.
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.3f}x"


def ratio_against(result: Result, baseline: Result | None) -> float | None:
    """req/s against the baseline's; for time-based scenarios the time against the reference."""
    if result.seconds is not None and result.reference_seconds:
        return result.seconds / result.reference_seconds
    if result.kind == "http" and result.rate is not None and baseline and baseline.rate:
        return result.rate / baseline.rate
    return None


def target_checks(result: Result, baseline: Result | None) -> list[Check]:
    target = result.target
    checks: list[Check] = []
    if result.kind == "http" and result.status != PENDING:
        bad = result.errors.get("non_2xx_3xx", 0) + result.errors.get("socket", 0)
        checks.append(Check("no non-2xx/3xx answers", bad == 0, f"{bad} errors"))
        unexpected = result.errors.get("unexpected", 0)
        if unexpected:
            checks.append(Check("only the expected status", False, f"{unexpected} unexpected"))
    ratio = result.ratio
    if target.min_rps_ratio is not None:
        checks.append(
            Check(
                f"req/s >= {target.min_rps_ratio:g}x baseline",
                None if ratio is None else ratio >= target.min_rps_ratio,
                _times(ratio),
            )
        )
    if target.max_p99_ratio is not None:
        p99_ratio = (
            result.p99_ms / baseline.p99_ms
            if result.p99_ms is not None and baseline and baseline.p99_ms
            else None
        )
        checks.append(
            Check(
                f"p99 <= {target.max_p99_ratio:g}x baseline p99",
                None if p99_ratio is None else p99_ratio <= target.max_p99_ratio,
                _times(p99_ratio),
            )
        )
    if target.max_p50_ms is not None:
        checks.append(
            Check(
                f"p50 <= {target.max_p50_ms:g} ms",
                None if result.p50_ms is None else result.p50_ms <= target.max_p50_ms,
                f"{_fmt(result.p50_ms)} ms",
            )
        )
    if target.max_time_ratio is not None:
        checks.append(
            Check(
                f"time <= {target.max_time_ratio:g}x reference",
                None if ratio is None else ratio <= target.max_time_ratio,
                _times(ratio),
            )
        )
    if target.queries_constant:
        same = (
            None
            if result.queries is None or result.queries_compare is None
            else result.queries == result.queries_compare
        )
        checks.append(
            Check(
                "queries equal at 20 and 2,000 units",
                same,
                f"{_fmt(result.queries_compare, 0)} vs {_fmt(result.queries, 0)}",
            )
        )
    return checks


def evaluate(results: list[Result]) -> None:
    """Fill in every result's ratio and target checks (checks the runner added stay)."""
    baseline = next((r for r in results if r.name == "baseline" and r.status == OK), None)
    for result in results:
        result.ratio = ratio_against(result, baseline)
        result.checks = target_checks(result, baseline) + result.checks


def exit_code(results: Iterable[Result]) -> int:
    results = list(results)
    if any(r.status == FAILED or r.error_count for r in results):
        return EXIT_ERRORS
    if any(r.status == PENDING for r in results):
        return EXIT_TARGETS
    if any(check.ok is not True for r in results for check in r.checks):
        return EXIT_TARGETS
    return EXIT_OK


def verdict(result: Result) -> str:
    if result.status == FAILED:
        return "FAILED"
    if result.status == PENDING:
        return "pending"
    if result.error_count:
        return f"FAILED ({result.error_count} errors)"
    missed = [check for check in result.checks if check.ok is False]
    unknown = [check for check in result.checks if check.ok is None]
    if missed:
        return "MISSED"
    if unknown:
        return "unchecked"
    return "ok"


def _queries_cell(result: Result) -> str:
    if result.queries is None:
        return "-"
    digits = 0 if float(result.queries).is_integer() else 2
    cell = _fmt(result.queries, digits)
    if result.queries_compare is not None:
        cell += f" ({_fmt(result.queries_compare, 0)} @20)"
    return cell


def _rate_cell(result: Result) -> str:
    if result.rate is None:
        return "-"
    return _fmt(result.rate) + ("" if result.rate_unit == "req/s" else f" {result.rate_unit}")


def rows(results: Iterable[Result]) -> list[list[str]]:
    return [
        [
            result.title,
            _rate_cell(result),
            _fmt(result.p50_ms),
            _fmt(result.p99_ms),
            _queries_cell(result),
            _fmt(result.memory_mb),
            _times(result.ratio),
            result.target.describe(),
            verdict(result),
        ]
        for result in results
    ]


HEADER = [
    "scenario",
    "req/s",
    "p50 ms",
    "p99 ms",
    "queries",
    "memory MB",
    "ratio",
    "target",
    "result",
]
# Numbers right-aligned, words left-aligned.
_RIGHT = {1, 2, 3, 4, 5, 6}


def text_table(results: Iterable[Result]) -> str:
    body = rows(results)
    widths = [max(len(row[i]) for row in [HEADER, *body]) for i in range(len(HEADER))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.rjust(widths[i]) if i in _RIGHT else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ).rstrip()

    return "\n".join([line(HEADER), line(["-" * w for w in widths]), *map(line, body)])


def markdown_table(results: Iterable[Result]) -> str:
    body = rows(results)
    align = ["---:" if i in _RIGHT else "---" for i in range(len(HEADER))]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in [HEADER, align, *body])


def notes(results: Iterable[Result]) -> list[str]:
    """One line per thing a reader must know: missed targets, errors, pending, notes."""
    lines = []
    for result in results:
        for check in result.checks:
            if check.ok is False:
                lines.append(f"{result.name}: MISSED {check.description} ({check.measured})")
        if result.errors and result.error_count:
            detail = ", ".join(f"{key} {value}" for key, value in result.errors.items() if value)
            statuses = ", ".join(f"{code}: {n}" for code, n in sorted(result.statuses.items()))
            lines.append(f"{result.name}: ERRORS {detail} (statuses {statuses})")
        if result.note:
            lines.append(f"{result.name}: {result.note}")
    return lines


def to_json(results: list[Result], meta: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "version": JSON_VERSION,
        **meta,
        "exit_code": exit_code(results),
        "scenarios": [
            {
                **{
                    key: value
                    for key, value in dataclasses.asdict(result).items()
                    if key not in {"target", "checks"}
                },
                "target": {
                    "description": result.target.describe(),
                    **dataclasses.asdict(result.target),
                },
                "checks": [dataclasses.asdict(check) for check in result.checks],
                "verdict": verdict(result),
            }
            for result in results
        ],
    }


def write_json(path: Path, document: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
