"""Tell PostgreSQL who is asking, for every query of a request (ACCESS-1, LEAK-1).

The identifying tables are guarded by row-level security (this app's migration
0004_row_level_security): a row of a protected patient, or of a patient linked to one, is
visible only when the setting ``hjm.user_id`` names a user holding a grant or emergency access
in force for it. The gate still decides what a user sees; the policy is the second line, for a
raw query or a forgotten code path. This middleware keeps ``hjm.user_id`` equal to the
request's user.

Why not a transaction-local setting with ``ATOMIC_REQUESTS``: that transaction wraps the view
only. The middleware around it, the rendering of a ``TemplateResponse`` and anything else after
the view run in autocommit, where a transaction-local setting ends with each statement. (Nor is
``ATOMIC_REQUESTS`` on for other reasons: it would roll back the access entry of a request that
ends in an exception, AUDIT-1.) So the setting is session-level (``set_config(..., false)``),
applied by an execute wrapper around the whole request on the default connection: before the
request's first query, and again before any later query once it may be out of date, which is
when

- the user has changed: ``request.user`` is lazy and the wrapper never evaluates it (that
  would query the session from inside a query), so until something else does, the request
  counts as anonymous and sees the least; login and logout replace it;
- the connection is a new one (a reconnect starts a session without the setting);
- an atomic block that was open when it was applied has ended: rolling back that transaction
  or savepoint undoes a session-level setting made inside it, and nothing tells a rollback
  from a commit, so it is applied again either way.

When the response is done, the connection gets back the value it had before the request, so
nothing of the request reaches whatever uses the connection next; the next request applies its
own before its first query anyway. The content of a streaming response is produced after that
and runs as anonymous. Celery workers and management commands have no request: they run as
anonymous unless they enter ``protection.rls.system_context()``.

Session-level settings assume each client keeps its PostgreSQL session, as Django's persistent
connections do; a pooler in transaction mode (PgBouncer ``pool_mode = transaction``) would hand
the session to other clients and must not sit between the application and PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.transaction import Atomic
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import SimpleLazyObject, empty

logger = logging.getLogger(__name__)

Execute = Callable[[str, Any, bool, dict[str, Any]], Any]

# Savepoint statements read nothing, and one of them is the very rollback that may undo the
# setting: applying it before that statement would be undone with it, and then not again.
_SAVEPOINT_SQL = ("SAVEPOINT ", "ROLLBACK TO SAVEPOINT ", "RELEASE SAVEPOINT ")


def _is_savepoint_statement(sql: object) -> bool:
    # The last statement counts: another wrapper (pghistory's) may have put one before it.
    return isinstance(sql, str) and sql.rsplit(";", 1)[-1].lstrip().startswith(_SAVEPOINT_SQL)


@dataclass(frozen=True)
class _Applied:
    """What was last applied, on which session, while which atomic blocks were open."""

    session: Any  # the driver's connection: a new one means a new PostgreSQL session
    blocks: tuple[Atomic, ...]
    user_id: str


def _user_id(request: HttpRequest) -> str:
    """The request's user id as the policy reads it; empty for anonymous or not yet known."""
    user = getattr(request, "user", None)
    if user is None:
        return ""
    if isinstance(user, SimpleLazyObject) and user._wrapped is empty:
        return ""
    return str(user.pk) if user.is_authenticated else ""


class _RequestDatabaseUser:
    """The execute wrapper of one request on the default connection."""

    def __init__(self, request: HttpRequest, connection: BaseDatabaseWrapper) -> None:
        self.request = request
        self.connection = connection
        self.applied: _Applied | None = None
        # The connection's own value, captured before the first change, given back at the end.
        self.previous: str | None = None

    def __call__(
        self, execute: Execute, sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        if not _is_savepoint_statement(sql):
            self._apply()
        return execute(sql, params, many, context)

    def _apply(self) -> None:
        connection = self.connection
        session = connection.connection
        if session is None or connection.needs_rollback:
            # Nothing can run in a transaction marked for rollback; Django raises for the query.
            return
        blocks = tuple(connection.atomic_blocks)
        user_id = _user_id(self.request)
        applied = self.applied
        if (
            applied is not None
            and applied.session is session
            and applied.user_id == user_id
            and blocks[: len(applied.blocks)] == applied.blocks
        ):
            return
        with connection.wrap_database_errors, session.cursor() as cursor:
            if self.previous is None:
                cursor.execute("SELECT current_setting('hjm.user_id', true)")
                row = cursor.fetchone()
                self.previous = row[0] if row is not None and row[0] is not None else ""
            cursor.execute("SELECT set_config('hjm.user_id', %s, false)", [user_id])
        self.applied = _Applied(session=session, blocks=blocks, user_id=user_id)

    def restore(self) -> None:
        connection = self.connection
        session = connection.connection
        if self.previous is None or self.applied is None or session is not self.applied.session:
            # Nothing was set on the session the connection holds now.
            return
        if connection.needs_rollback:
            # Only inside an atomic block (never at the end of a request, but in a test): the
            # rollback that must follow undoes what was set in it.
            return
        try:
            with connection.wrap_database_errors, session.cursor() as cursor:
                cursor.execute("SELECT set_config('hjm.user_id', %s, false)", [self.previous])
        except DatabaseError:
            # The session must not keep this request's user: without it, it is closed.
            logger.warning("could not reset the database user of a request; closing the session")
            connection.close()


class DatabaseUserMiddleware:
    """Keeps PostgreSQL's ``hjm.user_id`` equal to ``request.user`` for the whole request.

    Sits after AuthenticationMiddleware, which gives the request its (lazy) user.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        connection = connections[DEFAULT_DB_ALIAS]
        database_user = _RequestDatabaseUser(request, connection)
        try:
            with connection.execute_wrapper(database_user):
                return self.get_response(request)
        finally:
            database_user.restore()
