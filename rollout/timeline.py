"""The sentences of the timeline, produced when shown so they follow the reader's language."""

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from rollout.models import Step, TimelineEvent

_TEXTS: dict[str, Callable[[dict[str, Any]], str]] = {
    "rollout.started": lambda p: _("Införandet startade (omgång %(round)s).") % p,
    "rollout.requested": lambda p: _("Enheten bad om att få delta i modellen.") % p,
    "rollout.accepted": lambda p: _("Förfrågan godtogs och införandet startade.") % p,
    "rollout.declined": lambda p: _("Förfrågan avböjdes: %(reason)s") % p,
    "rollout.paused": lambda p: _("Införandet pausades: %(reason)s") % p,
    "rollout.resumed": lambda p: _("Införandet återupptogs.") % p,
    "rollout.completed": lambda p: _("Alla fyra steg är klara.") % p,
    "rollout.checkin": lambda p: _("Inget nytt sedan sist.") % p,
    "step.started": lambda p: _("Steget påbörjades.") % p,
    "step.started_early": lambda p: _("Steget påbörjades före föregående steg: %(reason)s") % p,
    "step.completed": lambda p: _("Steget markerades som klart.") % p,
}


def register_texts(texts: dict[str, Callable[[dict[str, Any]], str]]) -> None:
    """Step apps add the sentences for their own event kinds at start-up."""
    _TEXTS.update(texts)


def text(event: TimelineEvent) -> str:
    render = _TEXTS.get(event.kind)
    if render is None:
        return event.kind
    try:
        return str(render(event.params))
    except (KeyError, TypeError, ValueError):
        return event.kind


def step_label(event: TimelineEvent) -> str:
    return str(Step(event.step).label) if event.step else ""
