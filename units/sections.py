"""Sections that later apps add to the unit page (/units/<id>/).

`units` may not import the apps that build on it, so they register a section at start-up
(AppConfig.ready): a template and a function that gives its context for a request and a unit
the person may read. Sections are shown in the order of ``order``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from units.models import Unit

SectionContext = Callable[[HttpRequest, Unit], dict[str, Any]]


@dataclass(frozen=True)
class Section:
    template: str
    context: SectionContext
    order: int = 100


_sections: dict[str, Section] = {}


def register(section: Section) -> None:
    _sections[section.template] = section


def for_unit(request: HttpRequest, unit: Unit) -> list[tuple[str, dict[str, Any]]]:
    return [
        (section.template, section.context(request, unit))
        for section in sorted(_sections.values(), key=lambda s: s.order)
    ]
