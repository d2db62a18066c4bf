"""Reads for the unit workspace (and later the dashboard), scoped through units.access."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from rollout import engine, steps
from rollout.models import OPEN_STATUSES, Rollout, RolloutStatus, StepState, TimelineEvent
from units.models import Municipality, Unit

TIMELINE_LENGTH = 30


# (step, status, started_at, completed_at) of one StepState, read as plain values: the dashboard
# reads thousands, and model instances were most of its time.
StateRow = tuple[int, str, dt.datetime | None, dt.datetime | None]


def snapshot_of(
    *,
    rollout: Rollout,
    states: Sequence[StateRow],
    facts: dict[int, dict[str, object]],
    municipality: Municipality,
    tz: dt.tzinfo,
    today: dt.date | None = None,
) -> engine.RolloutSnapshot:
    """What the engine's pure rules need of one rollout (on ``today``, else the current day)."""
    return engine.RolloutSnapshot(
        status=rollout.status,
        steps={
            step: engine.StepSnapshot(
                status=status,
                started_on=started.astimezone(tz).date() if started else None,
                completed_on=completed.astimezone(tz).date() if completed else None,
            )
            for step, status, started, completed in states
        },
        started_on=rollout.started_at.astimezone(tz).date() if rollout.started_at else None,
        followup_offsets_months=tuple(municipality.followup_offsets_months),
        facts=facts,
        web_course_threshold=municipality.web_course_threshold_percent / 100,
        today=today or timezone.localtime(timezone.now(), tz).date(),
    )


def snapshot(
    *, rollout: Rollout, states: list[StepState], facts: dict[int, dict[str, object]]
) -> engine.RolloutSnapshot:
    return snapshot_of(
        rollout=rollout,
        states=[(s.step, s.status, s.started_at, s.completed_at) for s in states],
        facts=facts,
        municipality=rollout.unit.municipality,
        tz=timezone.get_current_timezone(),
    )


@dataclass(frozen=True)
class Workspace:
    rollout: Rollout | None
    states: list[StepState]
    current_step: int | None
    next_action: engine.NextAction | None
    facts: dict[int, dict[str, object]]
    earlier_rounds: list[Rollout]
    timeline: list[TimelineEvent]
    timeline_total: int
    # What the later steps the coordinator started early wait for (engine.open_actions).
    more_actions: tuple[engine.NextAction, ...] = ()


def shown_round(rounds: Sequence[Rollout]) -> Rollout | None:
    """The round a unit is shown by, from its rounds newest first: the open one; else the latest
    that was not declined (a request for a new round that was declined must not hide the round
    the unit completed); else the latest."""
    return (
        next((r for r in rounds if r.status in OPEN_STATUSES), None)
        or next((r for r in rounds if r.status != RolloutStatus.DECLINED), None)
        or (rounds[0] if rounds else None)
    )


def workspace(*, unit: Unit) -> Workspace:
    """Everything the unit page shows about the rollout, in a fixed number of queries."""
    rounds = list(
        Rollout.objects.filter(unit=unit).select_related("unit__municipality").order_by("-round")
    )
    current = shown_round(rounds)
    states = (
        list(StepState.objects.filter(rollout=current).select_related("completed_by"))
        if current
        else []
    )
    facts = steps.facts_for([current])[current.pk] if current else {}
    snap = snapshot(rollout=current, states=states, facts=facts) if current else None
    events = TimelineEvent.objects.filter(unit=unit).select_related("actor")
    actions = engine.open_actions(snap) if snap else []
    return Workspace(
        rollout=current,
        states=states,
        current_step=engine.current_step(snap) if snap and current and current.is_open else None,
        next_action=actions[0] if actions else None,
        facts=facts,
        earlier_rounds=[r for r in rounds if r is not current],
        timeline=list(events[:TIMELINE_LENGTH]),
        timeline_total=events.count(),
        more_actions=tuple(actions[1:]),
    )


def next_action(*, unit: Unit) -> tuple[engine.NextAction | None, dict[int, dict[str, object]]]:
    """The unit's one next action (as on its page) and the facts it was decided from."""
    current = shown_round(
        list(
            Rollout.objects.filter(unit=unit)
            .select_related("unit__municipality")
            .order_by("-round")
        )
    )
    if current is None:
        return None, {}
    states = list(StepState.objects.filter(rollout=current))
    facts = steps.facts_for([current])[current.pk]
    return engine.next_action(snapshot(rollout=current, states=states, facts=facts)), facts


def open_rollout(*, unit: Unit) -> Rollout | None:
    rollout = Rollout.objects.filter(unit=unit, status__in=OPEN_STATUSES).first()
    if rollout is not None:
        # The caller's unit (read with its municipality by units.access) instead of joining
        # both again: this runs on every step page and report.
        rollout.unit = unit
    return rollout


def timeline(*, unit: Unit) -> QuerySet[TimelineEvent]:
    return TimelineEvent.objects.filter(unit=unit).select_related("actor")
