"""What archiving a unit stops, in the apps that build on units.

An archived unit gets no reminders and no new work, but what was already on its way about it
(mail waiting in the outbox) belongs to apps that `units` may not import. They register at
start-up (AppConfig.ready or their receivers) what they stop: how many are waiting now, for the
confirmation page, and the function that stops them, run by units.services.unit_set_archived in
the transaction that archives the unit. Restoring the unit brings nothing back by itself.
"""

from collections.abc import Callable
from dataclasses import dataclass

from units.models import Unit, User


@dataclass(frozen=True)
class Consequence:
    """One kind of thing that archiving stops, counted, in words."""

    count: int
    text: str


@dataclass(frozen=True)
class Stop:
    """``waiting(unit)``: how many archiving would stop now, without changing anything;
    ``stop(unit, actor)``: stop them, inside the archiving transaction (``actor``: the
    coordinator, for the audit trail), and say how many it stopped;
    ``will``/``did``: those counts in words ("3 utskick som väntar stoppas", "… stoppades"),
    in the active language."""

    waiting: Callable[[Unit], int]
    stop: Callable[[Unit, User], int]
    will: Callable[[int], str]
    did: Callable[[int], str]
    order: int = 100


_stops: dict[str, Stop] = {}


def register(name: str, stop: Stop) -> None:
    _stops[name] = stop


def registered() -> list[Stop]:
    return sorted(_stops.values(), key=lambda s: s.order)
