"""Helpers of the browser tests: Debian's Chromium, the dashboard's stored key, screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, sync_playwright

from harness.workers import TEST_CALLERS, Worker

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "browser" / "artifacts"
#: Where the dashboard's pages keep the key typed in their header (web/dashboard/shared.js).
KEY_STORAGE = "streaming-platform-api-key"


@contextmanager
def chromium_context(profile: Path) -> Iterator[BrowserContext]:
    """Debian's Chromium, headless, with a fresh profile in ``profile`` (never downloaded)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


def use_key(page: Page, worker: Worker, caller: str) -> None:
    """Store ``caller``'s API key in the browser, as typing it in the header does.

    From the log explorer, which every key may read: the overview would poll
    admin-only figures with the new key before the test moves on (a 403).
    """
    page.goto(f"{worker.url}/dashboard/logs")
    page.evaluate(f"localStorage.setItem('{KEY_STORAGE}', '{TEST_CALLERS[caller][0]}')")


def screenshot(page: Page, name: str) -> None:
    """The whole page, as ``tests/browser/artifacts/{name}.png``."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def collect_errors(problems: list[str], message: ConsoleMessage) -> None:
    """Keep the console's errors: a page under test must log none."""
    if message.type == "error":
        problems.append(f"console: {message.text}")
