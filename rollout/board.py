"""The dashboard's reads. One pass over a municipality's units gives everything the coordinator,
the board and the researchers ask for: the funnel, reach, what needs attention, the unit table
and the indicators (RE-AIM). The dashboard, the table, the exports and the board report all read
the same Board, so their numbers cannot disagree.

The number of queries does not depend on the number of units: units, rollouts and step states
are read once each, and every step app reports its facts for all rollouts in one query
(rollout.steps). The rest is arithmetic in Python.
"""

import dataclasses
import datetime as dt
import statistics
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet, TextChoices
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from jarfalla.collation import swedish_key
from rollout import engine, steps
from rollout.models import Rollout, RolloutStatus, Step, StepState, StepStatus
from rollout.selectors import StateRow, shown_round, snapshot_of
from units import freshness
from units.models import Municipality, Unit, UnitKind

# A unit whose open rollout has had no activity for this long needs a nudge from the coordinator.
STALE_AFTER_DAYS = 60
# An unbooked follow-up needs booking when it is due within six weeks (as in the digest).
BOOK_WITHIN_DAYS = 42
# A follow-up counts as held on time when it was held at most this long after its due date.
ON_TIME_GRACE_DAYS = 30


class UnitStatus(TextChoices):
    NOT_STARTED = "not_started", _("Inte påbörjad")
    ON_TRACK = "on_track", _("Enligt plan")
    ATTENTION = "attention", _("Behöver åtgärd")
    OVERDUE = "overdue", _("Försenad")
    PAUSED = "paused", _("Pausad")
    DONE = "done", _("Klar")


class Stage(TextChoices):
    """The funnel's columns: where a unit stands."""

    NOT_STARTED = "0", _("Inte påbörjad")
    WEB_COURSE = "1", _("Steg 1 Webbkurs Heder")
    TRAINING = "2", _("Steg 2 Riktad utbildning")
    ROUTINES = "3", _("Steg 3 Rutiner")
    FOLLOW_UP = "4", _("Steg 4 Uppföljning")
    DONE = "done", _("Klar")


# Next actions that wait for the coordinator now (as opposed to a booked date in the future).
COORDINATOR_NOW = {"decide_request", "book_training", "approve_routine", "complete_training"}


@dataclass(frozen=True)
class UnitRow:
    unit_id: int
    name: str
    sector_id: int | None
    sector: str
    kind: str
    headcount: int
    stage: str
    status: str
    rollout_status: str | None = None
    round: int | None = None
    # The one next action (the lowest open step's), and what the later steps the coordinator
    # started early wait for (engine.open_actions).
    action: engine.NextAction | None = None
    more_actions: tuple[engine.NextAction, ...] = ()
    last_activity: dt.datetime | None = None
    started_on: dt.date | None = None
    completed_on: dt.date | None = None
    web_course_completed: int = 0
    knowledge_level: int | None = None
    routine_implemented: bool = False
    implemented_on: dt.date | None = None
    step_days: dict[int, int] = field(default_factory=dict)
    # (offset in months, due date, held on, routine in use, effect)
    follow_ups: tuple[tuple[int, dt.date | None, dt.date | None, str, int | None], ...] = ()
    next_follow_up_booked: bool = False
    # (months after implementation, due date) of the first follow-up not yet held, while the
    # rollout is under way.
    next_follow_up: tuple[int, dt.date] | None = None
    stale: bool = False

    @property
    def actions(self) -> tuple[engine.NextAction, ...]:
        """Every open step's action, the next action first."""
        return (self.action, *self.more_actions) if self.action else ()

    @property
    def due(self) -> dt.date | None:
        """The earliest date any open step has to meet."""
        return min((a.due for a in self.actions if a.due), default=None)

    @property
    def started(self) -> bool:
        return self.rollout_status in (
            RolloutStatus.ACTIVE,
            RolloutStatus.PAUSED,
            RolloutStatus.COMPLETED,
        )

    @property
    def web_course_share(self) -> float:
        return min(self.web_course_completed / self.headcount, 1.0) if self.headcount else 0.0

    @property
    def status_label(self) -> str:
        return str(UnitStatus(self.status).label)

    @property
    def stage_label(self) -> str:
        return str(Stage(self.stage).label)

    @property
    def step_url_name(self) -> str | None:
        app = steps.get(int(self.stage)) if self.stage.isdigit() and self.stage != "0" else None
        return app.page_url_name if app else None


