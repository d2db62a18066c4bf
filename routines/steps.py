"""Step 3 as the engine's links see it: where each next action of the routine is done."""

from django.urls import reverse

from rollout.engine import NextAction


def routine_action_url(unit_id: int, action: NextAction, facts: dict[str, object]) -> str | None:
    if action.code == "write_routine" and facts.get("started"):
        return reverse("routines:edit", args=[unit_id])
    if action.code == "implement_routine":
        return reverse("routines:implement", args=[unit_id])
    return None  # starting and approving are done on the routine's page
