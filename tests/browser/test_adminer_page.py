"""Adminer in real headless Chromium: log in to the stack's PostgreSQL and see `usuarios`.

Needs the running services (``make up``, which serves Adminer) and Debian's
``chromium`` (``make browser``). The application's migrations, applied here by
the app's own ``Database`` service as a worker does at start-up, create
``usuarios`` if the database does not have it yet.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from app.settings import get_settings
from harness.services import dsn_of, started_database
from tests.support.adminer import ADMINER_URL, STACK_DB
from tests.support.browser import chromium_context

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


async def _migrate() -> None:
    async with asyncio.timeout(60), started_database(dsn_of(STACK_DB)):
        pass


@pytest.fixture(scope="module")
def application_schema() -> None:
    """The application's tables exist in the stack's database (migrations are idempotent, under a lock)."""
    # A thread of its own: Playwright's sync API may already run an event loop in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _migrate()).result()


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """Headless Chromium with a fresh profile (no Adminer session yet)."""
    with chromium_context(tmp_path_factory.mktemp("adminer-chromium")) as browser_context:
        yield browser_context


@pytest.fixture
def tab(context: BrowserContext) -> Iterator[Page]:
    """A new tab."""
    page = context.new_page()
    yield page
    page.close()


def test_a_person_logs_in_with_the_password_only_and_sees_usuarios(
    tab: Page, application_schema: None
) -> None:
    settings = get_settings()
    tab.goto(f"{ADMINER_URL}/")
    expect(tab.locator("select[name='auth[driver]']")).to_have_value("pgsql")
    expect(tab.locator("input[name='auth[server]']")).to_have_value(
        f"127.0.0.1:{settings.postgres_port}"
    )
    expect(tab.locator("input[name='auth[username]']")).to_have_value(settings.postgres_user)
    expect(tab.locator("input[name='auth[db]']")).to_have_value(STACK_DB)

    tab.fill("input[name='auth[password]']", settings.postgres_password)
    tab.click("input[type='submit'][value='Login']")

    expect(tab.locator("#tables")).to_contain_text("usuarios", timeout=15000)
    expect(tab.locator("#logout")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / "adminer.png"), full_page=True)
