"""The registry through which step apps tell the engine about their step.

The engine never imports a step app. At start-up (AppConfig.ready) each step app registers what
the engine and the unit page need: the step's own page and a batch function that reports facts
about many rollouts at once (one query per step, whatever the number of rollouts), which the
pure rules in rollout.engine use to decide the next action.
"""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rollout.engine import NextAction
from rollout.models import Rollout, Step

FactsFn = Callable[[Sequence[Rollout]], dict[int, dict[str, object]]]
# Lines for the coordinator's digest: (municipality ids, today) → short texts with a link.
DigestFn = Callable[[Sequence[int], dt.date], list["DigestItem"]]


@dataclass(frozen=True)
class DigestItem:
    section: str
    text: str
    url: str
    # Only coordinators can act on it (observers see the line without the link).
    coordinator_only: bool = False


@dataclass(frozen=True)
class Lesson:
    """What a unit learned and agreed to share with other units (for the board report)."""

    unit: str
    held_on: dt.date
    text: str


# A board report's period: its first and last day, both included.
Period = tuple[dt.date, dt.date]
# Shared lessons of the units of these municipalities, learnt in the period (all when None):
# (municipality ids, period) → lessons; one query.
LessonsFn = Callable[[Sequence[int], Period | None], list[Lesson]]
# Where a next action of the step is done: (unit id, the action, the step's facts) → the address
# of its form or page, for someone who may do it; None for the step's own page.
ActionUrlFn = Callable[[int, NextAction, dict[str, object]], str | None]


@dataclass(frozen=True)
class StepApp:
    step: Step
    page_url_name: str | None = None  # reversed with the unit's pk
    facts: FactsFn | None = None
    # Called by the engine when the step becomes under way (e.g. step 4 creates its follow-ups).
    on_start: Callable[[Rollout], None] | None = None
    digest: DigestFn | None = None
    # Extra lines for the dashboard's "needs attention" that unit rows cannot show (e.g. failed
    # reminders): (municipality ids, today) → items; one or two queries whatever the size.
    attention: DigestFn | None = None
    lessons: LessonsFn | None = None
    action_url: ActionUrlFn | None = None


_registry: dict[int, StepApp] = {}


def register(step_app: StepApp) -> None:
    _registry[int(step_app.step)] = step_app


def get(step: int) -> StepApp | None:
    return _registry.get(int(step))


def facts_for(rollouts: Sequence[Rollout]) -> dict[int, dict[int, dict[str, object]]]:
    """{rollout id: {step: facts}} for every registered step."""
    result: dict[int, dict[int, dict[str, object]]] = {r.pk: {} for r in rollouts}
    if not rollouts:
        return result
    for step, app in _registry.items():
        if app.facts is None:
            continue
        for rollout_id, facts in app.facts(rollouts).items():
            result.setdefault(rollout_id, {})[step] = facts
    return result


def started(rollout: Rollout, step: int) -> None:
    app = _registry.get(int(step))
    if app is not None and app.on_start is not None:
        app.on_start(rollout)


def attention_items(municipality_ids: Sequence[int], today: dt.date) -> list[DigestItem]:
    items: list[DigestItem] = []
    for step in sorted(_registry):
        fn = _registry[step].attention
        if fn is not None:
            items += fn(municipality_ids, today)
    return items


def digest_items(municipality_ids: Sequence[int], today: dt.date) -> list[DigestItem]:
    items: list[DigestItem] = []
    for step in sorted(_registry):
        fn = _registry[step].digest
        if fn is not None:
            items += fn(municipality_ids, today)
    return items


def shared_lessons(
    municipality_ids: Sequence[int], *, period: Period | None = None
) -> list[Lesson]:
    """Every step app's shared lessons (of the period, when given), newest first."""
    lessons: list[Lesson] = []
    for step in sorted(_registry):
        fn = _registry[step].lessons
        if fn is not None:
            lessons += fn(municipality_ids, period)
    return sorted(lessons, key=lambda lesson: lesson.held_on, reverse=True)
