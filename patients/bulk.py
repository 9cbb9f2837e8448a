"""Thousands of rows written in one statement, for every floor (house style 3, set-based).

Django's ``bulk_create`` and ``bulk_update`` build one SQL fragment and one parameter per value:
for 5 000 order lines that is seconds of Python (compiling the values, a CASE branch per row,
the driver splitting a statement of 100 000 placeholders) before the database sees anything.
Here each column goes as one array parameter: ``INSERT ... SELECT FROM unnest(...)`` and
``UPDATE ... WHERE id = ANY(...)``. The statements run on the request's connection, so row-level
security, triggers and the database's defaults (``db_default``) apply as they do to the ORM's.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models.expressions import DatabaseDefault

M = TypeVar("M", bound=models.Model)


def _quoted(name: str | None) -> str:
    if not name:
        raise ValueError("no column name")
    return connection.ops.quote_name(name)


def _field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return field


def _plain(value: Any) -> Any:
    # A choice (``LineState.ALLOCATED``) goes as its value: the driver would send an enum's name.
    return value.value if isinstance(value, enum.Enum) else value


def rows_insert(model: type[models.Model], columns: Mapping[str, Sequence[Any]]) -> int:
    """Insert one row per position of ``columns`` (field name or attname -> its values, all of
    the same length), in one statement; a column left out takes its database default. Nothing
    is returned (no instances): for rows the caller does not read back."""
    fields = [_field(model, name) for name in columns]
    lengths = {len(values) for values in columns.values()}
    if len(lengths) != 1:
        raise ValueError("rows_insert: the columns differ in length")
    if not lengths.pop():
        return 0
    names = ", ".join(_quoted(field.column) for field in fields)
    arrays = ", ".join(f"%s::{_array_type(field)}" for field in fields)
    # Only the model's own (quoted) names are formatted in; every value is a parameter.
    sql = f"INSERT INTO {_quoted(model._meta.db_table)} ({names}) SELECT * FROM unnest({arrays})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [[_plain(value) for value in values] for values in columns.values()],
        )
        return int(cursor.rowcount)


def ids_update(
    model: type[models.Model],
    ids: Sequence[int],
    values: Mapping[str, Any],
    *,
    where: Mapping[str, Any] | None = None,
) -> int:
    """``UPDATE ... SET values WHERE pk = ANY(ids) AND where`` (equalities): the number of rows
    updated, for the caller to check (a conditional move of many rows at once)."""
    if not ids:
        return 0
    meta = model._meta

    def column(name: str) -> str:
        return _quoted(_field(model, name).column)

    sets = ", ".join(f"{column(name)} = %s" for name in values)
    conditions = [f"{column(meta.pk.name)} = ANY(%s)"]
    conditions += [f"{column(name)} = %s" for name in where or {}]
    sql = f"UPDATE {_quoted(meta.db_table)} SET {sets} WHERE {' AND '.join(conditions)}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                *map(_plain, values.values()),
                list(ids),
                *map(_plain, (where or {}).values()),
            ],
        )
        return int(cursor.rowcount)


def instances_insert(objs: list[M]) -> list[M]:
    """``bulk_create`` of new instances of one model with plain columns (no JSON), one array
    per column: each instance gets its primary key and its database defaults back, as from
    ``bulk_create``. The columns left at their database default are those of the first."""
    if not objs:
        return objs
    model = type(objs[0])
    first = objs[0]
    concrete = [field for field in model._meta.concrete_fields if not field.primary_key]
    written = [f for f in concrete if not isinstance(getattr(first, f.attname), DatabaseDefault)]
    returned = [model._meta.pk, *(f for f in concrete if f not in written)]
    names = ", ".join(_quoted(field.column) for field in written)
    arrays = ", ".join(f"%s::{_array_type(field)}" for field in written)
    back = ", ".join(_quoted(field.column) for field in returned if field is not None)
    sql = (
        f"INSERT INTO {_quoted(model._meta.db_table)} ({names}) "  # noqa: S608
        f"SELECT * FROM unnest({arrays}) RETURNING {back}"
    )
    params = [
        [_plain(field.get_prep_value(getattr(obj, field.attname))) for obj in objs]
        for field in written
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if len(rows) != len(objs):
        raise RuntimeError(f"instances_insert: {len(rows)} rows for {len(objs)} instances")
    # Postgres returns the rows of an INSERT ... SELECT in the order selected (Django's own
    # bulk_create over unnest relies on it too).
    for obj, row in zip(objs, rows, strict=True):
        for field, value in zip(returned, row, strict=True):
            if field is not None:
                setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


def _array_type(field: Any) -> str:
    """The array type a column's values are sent as, without a length: a cast to varchar(n)
    cuts a longer text silently, while the insert into the column itself refuses it ("value
    too long"), as Django's own bulk_create keeps it."""
    return f"{str(field.db_type(connection)).split('(')[0]}[]"
