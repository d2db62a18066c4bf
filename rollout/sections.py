"""The rollout part of the unit page (registered with units.sections at start-up)."""

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from rollout import board, next_steps, selectors, steps
from rollout.models import Step, StepStatus
from rollout.timeline import step_label, text
from units import access
from units.models import Role, Unit


def workspace_context(request: HttpRequest, unit: Unit) -> dict[str, Any]:
    space = selectors.workspace(unit=unit)
    states = {state.step: state for state in space.states}
    step_rows = []
    for step in Step:
        app = steps.get(step)
        state = states.get(step)
        step_rows.append(
            {
                "number": int(step),
                "label": step.label,
                "state": state,
                "status": state.get_status_display() if state else StepStatus.NOT_STARTED.label,
                "done": bool(state and state.status == StepStatus.DONE),
                "current": space.current_step == step,
                "url": reverse(app.page_url_name, args=[unit.pk])
                if app and app.page_url_name
                else None,
                "can_start_early": bool(
                    state and state.status == StepStatus.NOT_STARTED and space.current_step != step
                ),
            }
        )
    # An archived unit's rollout stands still: no reminders go out and nobody works with it, so
    # it has no next thing to do until it is restored.
    action = space.next_action if unit.is_active else None
    return {
        "space": space,
        "step_rows": step_rows,
        "next_action": action,
        "next_action_who": Role(action.who).label if action else "",
        "next_action_url": next_steps.action_url(
            user=request.user, unit=unit, action=action, facts=space.facts
        )
        if action
        else "",
        "more_actions": [
            {
                "action": more,
                "who": Role(more.who).label,
                "url": next_steps.action_url(
                    user=request.user, unit=unit, action=more, facts=space.facts
                ),
            }
            for more in (space.more_actions if unit.is_active else ())
        ],
        "timeline_rows": [(event, text(event), step_label(event)) for event in space.timeline],
        "is_coordinator": access.is_coordinator_of(request.user, unit.municipality_id),
        "can_write": access.can_write_unit(request.user, unit),
    }


def unit_list_values(units: Sequence[Unit]) -> dict[int, board.UnitRow]:
    """Where each unit on a manager's list of their own units stands (units.sections)."""
    return board.rows_for_units(units=units)
