"""Real-browser fixtures: Debian's Chromium driven by Playwright, and axe-core for accessibility.

Nothing is downloaded at test time: Chromium is the Debian package (``make system-deps``) and
axe-core comes from ``tests/browser/package-lock.json`` (``make install`` runs ``npm ci``).
When either is missing the tests skip with the reason, and fail under ``CI=true``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from pytest_django import DjangoDbBlocker
    from pytest_django.live_server_helper import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
# The background-networking flags keep Chromium from calling home on a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# What the product's users' browsers ask for: Swedish staff in a Swedish region.
BROWSER_LOCALE = "sv-SE"
# Failing impacts; "minor" and "moderate" findings are reported by axe but do not fail a test.
AXE_FAILING_IMPACTS = frozenset({"serious", "critical"})


def unavailable(reason: str) -> NoReturn:
    """Skip with the reason; under CI=true a missing browser tool is a failure, not a skip."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true requires the browser tests to run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def axe_script() -> Path:
    if not AXE_JS.is_file():
        unavailable(
            f"axe-core is not installed: {AXE_JS} is missing; run "
            "`npm ci --prefix tests/browser --no-audit --no-fund` (or `make install`)"
        )
    return AXE_JS


@pytest.fixture(scope="module")
def browser(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[Browser]:
    """One Chromium per test module, stopped when the module is done.

    While started, Playwright's sync API registers its asyncio loop as running in this thread.
    Two consequences for Django, both confined to this fixture's lifetime:

    - Django refuses ORM calls from a thread with a running loop. The tests and their database
      fixtures use the ORM synchronously on purpose, so DJANGO_ALLOW_ASYNC_UNSAFE is set. The
      live server's thread, which serves the pages, runs no loop and is not affected.
    - Django keeps connections per async context while a loop runs, so the tests get a second
      set of connections to the same test database. They are handed the snapshot that
      ``serialized_rollback`` restores (taken by the database setup, which therefore runs first)
      and are closed before Playwright stops, so that the test database can be dropped.
    """
    from django.db import connections

    if not CHROMIUM.is_file():
        unavailable(f"Chromium is not installed: {CHROMIUM} is missing; run `make system-deps`")
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        unavailable(f"Playwright is not installed ({exc}); run `make install`")
    snapshots = {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if hasattr(connections[alias], "_test_serialized_contents")
    }
    with pytest.MonkeyPatch.context() as env, sync_playwright() as playwright:
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        for alias, snapshot in snapshots.items():
            connections[alias]._test_serialized_contents = snapshot
        try:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=60_000
            )
        except PlaywrightError as exc:
            unavailable(f"Chromium at {CHROMIUM} did not start under Playwright: {exc.message}")
        yield chromium
        chromium.close()
        with django_db_blocker.unblock():
            connections.close_all()


@pytest.fixture
def visited_urls() -> list[str]:
    """Every URL the page requested or navigated to: the browser's history and more (LEAK-1)."""
    return []


@pytest.fixture
def new_page(
    browser: Browser, live_server: LiveServer, visited_urls: list[str]
) -> Iterator[Callable[..., Page]]:
    """Open pages in fresh browser contexts (own cookies); keyword arguments go to the context."""
    contexts = []

    def open_page(**context_options: Any) -> Page:
        context_options.setdefault("locale", BROWSER_LOCALE)
        context = browser.new_context(base_url=live_server.url, **context_options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.on("request", lambda request: visited_urls.append(request.url))
        page.on(
            "framenavigated",
            lambda frame: visited_urls.append(frame.url) if frame.parent_frame is None else None,
        )
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    return new_page()


def axe_violations(page: Page, axe_script: Path) -> list[str]:
    """Run axe-core on the page as it is now; one line per serious or critical violation."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the browser's debugging protocol, which the page's
        # Content-Security-Policy does not bind: a <script> tag would be an inline script.
        page.evaluate(axe_script.read_text(encoding="utf-8"))
    results: dict[str, Any] = page.evaluate("axe.run()")
    assert results["passes"], f"axe-core checked nothing on {page.url}"
    return [
        f"- {v['id']} ({v['impact']}): {v['help']} [{v['helpUrl'].split('?')[0]}]\n"
        + "\n".join(f"    target {node['target']}: {node['html'][:200]}" for node in v["nodes"])
        for v in results["violations"]
        if v.get("impact") in AXE_FAILING_IMPACTS
    ]


@pytest.fixture
def axe_check(axe_script: Path) -> Callable[[Page], None]:
    """Run axe-core on the page as it is now; fail on any serious or critical violation."""

    def check(page: Page) -> None:
        failing = axe_violations(page, axe_script)
        if failing:
            report = "\n".join(failing)
            pytest.fail(f"axe-core: serious/critical violations on {page.url}:\n{report}")

    return check