def _status(
    rollout: Rollout | None,
    actions: Sequence[engine.NextAction],
    stale: bool,
    today: dt.date,
) -> str:
    """From every open step's action: a step started early can be late or wait for the
    coordinator while the step before it is on time."""
    if rollout is None or rollout.status == RolloutStatus.DECLINED:
        return UnitStatus.NOT_STARTED
    if rollout.status == RolloutStatus.COMPLETED:
        return UnitStatus.DONE
    if rollout.status == RolloutStatus.PAUSED:
        return UnitStatus.PAUSED
    if any(action.due and action.due < today for action in actions):
        return UnitStatus.OVERDUE
    if rollout.status == RolloutStatus.REQUESTED or stale:
        return UnitStatus.ATTENTION
    if any(action.code in COORDINATOR_NOW for action in actions):
        return UnitStatus.ATTENTION
    return UnitStatus.ON_TRACK


def _stage(rollout: Rollout | None, current: int | None) -> str:
    if rollout is None or rollout.status in (RolloutStatus.DECLINED, RolloutStatus.REQUESTED):
        return Stage.NOT_STARTED
    if rollout.status == RolloutStatus.COMPLETED or current is None:
        return Stage.DONE
    return str(current)


def _days(states: Iterable[StateRow]) -> dict[int, int]:
    return {
        # A step closed before it was started (an early start moved it) took no days.
        step: max((completed - started).days, 0)
        for step, status, started, completed in states
        if status == StepStatus.DONE and started and completed
    }


def unit_rows(*, municipality: Municipality, today: dt.date | None = None) -> list[UnitRow]:
    """A row per active unit, with where it stands and what comes next: five to ten queries
    whatever the number of units."""
    today = today or timezone.localdate()
    units = {
        unit.pk: unit
        for unit in Unit.objects.filter(municipality=municipality, is_active=True)
        .select_related("sector")
        .only("id", "name", "kind", "headcount", "sector__name", "municipality_id")
        # Not in the models' default (Swedish) order: every list made from the rows sorts
        # them itself (SORT_KEYS, attention, the report), and this reads all the units.
        .order_by()
    }
    for unit in units.values():
        unit.municipality = municipality
    current = _shown_rounds(
        Rollout.objects.filter(unit__municipality=municipality, unit__is_active=True), units
    )
    return list(_rows(units, current, today).values())


def rows_for_units(*, units: Sequence[Unit], today: dt.date | None = None) -> dict[int, UnitRow]:
    """Where each of these units stands, by unit id, as unit_rows gives it for a municipality:
    for a unit manager's own units (archived ones too, of any municipality). The units come with
    their sector and municipality (select_related); a fixed number of queries whatever their
    number."""
    by_pk = {unit.pk: unit for unit in units}
    if not by_pk:
        return {}
    current = _shown_rounds(Rollout.objects.filter(unit_id__in=list(by_pk)), by_pk)
    return _rows(by_pk, current, today or timezone.localdate())


def _shown_rounds(candidates: QuerySet[Rollout], units: dict[int, Unit]) -> dict[int, Rollout]:
    """The round each unit is shown by (selectors.shown_round), by unit id, with its unit."""
    rounds: dict[int, list[Rollout]] = {}
    for candidate in candidates.order_by("unit_id", "-round"):
        rounds.setdefault(candidate.unit_id, []).append(candidate)
    current: dict[int, Rollout] = {}
    for unit_id, of_unit in rounds.items():
        shown = shown_round(of_unit)
        assert shown is not None
        shown.unit = units[unit_id]
        current[unit_id] = shown
    return current


