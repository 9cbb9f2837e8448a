"""Querysets compiled to SQL once per process and run with a new key each time.

A page's own queries are the same from one request to the next but for one value (the device's
id on the device card, the prescription's number and id on the prescription page), yet Django
builds each queryset and compiles it to SQL again for every request: on the device card that
was more than a quarter of the request (docs/performance.md, "Logistics"). A ``PreparedQuery``
builds the queryset once, with a placeholder key, compiles it once per database connection, and
afterwards only swaps the key into the compiled parameters, runs the SQL on the connection's
cursor (so the query counts, the debug cursor, the execute wrappers and row-level security see
it as any other) and builds the instances as Django's own ``ModelIterable`` does, related
objects from ``select_related`` and annotations included. ``PreparedQuery`` takes an integer
key (an id), ``PreparedTextQuery`` a text one (a number such as a prescription's).

The SQL is also a server-side prepared statement (``PREPARE`` once per database session, then
``EXECUTE`` with the key): PostgreSQL took about 2.4 ms to plan the card's device query and
1 ms to run it, and a prepared statement is planned once its generic plan is known to be as
good, after a few executions. The other parameters are constants of the queryset, so they are
written into the statement as literals and only the key is its parameter. Row-level security
stays exact: its policies read the request's user from a setting when the statement runs, and
PostgreSQL plans again when the role changes. A session pooler in transaction mode would lose
the statements between transactions (docs/operations.md says to pool by session).

It lives on the lowest floor because it is the database's plumbing, not a rule of any floor:
every floor may use it.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Generic, TypeVar
from weakref import WeakKeyDictionary

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.sql.compiler import SQLCompiler

M = TypeVar("M", bound=Model)
K = TypeVar("K", int, str)

# Stand for the key in the compiled parameters: values no table's key or number takes, so that
# each is found in exactly one place.
PLACEHOLDER: Final = -7_919_311_173
TEXT_PLACEHOLDER: Final = "hjm-prepared-key-7919311173"

# Names of the prepared statements: unique within the process, so within every session.
_names = itertools.count(1)


@dataclass(frozen=True)
class _Compiled:
    # The statement to prepare: the SQL with its constants as literals and the id as $1.
    prepared_sql: str
    compiler: SQLCompiler
    init_list: list[str]
    model_start: int
    model_end: int
    populators: list[Any]
    annotations: dict[str, int]


class _Prepared(Generic[M, K]):
    """``build(placeholder)`` is the queryset (built on first use, once); ``rows(key)`` runs
    it for that key."""

    placeholder: ClassVar[Any]
    # The key's type in the prepared statement, and the placeholder as the SQL writes it.
    sql_type: ClassVar[str]
    sql_placeholder: ClassVar[str]

    def __init__(self, build: Callable[[K], QuerySet[M]]) -> None:
        self._build: Callable[[K], QuerySet[M]] = build
        self._queryset: QuerySet[M] | None = None
        # Per connection: the compiler's converters hold their connection's operations, and
        # each thread has a connection of its own.
        self._compiled: WeakKeyDictionary[BaseDatabaseWrapper, _Compiled] = WeakKeyDictionary()
        self._prefix = f"hjm_prepared_{next(_names)}"
        # Per database session (the driver's connection; Django opens a new one after a
        # close): the name of the statement prepared there.
        self._sessions: WeakKeyDictionary[Any, str] = WeakKeyDictionary()

    def _compile(self, queryset: QuerySet[M], connection: BaseDatabaseWrapper) -> _Compiled:
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        slots = [index for index, value in enumerate(params) if value == self.placeholder]
        if len(slots) != 1:
            raise ValueError(f"the placeholder key is in {len(slots)} parameters, not one")
        # The constants as the driver quotes them; the placeholder's literal becomes $1.
        # compose_sql is PostgreSQL's (the product runs on PostgreSQL only).
        literal = connection.ops.compose_sql(sql, params)  # type: ignore[attr-defined]
        if literal.count(self.sql_placeholder) != 1:
            raise ValueError("the placeholder key is not in the SQL exactly once")
        klass_info = compiler.klass_info
        assert klass_info is not None  # a model queryset selects its model's fields
        select = compiler.select
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        return _Compiled(
            prepared_sql=literal.replace(self.sql_placeholder, "$1"),
            compiler=compiler,
            init_list=[column[0].target.attname for column in select[start:end]],
            model_start=start,
            model_end=end,
            # The stubs follow a newer Django, whose populators also take a fetch mode.
            populators=get_related_populators(klass_info, select, connection.alias),  # type: ignore[call-arg]
            annotations=dict(compiler.annotation_col_map or {}),
        )

    def rows(self, key: K) -> list[M]:
        if self._queryset is None:
            self._queryset = self._build(self.placeholder)
        queryset = self._queryset
        connection = connections[queryset.db]
        compiled = self._compiled.get(connection)
        if compiled is None:
            compiled = self._compiled[connection] = self._compile(queryset, connection)
        fetched = self._execute(connection, compiled, key)
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

    def _execute(self, connection: BaseDatabaseWrapper, compiled: _Compiled, key: K) -> list[Any]:
        """The rows for ``key``: ``EXECUTE`` of the session's prepared statement, prepared in
        the same round trip the first time (the client-side binding cursor sends the
        statements as one string)."""
        connection.ensure_connection()
        session = connection.connection
        name = self._sessions.get(session)
        if name is None:
            # A name of this session's own: a server session handed on by a pooler, or a
            # statement left behind by a failure, can never collide with it.
            name = f"{self._prefix}_{secrets.token_hex(4)}"
            # The literals may hold a %, which the driver would read as a parameter's mark.
            prepare = f"PREPARE {name}({self.sql_type}) AS {compiled.prepared_sql}"
            prepare = prepare.replace("%", "%%")
            sql = f"{prepare}; EXECUTE {name}(%s)"
        else:
            sql = f"EXECUTE {name}(%s)"
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, [key])
                # Ours is the last result (after the PREPARE, or after what another execute
                # wrapper put before it: pghistory's context).
                while cursor.nextset():
                    pass
                fetched: list[Any] = list(cursor.fetchall())
        except Exception:
            # Whether the statement exists is unknown now: the next query prepares a new one.
            self._sessions.pop(session, None)
            raise
        self._sessions[session] = name
        return fetched


class PreparedQuery(_Prepared[M, int]):
    """Keyed by an id."""

    placeholder = PLACEHOLDER
    sql_type = "bigint"
    sql_placeholder = str(PLACEHOLDER)


class PreparedTextQuery(_Prepared[M, str]):
    """Keyed by a text (a number such as a prescription's)."""

    placeholder = TEXT_PLACEHOLDER
    sql_type = "text"
    # As the driver quotes it (the placeholder holds nothing that needs escaping).
    sql_placeholder = f"'{TEXT_PLACEHOLDER}'"
