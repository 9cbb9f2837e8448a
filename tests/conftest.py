"""Shared fixtures. Every identity number here is one of Skatteverket's test numbers (IDENT-4)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import redis
from django.conf import settings

from tests.audit_log import access_log_cleared  # noqa: F401  (a fixture)

SHARED = Path(settings.BASE_DIR).parent / "shared"
SAMPLE_NAVET = SHARED / "specs" / "navet" / "sample-avisering.xml"


@pytest.fixture
def shared_dir() -> Path:
    if not (SHARED / "data" / "regions.csv").exists():
        pytest.fail(f"../shared is missing beside the project (looked in {SHARED})")
    return SHARED


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
