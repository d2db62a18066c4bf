"""Step 2 as the engine's links see it: where each next action of the targeted training is done."""

from django.urls import reverse

from rollout.engine import NextAction


def web_course_action_url(unit_id: int, action: NextAction, facts: dict[str, object]) -> str | None:
    if action.code == "complete_web_course":
        # The button that closes step 1 (templates/training/web_course.html).
        return reverse("training:web_course", args=[unit_id]) + "#step-complete"
    return None  # reports are made on the step's page


def training_action_url(unit_id: int, action: NextAction, facts: dict[str, object]) -> str | None:
    if action.code == "book_training":
        return reverse("training:session_book", args=[unit_id])
    if action.code == "complete_training":
        # The button that closes step 2 (templates/training/targeted.html).
        return reverse("training:targeted", args=[unit_id]) + "#step-complete"
    return None  # held sessions are recorded from the step's page
