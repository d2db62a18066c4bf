"""The Board reads every active unit of a municipality (for the dashboard, the regional summaries
of every municipality, the board report). Every list made from its rows sorts them itself (the
unit table, the attention lists, the report), so the read must not sort all the units in the
database by their Swedish name (the models' default order) for nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rollout import board
from tests.factories import UnitFactory
from units.models import Municipality


@pytest.mark.django_db
def test_the_boards_read_of_all_units_is_not_sorted_by_the_database(
    municipality: Municipality,
) -> None:
    for name in ("Östra skolan", "Ängens förskola", "Ålgården", "Björkens fritids"):
        UnitFactory.create(municipality=municipality, name=name)

    with CaptureQueriesContext(connection) as queries:
        rows = board.unit_rows(municipality=municipality)

    unit_reads = [q["sql"] for q in queries if 'FROM "units_unit"' in q["sql"].split("WHERE")[0]]
    assert unit_reads, "the units were not read"
    assert all("ORDER BY" not in sql for sql in unit_reads), unit_reads
    # The lists shown still come in Swedish alphabetical order: they sort the rows themselves.
    shown = board.TableFilter().apply(rows, board.timezone.localdate())
    assert [row.name for row in shown] == [
        "Björkens fritids",
        "Ålgården",
        "Ängens förskola",
        "Östra skolan",
    ]
