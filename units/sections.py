"""Sections that later apps add to the unit page (/units/<id>/).

`units` may not import the apps that build on it, so they register a section at start-up
(AppConfig.ready): a template and a function that gives its context for a request and a unit
the person may read. Sections are shown in the order of ``order``.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.functional import Promise

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


# --- Columns of a unit manager's list of their own units (units:list) -------------------------

# (the units on the page) → a value per unit id, which the column's template shows as ``value``;
# a fixed number of queries whatever the number of units.
ListValues = Callable[[Sequence[Unit]], dict[int, Any]]


@dataclass(frozen=True)
class ListColumns:
    """Cells that a later app adds to each row of a manager's unit list: ``headings`` name the
    columns, ``template`` draws one <td> for each of them from ``value`` and ``unit``."""

    headings: tuple[str | Promise, ...]
    template: str
    values: ListValues
    order: int = 100


_list_columns: dict[str, ListColumns] = {}


def register_list_columns(columns: ListColumns) -> None:
    _list_columns[columns.template] = columns


def list_columns() -> list[ListColumns]:
    return sorted(_list_columns.values(), key=lambda c: c.order)


def for_unit_list(units: Sequence[Unit]) -> list[tuple[Unit, list[tuple[str, Any]]]]:
    """Each unit with its added cells: (template, value) per registered set of columns."""
    values = [(columns.template, columns.values(units)) for columns in list_columns()]
    return [
        (unit, [(template, found.get(unit.pk)) for template, found in values]) for unit in units
    ]