def _rows(
    units: dict[int, Unit], current: dict[int, Rollout], today: dt.date
) -> dict[int, UnitRow]:
    """A row for each unit, from the round it is shown by (``current``): the step states and
    every step app's facts are read in one query each."""
    rollouts = list(current.values())
    states: dict[int, list[StateRow]] = {}
    for rollout_id, *state in (
        StepState.objects.filter(rollout__in=[r.pk for r in rollouts])
        .order_by("rollout_id", "step")
        .values_list("rollout_id", "step", "status", "started_at", "completed_at")
    ):
        states.setdefault(rollout_id, []).append(tuple(state))  # type: ignore[arg-type]
    facts = steps.facts_for(rollouts)
    tz = timezone.get_current_timezone()
    stale_before = timezone.now() - dt.timedelta(days=STALE_AFTER_DAYS)
    rows: dict[int, UnitRow] = {}
    for unit in units.values():
        rollout = current.get(unit.pk)
        base: dict[str, Any] = {
            "unit_id": unit.pk,
            "name": unit.name,
            "sector_id": unit.sector_id,
            "sector": unit.sector.name if unit.sector else "",
            "kind": unit.kind,
            "headcount": unit.headcount,
        }
        if rollout is None:
            rows[unit.pk] = UnitRow(**base, stage=Stage.NOT_STARTED, status=UnitStatus.NOT_STARTED)
            continue
        rollout_states = states.get(rollout.pk, [])
        rollout_facts = facts.get(rollout.pk, {})
        snap = snapshot_of(
            rollout=rollout,
            states=rollout_states,
            facts=rollout_facts,
            municipality=unit.municipality,
            tz=tz,
            today=today,
        )
        # Plain strings: the Board is cached per language, and lazy texts unpickle slowly.
        actions = [
            dataclasses.replace(action, text=str(action.text))
            for action in engine.open_actions(snap)
        ]
        step_now = engine.current_step(snap)
        # Months of quiet are expected while the follow-ups are waiting (as in the digest).
        stale = (
            rollout.status == RolloutStatus.ACTIVE
            and rollout.last_activity_at < stale_before
            and step_now != Step.FOLLOW_UP
        )
        web = rollout_facts.get(Step.WEB_COURSE, {})
        routine = rollout_facts.get(Step.ROUTINES, {})
        implemented = routine.get("implemented_on")
        implemented_on = implemented if isinstance(implemented, dt.date) else None
        if implemented_on is None:
            implemented_on = snap.steps.get(Step.ROUTINES, engine.StepSnapshot()).completed_on
        records = rollout_facts.get(Step.FOLLOW_UP, {}).get("records", [])
        follow_ups = tuple(
            (
                r.offset_months,
                engine.add_months(implemented_on, r.offset_months) if implemented_on else None,
                r.held_on,
                r.routine_in_use,
                r.effect,
            )
            for r in records  # type: ignore[attr-defined]
        )
        next_open = next((r for r in records if r.status != "held"), None)  # type: ignore[attr-defined]
        rows[unit.pk] = UnitRow(
            **base,
            stage=_stage(rollout, step_now),
            status=_status(rollout, actions, stale, today),
            rollout_status=rollout.status,
            round=rollout.round,
            action=actions[0] if actions else None,
            more_actions=tuple(actions[1:]),
            last_activity=rollout.last_activity_at,
            started_on=snap.started_on,
            completed_on=rollout.completed_at.astimezone(tz).date()
            if rollout.completed_at
            else None,
            web_course_completed=int(web.get("completed", 0) or 0),  # type: ignore[call-overload]
            knowledge_level=web.get("knowledge_level"),  # type: ignore[arg-type]
            routine_implemented=bool(routine.get("implemented"))
            or rollout.status == RolloutStatus.COMPLETED,
            implemented_on=implemented_on,
            step_days=_days(rollout_states),
            follow_ups=follow_ups,
            next_follow_up_booked=bool(next_open and next_open.status == "booked"),
            next_follow_up=(
                next_open.offset_months,
                engine.add_months(implemented_on, next_open.offset_months),
            )
            if next_open and implemented_on and rollout.status == RolloutStatus.ACTIVE
            else None,
            stale=stale,
        )
    return rows


# --- The funnel and reach -------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the number as shown, e.g. "12" or "45 %"
    url: str = ""


def funnel(rows: Sequence[UnitRow]) -> list[tuple[str, str, int]]:
    """(stage value, label, number of units) for every stage, in order."""
    counts = Counter(row.stage for row in rows)
    return [(stage.value, str(stage.label), counts[stage.value]) for stage in Stage]


