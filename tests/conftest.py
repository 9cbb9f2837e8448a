"""Shared fixtures. Every identity number here is one of Skatteverket's test numbers (IDENT-4)."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from celery import Task
from django.conf import settings
from django.core.management.base import BaseCommand
from django.core.signals import request_finished, request_started
from django.db import connection, connections
from pytest_django import DjangoDbBlocker

from patients.models import PatientIdentity
from tests.audit_log import access_log_cleared  # noqa: F401  (a fixture)
from tests.factories import UserFactory
from tests.personas import protected_identity_create

SHARED = Path(settings.BASE_DIR).parent / "shared"
SAMPLE_NAVET = SHARED / "specs" / "navet" / "sample-avisering.xml"


@pytest.fixture
def shared_dir() -> Path:
    if not (SHARED / "data" / "regions.csv").exists():
        pytest.fail(f"../shared is missing beside the project (looked in {SHARED})")
    return SHARED


@pytest.fixture
def protected() -> PatientIdentity:
    """The patient with protected identity (tests.personas.protected_identity_create)."""
    return protected_identity_create()


@pytest.fixture
def prescriber() -> Any:
    """Anna, a prescriber with no grant and no prescriber profile; a test module that needs a
    profile or a named unit defines its own ``prescriber``."""
    return UserFactory(username="anna", role="prescriber")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A reachable Redis, or a skip with the reason; under CI=true an unreachable Redis fails."""
    url: str = settings.REDIS_URL
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        message = f"Redis at {url} did not answer ({type(exc).__name__})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; CI requires Redis")
        pytest.skip(message)
    return url


