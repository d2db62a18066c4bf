"""The regional view's numbers: one precomputed summary per municipality, refreshed by the worker.

A county or a national host has hundreds of municipalities and up to about 100,000 units; their
Boards cannot be computed within a page request. The worker recomputes, every half minute, only
the municipalities whose generation (units.freshness: bumped by every change) or day has changed
since their last summary, so the numbers are at most about a minute behind, and an idle site
costs one query per run. Summaries hold counts only, never anything written about a unit."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max, QuerySet
from django.utils import timezone

from jarfalla.collation import swedish
from rollout import board as board_selectors
from rollout.models import MunicipalitySummary
from units import freshness
from units.models import Municipality

LOCK_KEY = "regional-summaries-refresh"
LOCK_SECONDS = 300
CHECKED_KEY = "regional-summaries-checked"
# The worker looks every 30 seconds: a last look longer ago than this means it has stopped (or
# is stuck), and the page must not go on promising numbers a minute old.
LATE_AFTER = dt.timedelta(minutes=2)


def summary_data(board: board_selectors.Board) -> dict[str, Any]:
    ind = board.indicators
    statuses = {status: 0 for status in board_selectors.UnitStatus.values}
    for row in board.rows:
        statuses[row.status] += 1
    return {
        "units": len(board.rows),
        "funnel": {stage: count for stage, _label, count in board.funnel},
        "statuses": statuses,
        "reach": [ind.reach.part, ind.reach.whole],
        "adoption": [ind.adoption.part, ind.adoption.whole],
        "implementation": [ind.implementation.part, ind.implementation.whole],
        "follow_ups_on_time": [ind.follow_ups_on_time.part, ind.follow_ups_on_time.whole],
        "in_use_at_12_months": [ind.in_use_at_12_months.part, ind.in_use_at_12_months.whole],
    }


def refresh(*, force: bool = False) -> int:
    """Recompute the summaries that are out of date; returns how many were computed. Runs are
    serialised with a lock in the shared cache, so a slow run is never overlapped by the next."""
    if not cache.add(LOCK_KEY, 1, LOCK_SECONDS):
        return 0
    try:
        today = timezone.localdate()
        known = {
            municipality_id: (generation, day)
            for municipality_id, generation, day in MunicipalitySummary.objects.values_list(
                "municipality_id", "generation", "day"
            )
        }
        computed = 0
        for municipality in Municipality.objects.order_by("pk"):
            generation = freshness.generation(municipality.pk)
            if not force and known.get(municipality.pk) == (generation, today):
                continue
            board = board_selectors.board(municipality=municipality, today=today)
            MunicipalitySummary.objects.update_or_create(
                municipality=municipality,
                defaults={
                    "generation": generation,
                    "day": today,
                    "computed_at": timezone.now(),
                    "data": summary_data(board),
                },
            )
            computed += 1
        cache.set(CHECKED_KEY, timezone.now(), timeout=None)
        return computed
    finally:
        cache.delete(LOCK_KEY)


def checked_at() -> dt.datetime | None:
    """When the worker last finished looking at every municipality (None: not since the cache
    was emptied)."""
    found = cache.get(CHECKED_KEY)
    return found if isinstance(found, dt.datetime) else None


@dataclass(frozen=True)
class Line:
    """One municipality in the regional table (or the total of all of them)."""

    name: str
    municipality_id: int | None
    computed_at: dt.datetime | None
    units: int
    funnel: list[int]
    overdue: int
    reach: board_selectors.Share
    adoption: board_selectors.Share
    implementation: board_selectors.Share
    follow_ups_on_time: board_selectors.Share


def _share(pair: Sequence[int] | None) -> board_selectors.Share:
    part, whole = pair or (0, 0)
    return board_selectors.Share(int(part), int(whole))


def _line(name: str, municipality_id: int | None, summary: MunicipalitySummary | None) -> Line:
    data = summary.data if summary else {}
    funnel = data.get("funnel", {})
    return Line(
        name=name,
        municipality_id=municipality_id,
        computed_at=summary.computed_at if summary else None,
        units=int(data.get("units", 0)),
        funnel=[int(funnel.get(stage, 0)) for stage in board_selectors.Stage.values],
        overdue=int(data.get("statuses", {}).get(board_selectors.UnitStatus.OVERDUE, 0)),
        reach=_share(data.get("reach")),
        adoption=_share(data.get("adoption")),
        implementation=_share(data.get("implementation")),
        follow_ups_on_time=_share(data.get("follow_ups_on_time")),
    )


def _sum(shares: Sequence[board_selectors.Share]) -> board_selectors.Share:
    return board_selectors.Share(sum(s.part for s in shares), sum(s.whole for s in shares))


def state(*, municipalities: QuerySet[Municipality]) -> tuple[int, dt.datetime | None]:
    """How many of the municipalities have a summary, and when the newest was computed."""
    found = MunicipalitySummary.objects.filter(municipality__in=municipalities).aggregate(
        count=Count("id"), newest=Max("computed_at")
    )
    return found["count"], found["newest"]


def lines(*, municipalities: QuerySet[Municipality]) -> tuple[list[Line], Line, int]:
    """(a line per municipality in Swedish alphabetical order, the total, how many have no
    summary yet): one query."""
    summaries = (
        MunicipalitySummary.objects.filter(municipality__in=municipalities)
        .select_related("municipality")
        .only("municipality__name", "computed_at", "data")
    )
    by_municipality = {s.municipality_id: s for s in summaries}
    names = municipalities.order_by(swedish("name"), "pk").values_list("pk", "name")
    result = [_line(name, pk, by_municipality.get(pk)) for pk, name in names]
    total = Line(
        name="",
        municipality_id=None,
        computed_at=min((line.computed_at for line in result if line.computed_at), default=None),
        units=sum(line.units for line in result),
        funnel=[sum(column) for column in zip(*(line.funnel for line in result), strict=True)]
        if result
        else [0] * len(board_selectors.Stage.values),
        overdue=sum(line.overdue for line in result),
        reach=_sum([line.reach for line in result]),
        adoption=_sum([line.adoption for line in result]),
        implementation=_sum([line.implementation for line in result]),
        follow_ups_on_time=_sum([line.follow_ups_on_time for line in result]),
    )
    missing = sum(1 for line in result if line.computed_at is None)
    return result, total, missing