@dataclass(frozen=True)
class Share:
    """A part of a whole, e.g. staff who took the web course of all staff."""

    part: int
    whole: int

    @property
    def ratio(self) -> float | None:
        return self.part / self.whole if self.whole else None

    @property
    def percent(self) -> int | None:
        return round(100 * self.part / self.whole) if self.whole else None


@dataclass(frozen=True)
class Group:
    """One sector (or kind of organisation): reach, adoption and implementation within it."""

    key: str
    label: str
    units: int
    started: int
    headcount: int
    web_course: int
    implemented: int

    @property
    def reach(self) -> Share:
        return Share(self.web_course, self.headcount)

    @property
    def adoption(self) -> Share:
        return Share(self.started, self.units)

    @property
    def implementation(self) -> Share:
        return Share(self.implemented, self.started)


def _group(key: str, label: str, rows: Sequence[UnitRow]) -> Group:
    return Group(
        key=key,
        label=label,
        units=len(rows),
        started=sum(row.started for row in rows),
        headcount=sum(row.headcount for row in rows),
        web_course=sum(min(row.web_course_completed, row.headcount) for row in rows),
        implemented=sum(row.started and row.routine_implemented for row in rows),
    )


def groups_by_sector(rows: Sequence[UnitRow]) -> list[Group]:
    by_sector: dict[tuple[str, int | None], list[UnitRow]] = {}
    for row in rows:
        by_sector.setdefault((row.sector, row.sector_id), []).append(row)
    return [
        _group(str(sector_id or ""), name or str(_("Utan sektor")), members)
        for (name, sector_id), members in sorted(
            by_sector.items(), key=lambda item: (swedish_key(item[0][0]), item[0][1] or 0)
        )
    ]


def groups_by_kind(rows: Sequence[UnitRow]) -> list[Group]:
    return [
        _group(kind.value, str(kind.label), [row for row in rows if row.kind == kind])
        for kind in UnitKind
    ]


# --- Indicators (RE-AIM) --------------------------------------------------------------------


@dataclass(frozen=True)
class Indicators:
    reach: Share
    adoption: Share
    implementation: Share
    # Median days each step took (started → done), over the units that finished it.
    median_step_days: dict[int, float | None]
    median_days_to_routine: float | None
    follow_ups_on_time: Share
    in_use_at_12_months: Share
    partly_in_use_at_12_months: int
    # Effect: for units with both, the step 1 knowledge level against the follow-up's judgement.
    effect_by_level: list[tuple[int, int, float | None]]
    mean_knowledge_level: float | None
    mean_effect: float | None
    effect_pairs: int


def _median(values: Sequence[float]) -> float | None:
    # One decimal always, as _mean: the median of an odd count is an int, of an even one a
    # float, and the column showed "0" next to "0,0".
    return round(float(statistics.median(values)), 1) if values else None


def _mean(values: Sequence[float]) -> float | None:
    return round(statistics.fmean(values), 1) if values else None


def indicators(rows: Sequence[UnitRow], today: dt.date) -> Indicators:
    overall = _group("", "", rows)
    due_follow_ups = [
        (due, held)
        for row in rows
        for _months, due, held, _in_use, _effect in row.follow_ups
        if due is not None and (held is not None or due < today)
    ]
    on_time = sum(
        1
        for due, held in due_follow_ups
        if held is not None and held <= due + dt.timedelta(days=ON_TIME_GRACE_DAYS)
    )
    at_12 = [
        in_use
        for row in rows
        for months, _due, held, in_use, _effect in row.follow_ups
        if months == 12 and held is not None and in_use
    ]
    pairs = []
    for row in rows:
        effects = [effect for *_rest, effect in row.follow_ups if effect is not None]
        if row.knowledge_level is not None and effects:
            pairs.append((int(row.knowledge_level), effects[-1]))
    # A routine may have been in the business plan before the round started: zero days, not less.
    to_routine = [
        max((row.implemented_on - row.started_on).days, 0)
        for row in rows
        if row.started_on and row.implemented_on and row.routine_implemented
    ]
    return Indicators(
        reach=overall.reach,
        adoption=overall.adoption,
        implementation=overall.implementation,
        median_step_days={
            step: _median([row.step_days[step] for row in rows if step in row.step_days])
            for step in Step.values
        },
        median_days_to_routine=_median(to_routine),
        follow_ups_on_time=Share(on_time, len(due_follow_ups)),
        in_use_at_12_months=Share(sum(value == "yes" for value in at_12), len(at_12)),
        partly_in_use_at_12_months=sum(value == "partly" for value in at_12),
        effect_by_level=[
            (
                level,
                len(effects := [e for lvl, e in pairs if lvl == level]),
                _mean(effects),
            )
            for level in range(1, 6)
        ],
        mean_knowledge_level=_mean([level for level, _e in pairs]),
        mean_effect=_mean([e for _l, e in pairs]),
        effect_pairs=len(pairs),
    )


