"""Querysets compiled to SQL once per process and run with a new id each time.

The device card's own query carries six subqueries (its open incident and five JSON lists);
building that queryset and compiling it to SQL cost Django more than a quarter of each card
request (docs/performance.md, "Logistics"), although only the device's id changes from one
request to the next. A ``PreparedQuery`` builds the queryset once, with a placeholder id,
compiles it once per database connection, and afterwards only swaps the id into the compiled
parameters, runs the SQL on the connection's cursor (so the query counts, the debug cursor,
the execute wrappers and row-level security see it as any other) and builds the instances
as Django's own ``ModelIterable`` does, related objects from ``select_related`` and
annotations included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar
from weakref import WeakKeyDictionary

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.sql.compiler import SQLCompiler

M = TypeVar("M", bound=Model)

# Stands for the id in the compiled parameters: a value no table's key takes, so that it is
# found in exactly one place.
PLACEHOLDER: Final = -7_919_311_173


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    slot: int
    compiler: SQLCompiler
    init_list: list[str]
    model_start: int
    model_end: int
    populators: list[Any]
    annotations: dict[str, int]


class PreparedQuery(Generic[M]):
    """``build(PLACEHOLDER)`` is the queryset (built on first use, once); ``rows(id)`` runs
    it for that id."""

    def __init__(self, build: Callable[[int], QuerySet[M]]) -> None:
        self._build = build
        self._queryset: QuerySet[M] | None = None
        # Per connection: the compiler's converters hold their connection's operations, and
        # each thread has a connection of its own.
        self._compiled: WeakKeyDictionary[BaseDatabaseWrapper, _Compiled] = WeakKeyDictionary()

    def _compile(self, queryset: QuerySet[M], connection: BaseDatabaseWrapper) -> _Compiled:
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        slots = [index for index, value in enumerate(params) if value == PLACEHOLDER]
        if len(slots) != 1:
            raise ValueError(f"the placeholder id is in {len(slots)} parameters, not one")
        klass_info = compiler.klass_info
        assert klass_info is not None  # a model queryset selects its model's fields
        select = compiler.select
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        return _Compiled(
            sql=sql,
            params=tuple(params),
            slot=slots[0],
            compiler=compiler,
            init_list=[column[0].target.attname for column in select[start:end]],
            model_start=start,
            model_end=end,
            # The stubs follow a newer Django, whose populators also take a fetch mode.
            populators=get_related_populators(klass_info, select, connection.alias),  # type: ignore[call-arg]
            annotations=dict(compiler.annotation_col_map or {}),
        )

    def rows(self, id_: int) -> list[M]:
        if self._queryset is None:
            self._queryset = self._build(PLACEHOLDER)
        queryset = self._queryset
        connection = connections[queryset.db]
        compiled = self._compiled.get(connection)
        if compiled is None:
            compiled = self._compiled[connection] = self._compile(queryset, connection)
        params: list[Any] = list(compiled.params)
        params[compiled.slot] = id_
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            fetched: list[Any] = list(cursor.fetchall())
        model = queryset.model
        found = []
        for row in compiled.compiler.results_iter(results=[fetched]):
            instance = model.from_db(
                connection.alias,
                compiled.init_list,
                row[compiled.model_start : compiled.model_end],
            )
            for populator in compiled.populators:
                populator.populate(row, instance)
            for name, position in compiled.annotations.items():
                setattr(instance, name, row[position])
            found.append(instance)
        return found
