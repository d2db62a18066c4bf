"""Reads for the unit workspace (and later the dashboard), scoped through units.access."""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from rollout import engine, steps
from rollout.models import OPEN_STATUSES, Rollout, StepState, TimelineEvent
from units.models import Unit

TIMELINE_LENGTH = 30


def snapshot(
    *, rollout: Rollout, states: list[StepState], facts: dict[int, dict[str, object]]
) -> engine.RolloutSnapshot:
    municipality = rollout.unit.municipality
    return engine.RolloutSnapshot(
        status=rollout.status,
        steps={
            state.step: engine.StepSnapshot(
                status=state.status,
                started_on=timezone.localdate(state.started_at) if state.started_at else None,
                completed_on=state.completed_on,
            )
            for state in states
        },
        started_on=timezone.localdate(rollout.started_at) if rollout.started_at else None,
        followup_offsets_months=tuple(municipality.followup_offsets_months),
        facts=facts,
        web_course_threshold=municipality.web_course_threshold_percent / 100,
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


def workspace(*, unit: Unit) -> Workspace:
    """Everything the unit page shows about the rollout, in a fixed number of queries."""
    rounds = list(
        Rollout.objects.filter(unit=unit).select_related("unit__municipality").order_by("-round")
    )
    current = next((r for r in rounds if r.status in OPEN_STATUSES), rounds[0] if rounds else None)
    states = (
        list(StepState.objects.filter(rollout=current).select_related("completed_by"))
        if current
        else []
    )
    facts = steps.facts_for([current])[current.pk] if current else {}
    snap = snapshot(rollout=current, states=states, facts=facts) if current else None
    events = TimelineEvent.objects.filter(unit=unit).select_related("actor")
    return Workspace(
        rollout=current,
        states=states,
        current_step=engine.current_step(snap) if snap and current and current.is_open else None,
        next_action=engine.next_action(snap) if snap else None,
        facts=facts,
        earlier_rounds=[r for r in rounds if r is not current],
        timeline=list(events[:TIMELINE_LENGTH]),
        timeline_total=events.count(),
    )


def open_rollout(*, unit: Unit) -> Rollout | None:
    return (
        Rollout.objects.filter(unit=unit, status__in=OPEN_STATUSES)
        .select_related("unit__municipality")
        .first()
    )


def timeline(*, unit: Unit) -> QuerySet[TimelineEvent]:
    return TimelineEvent.objects.filter(unit=unit).select_related("actor")