# --- What needs attention -------------------------------------------------------------------


class Attention(TextChoices):
    OVERDUE_FOLLOW_UPS = "overdue_follow_ups", _("Försenade uppföljningar")
    FOLLOW_UPS_TO_BOOK = "follow_ups_to_book", _("Uppföljningar att boka")
    SESSIONS_TO_BOOK = "sessions_to_book", _("Riktade utbildningar att boka")
    ROUTINES_TO_REVIEW = "routines_to_review", _("Rutiner som väntar på granskning")
    REQUESTS = "requests", _("Förfrågningar om att delta")
    OTHER_OVERDUE = "other_overdue", _("Andra försenade åtgärder")
    STALE = "stale", _("Ingen aktivitet på länge")
    PAUSED = "paused", _("Pausade införanden")


def _action_kinds(row: UnitRow, action: engine.NextAction, today: dt.date) -> list[str]:
    """The "needs attention" lists one of the unit's open actions puts it in."""
    kinds: list[str] = []
    code, due = action.code, action.due
    if code.startswith("follow_up_") and due:
        if due < today:
            kinds.append(Attention.OVERDUE_FOLLOW_UPS)
        elif not row.next_follow_up_booked and (due - today).days <= BOOK_WITHIN_DAYS:
            kinds.append(Attention.FOLLOW_UPS_TO_BOOK)
    elif due and due < today:
        kinds.append(Attention.OTHER_OVERDUE)
    if code == "book_training":
        kinds.append(Attention.SESSIONS_TO_BOOK)
    if code == "approve_routine":
        kinds.append(Attention.ROUTINES_TO_REVIEW)
    if code == "decide_request":
        kinds.append(Attention.REQUESTS)
    return kinds


def attention_kind(row: UnitRow, today: dt.date) -> list[str]:
    """Which of the dashboard's "needs attention" lists a unit belongs in (maybe several): what
    every open step waits for, not only the lowest one's (a step started early counts too)."""
    kinds: list[str] = []
    for action in row.actions:
        kinds += [kind for kind in _action_kinds(row, action, today) if kind not in kinds]
    if row.stale:
        kinds.append(Attention.STALE)
    if row.rollout_status == RolloutStatus.PAUSED:
        kinds.append(Attention.PAUSED)
    return kinds


def attention_action(row: UnitRow, kind: str, today: dt.date) -> engine.NextAction | None:
    """The action that puts the unit in the ``kind`` list (a routine to review is shown by
    "Godkänn rutinen", not by the booking step 2 waits for); for the lists about the rollout as a
    whole (silence, pause), the next action."""
    return next((a for a in row.actions if kind in _action_kinds(row, a, today)), row.action)


def by_name(row: UnitRow) -> tuple[Any, int]:
    """The sort key of a row by its unit's name in Swedish alphabetical order, the same order as
    the database's (jarfalla.collation), equal names by id."""
    return swedish_key(row.name), row.unit_id


def attention(rows: Sequence[UnitRow], today: dt.date) -> dict[str, list[UnitRow]]:
    """{attention kind: units, most urgent first}, only the kinds that have units."""
    lists: dict[str, list[UnitRow]] = {}
    for row in rows:
        for kind in attention_kind(row, today):
            lists.setdefault(kind, []).append(row)
    far = dt.date.max

    def urgency(kind: str, row: UnitRow) -> tuple[Any, ...]:
        action = attention_action(row, kind, today)
        return (action.due if action and action.due else far, *by_name(row))

    return {
        kind.value: sorted(lists[kind.value], key=lambda r: urgency(kind.value, r))
        for kind in Attention
        if kind.value in lists
    }


