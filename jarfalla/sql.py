"""Single-row writes without the ORM's per-call SQL building, for the writes on hot paths.

Django builds an INSERT's or UPDATE's SQL anew on every save: on the bench machine that is about
half a millisecond of Python per statement, several times what PostgreSQL needs to run it (see
docs/performance.md). Here a statement is built once per model and list of fields, from the
model's own metadata, and every value goes through its field's own conversion to the database
(``get_db_prep_save``), as the ORM does. Validation, signals and ``auto_now`` fields stay the
caller's business: use these only where the service has done those already.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from django.db import connection, models


def _quote(name: str | None) -> str:
    assert name is not None  # every concrete field has a column
    return connection.ops.quote_name(name)


def _fields(model: type[models.Model], names: Sequence[str]) -> tuple[models.Field[Any, Any], ...]:
    # get_field finds "unit_id" as well as "unit"; either way the column is the field's.
    return tuple(model._meta.get_field(name) for name in names)  # type: ignore[misc]


@cache
def _insert_sql(
    vendor: str, model: type[models.Model], names: tuple[str, ...]
) -> tuple[str, tuple[models.Field[Any, Any], ...]]:
    fields = _fields(model, names)
    columns = ", ".join(_quote(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    pk = _quote(model._meta.pk.column)  # type: ignore[union-attr]
    table = _quote(model._meta.db_table)
    # Only quoted names from the model's metadata go into the text; values are parameters.
    return f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {pk}", fields  # noqa: S608


@cache
def _update_sql(
    vendor: str, model: type[models.Model], names: tuple[str, ...]
) -> tuple[str, tuple[models.Field[Any, Any], ...]]:
    fields = _fields(model, names)
    assignments = ", ".join(f"{_quote(field.column)} = %s" for field in fields)
    pk = _quote(model._meta.pk.column)  # type: ignore[union-attr]
    table = _quote(model._meta.db_table)
    # Only quoted names from the model's metadata go into the text; values are parameters.
    return f"UPDATE {table} SET {assignments} WHERE {pk} = %s", fields  # noqa: S608


def _values(fields: Sequence[models.Field[Any, Any]], values: Iterable[Any]) -> list[Any]:
    return [
        field.get_db_prep_save(value, connection)
        for field, value in zip(fields, values, strict=True)
    ]


def insert(model: type[models.Model], **values: Any) -> Any:
    """INSERT one row of ``model`` with these field values; returns its primary key."""
    sql, fields = _insert_sql(connection.vendor, model, tuple(values))
    with connection.cursor() as cursor:
        cursor.execute(sql, _values(fields, values.values()))
        return cursor.fetchone()[0]


def update(model: type[models.Model], pk: Any, **values: Any) -> bool:
    """UPDATE the row of ``model`` with primary key ``pk``; False if there is no such row."""
    sql, fields = _update_sql(connection.vendor, model, tuple(values))
    with connection.cursor() as cursor:
        cursor.execute(sql, [*_values(fields, values.values()), pk])
        return cursor.rowcount == 1