@pytest.fixture(autouse=True)
def _transactional_tests_restore_what_the_migrations_loaded(request: pytest.FixtureRequest) -> None:
    """A transactional test ends with a flush that empties every table, the regions and content
    types the migrations loaded included. With ``serialized_rollback`` the next such test gets
    them back; without it the flush also recreates the content types under new ids, and the
    next test that restores them fails on duplicates. So every transactional test restores."""
    marker = request.node.get_closest_marker("django_db")
    kwargs = marker.kwargs if marker is not None else {}
    if kwargs.get("transaction", False) and not kwargs.get("serialized_rollback", False):
        pytest.fail(
            "a transactional test must restore the migrations' rows: use "
            "@pytest.mark.django_db(transaction=True, serialized_rollback=True)",
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def _access_log_cleared_after_transactional_tests(request: pytest.FixtureRequest) -> None:
    """The access log is append-only (AUDIT-2), so the flush after a transactional test could not
    truncate it; such tests empty it through the fixture in tests/audit_log.py first."""
    marker = request.node.get_closest_marker("django_db")
    if (
        (marker is not None and marker.kwargs.get("transaction", False))
        or "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
    ):
        request.getfixturevalue("access_log_cleared")


@pytest.fixture(autouse=True)
def audit_head_dir(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """AUDIT-2: each test's own export directory for the chain heads, so that a head the sealing
    task exported in one test is not what another test's verification compares against."""
    directory = tmp_path_factory.mktemp("audit-heads")
    settings.AUDIT_HEAD_EXPORT_DIR = directory
    return directory


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest,
    django_test_environment: None,
    django_db_blocker: DjangoDbBlocker,
    django_db_use_migrations: bool,
    django_db_keepdb: bool,
    django_db_createdb: bool,
    django_db_modify_db_settings: None,
) -> Iterator[None]:
    """The test database as production has it (docs/operations.md, "Database roles").

    The owner of the tables (alias ``owner``) creates and migrates it; the tests use it through
    the application role (alias ``default``), which owns nothing, so row-level security binds
    them as it binds the product. Django's own setup cannot do this: it creates and migrates
    through ``default``, and an alias with the same database name only shares the name.
    """
    if not django_db_use_migrations:
        pytest.fail(
            "--nomigrations cannot work here: row-level security and the application role's "
            "privileges come from migrations"
        )
    if "owner" not in settings.DATABASES:
        pytest.fail(
            "DATABASE_OWNER_URL must be set with DATABASE_URL: the test database is created "
            "and migrated by the role that owns the tables (docs/operations.md)"
        )
    owner, app = connections["owner"], connections["default"]
    verbosity = request.config.option.verbose
    app_name = app.settings_dict["NAME"]
    with django_db_blocker.unblock():
        owner.creation.create_test_db(
            verbosity=verbosity,
            autoclobber=True,
            keepdb=django_db_keepdb and not django_db_createdb,
            serialize=False,
        )
        app.close()
        app.creation.set_as_test_mirror(owner.settings_dict)
        with owner.cursor() as cursor:
            # A transactional test ends with Django's flush: TRUNCATE, through "default". The
            # product never truncates, so only the test database grants it.
            cursor.execute(
                "GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO "
                + owner.ops.quote_name(app.settings_dict["USER"])
            )
        # What the migrations loaded, for the tests that restore it after their flush
        # (serialized_rollback).
        app._test_serialized_contents = app.creation.serialize_db_to_string()
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            app.close()
            app.settings_dict["NAME"] = app_name
            owner.creation.destroy_test_db(app_name, verbosity=verbosity)


def _swap_context(value: str, *, local: bool) -> str:
    """Set ``hjm.context``, returning what it was. Straight on the session, so that tests
    counting their queries do not count this."""
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(current_setting('hjm.context', true), '')")
        row = cursor.fetchone()
        cursor.execute("SELECT set_config('hjm.context', %s, %s)", [value, local])
    return str(row[0]) if row is not None else ""


@pytest.fixture(autouse=True)
def _test_code_sees_every_patient(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """A test's own code runs in the system context; what it calls in through an entry point of
    the product (a request of the test client, a management command, a Celery task) runs
    without it, as in production.

    Row-level security (protection/migrations/0004_row_level_security.py) hides protected
    identities from the application role the tests connect as. A test's own code sets up data
    and looks at what the code under test did, as the system would. Around each entry point the
    context is dropped and given back after, so the product's queries are bound by the policy
    as in production: a request as its user (the middleware names it), a command or a task as
    nobody unless it enters the system context itself. tests/protection/test_rls.py drops the
    context for the whole test, to test the policies themselves.
    """
    if "_django_db_helper" not in request.fixturenames and not request.node.get_closest_marker(
        "django_db"
    ):
        yield
        return
    request.getfixturevalue("db")
    # In a test's transaction the setting is transaction-local and goes with its rollback; a
    # transactional test has none, so it is set for the session and reset at the end.
    local = connection.in_atomic_block
    thread = threading.get_ident()
    outside: list[str] = []

    def enter_product(**kwargs: Any) -> None:
        if threading.get_ident() == thread and not connection.needs_rollback:
            outside.append(_swap_context("", local=local))

    def leave_product(**kwargs: Any) -> None:
        if threading.get_ident() == thread and outside and not connection.needs_rollback:
            _swap_context(outside.pop(), local=local)

    def entry_point(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            enter_product()
            try:
                return function(*args, **kwargs)
            finally:
                leave_product()

        return run

    _swap_context("system", local=local)
    request_started.connect(enter_product, weak=False)
    request_finished.connect(leave_product, weak=False)
    monkeypatch.setattr(BaseCommand, "execute", entry_point(BaseCommand.execute))
    monkeypatch.setattr(Task, "__call__", entry_point(Task.__call__))
    try:
        yield
    finally:
        request_started.disconnect(enter_product)
        request_finished.disconnect(leave_product)
        if not local:
            _swap_context("", local=False)


@pytest.fixture
def owner_connection() -> Iterator[psycopg.Connection[Any]]:
    """A connection to the test database as the owner of the tables, for test support that
    must act as the owner (DDL, a trigger turned off for a moment), never for the code under
    test. Opened outside Django's connections, whose "owner" alias tests may not use; it
    commits when the test is done with it.
    """
    db = connections["owner"].settings_dict
    with psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
    ) as conn:
        yield conn