# --- The whole board ------------------------------------------------------------------------


@dataclass(frozen=True)
class Board:
    municipality: Municipality
    today: dt.date
    rows: list[UnitRow]
    funnel: list[tuple[str, str, int]]
    by_sector: list[Group]
    by_kind: list[Group]
    indicators: Indicators
    attention: dict[str, list[UnitRow]]
    extra_attention: list[steps.DigestItem]
    built_at: dt.datetime
    unit_count: int = 0
    started_count: int = 0
    attention_counts: dict[str, int] = field(default_factory=dict)

    def light(self, shown: int = 5) -> "Board":
        """Everything but the rows, and the first `shown` units of each attention list: what the
        dashboard and the indicators need, small enough to fetch from the cache on every page."""
        return dataclasses.replace(
            self,
            rows=[],
            attention={kind: rows[:shown] for kind, rows in self.attention.items()},
        )

    @property
    def sectors(self) -> list[tuple[int, str]]:
        """(id, name) of the sectors that have active units, by name: the table's filter."""
        return sorted(
            {(row.sector_id, row.sector) for row in self.rows if row.sector_id is not None},
            key=lambda item: (swedish_key(item[1]), item[0]),
        )


# How long a Board may be served from the cache when nothing with a trace has changed. Half the
# minute: a page drawn from a Board is kept up to 30 s more (units.pagecache), and what changes
# without a trace (time passing, a failed mailing) must show within the minute.
CACHE_SECONDS = 30


# The latest full Boards this process has used, so that paging and filtering the unit table does
# not fetch and unpickle thousands of rows on every request. Keys change with every change.
_recent: "OrderedDict[str, Board]" = OrderedDict()
_recent_lock = threading.Lock()
RECENT_BOARDS = 2


def _keys(municipality: Municipality) -> tuple[str, str]:
    """The cache keys of the full and the light Board, from one reading of the generation."""
    base = ":".join(
        (
            str(municipality.pk),
            str(freshness.generation(municipality.pk)),
            translation.get_language() or "sv",
            timezone.localdate().isoformat(),
        )
    )
    return f"board:full:{base}", f"board:light:{base}"


def _recent_board(key: str) -> Board | None:
    found = _recent.get(key)
    # As old as the shared cache would allow, no older: a quiet process keeps its dict all day.
    if found is None or found.built_at < timezone.now() - dt.timedelta(seconds=CACHE_SECONDS):
        return None
    return found


def cached_board(*, municipality: Municipality, light: bool = False) -> Board:
    """The Board from the shared cache. The key holds the municipality's generation (bumped by
    every change, units.freshness), the language (next actions are texts) and the day (what is
    overdue changes at midnight). `light` gives Board.light(): no rows, a few KB."""
    # Worked out once, before anything is built: a change committed during the build bumps the
    # generation, and what was built from the older data must stay under the older key.
    full_key, light_key = _keys(municipality)
    key = light_key if light else full_key
    found = _recent_board(key) if not light else None
    if found is None:
        found = cache.get(key)
    if not isinstance(found, Board):
        full = _recent_board(full_key) if light else None
        if full is None:
            full = board(municipality=municipality)
            cache.set(full_key, full, CACHE_SECONDS)
        found = full.light() if light else full
        if light:
            # Kept no longer than the full Board it comes from may be: together at most
            # CACHE_SECONDS old, whichever of the two was built first.
            left = CACHE_SECONDS - (timezone.now() - full.built_at).total_seconds()
            if left >= 1:
                cache.set(key, found, int(left))
    if not light:
        with _recent_lock:  # threaded servers (gunicorn gthread) share the process's dict
            _recent[key] = found
            _recent.move_to_end(key)
            while len(_recent) > RECENT_BOARDS:
                _recent.popitem(last=False)
    return found


def board(*, municipality: Municipality, today: dt.date | None = None) -> Board:
    today = today or timezone.localdate()
    rows = unit_rows(municipality=municipality, today=today)
    lists = attention(rows, today)
    return Board(
        municipality=municipality,
        today=today,
        rows=rows,
        funnel=funnel(rows),
        by_sector=groups_by_sector(rows),
        by_kind=groups_by_kind(rows),
        indicators=indicators(rows, today),
        attention=lists,
        extra_attention=steps.attention_items([municipality.pk], today),
        built_at=timezone.now(),
        unit_count=len(rows),
        started_count=sum(row.started for row in rows),
        attention_counts={kind: len(members) for kind, members in lists.items()},
    )


