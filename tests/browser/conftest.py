"""What the browser tests share: one worker of their own, Debian's Chromium, a checked tab.

Playwright drives ``/usr/bin/chromium`` (``make browser`` installs it); it never
downloads a browser of its own. Screenshots go to ``tests/browser/artifacts/``
(gitignored), for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page

from harness.workers import Worker, own_names
from tests.support.browser import chromium_context, collect_errors


@pytest.fixture(scope="session")
def dashboard_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A worker with topics and a consumer group of its own: its figures count only our requests.

    (A second member in the integration tests' group would also take partitions
    away from their worker in the middle of their tests.)
    """
    worker = Worker(tmp_path_factory.mktemp("browser-worker"), **own_names("browser")).start()
    worker.wait_ready()  # the health cards read "up" from the first look
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """Debian's Chromium, headless, with a fresh profile (no API key stored yet)."""
    with chromium_context(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture
def expected_errors() -> list[str]:
    """Console errors a test expects (a part of each message): a refused key's 403, say."""
    return []


@pytest.fixture
def tab(browser_context: BrowserContext, expected_errors: list[str]) -> Iterator[Page]:
    """A new tab; the test fails if the page logs an error it did not expect, or throws."""
    page = browser_context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: collect_errors(problems, msg))
    page.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
    yield page
    page.close()
    unexpected = [p for p in problems if not any(part in p for part in expected_errors)]
    assert unexpected == [], unexpected