# --- The unit table's filters ---------------------------------------------------------------

_FAR_FUTURE = dt.date.max
_LONG_AGO = dt.datetime.min.replace(tzinfo=dt.UTC)
_STAGE_ORDER = {stage.value: index for index, stage in enumerate(Stage)}
_STATUS_ORDER: dict[str, int] = {
    status: index
    for index, status in enumerate(
        [
            UnitStatus.OVERDUE,
            UnitStatus.ATTENTION,
            UnitStatus.PAUSED,
            UnitStatus.ON_TRACK,
            UnitStatus.NOT_STARTED,
            UnitStatus.DONE,
        ]
    )
}
SORT_KEYS = {
    "name": by_name,
    "sector": lambda r: (swedish_key(r.sector), *by_name(r)),
    "stage": lambda r: (_STAGE_ORDER[r.stage], *by_name(r)),
    "status": lambda r: (_STATUS_ORDER[r.status], *by_name(r)),
    "due": lambda r: (r.due or _FAR_FUTURE, *by_name(r)),
    "activity": lambda r: (r.last_activity or _LONG_AGO, *by_name(r)),
}
# Columns where a unit may have no value at all (nothing to meet by a date): those units come
# last, by name, whichever way the column is sorted.
_WITHOUT_VALUE = {"due": lambda r: r.due is None}


@dataclass(frozen=True)
class TableFilter:
    """The unit table's filters, search and sort, read from GET parameters. Anything unknown or
    malformed falls back to the default, so a hand-edited or stale link never fails."""

    q: str = ""
    sector: int | None = None
    kind: str = ""
    stage: str = ""
    status: str = ""
    attention: str = ""
    sort: str = "name"
    descending: bool = False

    @classmethod
    def from_params(cls, params: QueryDict, *, sector_ids: Iterable[int]) -> "TableFilter":
        sector = params.get("sektor", "")
        sort = params.get("sort", "") or "name"
        descending = sort.startswith("-")
        sort = sort.removeprefix("-")
        return cls(
            q=params.get("q", "").strip()[:100],
            sector=int(sector) if sector.isdigit() and int(sector) in set(sector_ids) else None,
            kind=_choice(params.get("typ", ""), UnitKind.values),
            stage=_choice(params.get("steg", ""), Stage.values),
            status=_choice(params.get("status", ""), UnitStatus.values),
            attention=_choice(params.get("behov", ""), Attention.values),
            sort=sort if sort in SORT_KEYS else "name",
            descending=descending and sort in SORT_KEYS,
        )

    def apply(self, rows: Iterable[UnitRow], today: dt.date) -> list[UnitRow]:
        needle = self.q.casefold()
        selected = [
            row
            for row in rows
            if (not needle or needle in row.name.casefold())
            and (self.sector is None or row.sector_id == self.sector)
            and (not self.kind or row.kind == self.kind)
            and (not self.stage or row.stage == self.stage)
            and (not self.status or row.status == self.status)
            and (not self.attention or self.attention in attention_kind(row, today))
        ]
        without = _WITHOUT_VALUE.get(self.sort)
        if without is None:
            return sorted(selected, key=SORT_KEYS[self.sort], reverse=self.descending)
        return sorted(
            [row for row in selected if not without(row)],
            key=SORT_KEYS[self.sort],
            reverse=self.descending,
        ) + sorted([row for row in selected if without(row)], key=by_name)

    def params(self) -> dict[str, str]:
        """The filters as GET parameters (without sort), for links and exports."""
        values = {
            "q": self.q,
            "sektor": str(self.sector) if self.sector is not None else "",
            "typ": self.kind,
            "steg": self.stage,
            "status": self.status,
            "behov": self.attention,
        }
        return {key: value for key, value in values.items() if value}

    @property
    def sort_param(self) -> str:
        return f"-{self.sort}" if self.descending else self.sort

    @property
    def is_filtered(self) -> bool:
        return bool(self.params())


def _choice(value: str, allowed: Sequence[str]) -> str:
    return value if value in allowed else ""
