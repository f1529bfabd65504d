"""The dashboard and Swagger UI in real headless Chromium, against a real worker.

Needs Debian's ``chromium`` (``make browser`` installs it) and the running
services (``make up``). Playwright drives ``/usr/bin/chromium``; it never
downloads a browser of its own. A screenshot of the dashboard is saved to
``tests/browser/artifacts/dashboard.png`` (gitignored) for a human to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect, sync_playwright

from tests.support.workers import ADMIN, TEST_CALLERS, Worker, own_names, wait_for_final_status

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
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
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def dashboard_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A worker with topics and a consumer group of its own: its figures count only our requests.

    (A second member in the integration tests' group would also take partitions
    away from their worker in the middle of their tests.)
    """
    worker = Worker(tmp_path_factory.mktemp("browser-worker"), **own_names("browser")).start()
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """Debian's Chromium, headless, with a fresh profile."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    profile = tmp_path_factory.mktemp("chromium-profile")
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


@pytest.fixture
def tab(browser_context: BrowserContext) -> Iterator[Page]:
    """A new tab; the test fails if the page logs an error or throws."""
    page = browser_context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: _collect(problems, msg))
    page.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
    yield page
    page.close()
    assert problems == [], problems


def test_dashboard_shows_health_figures_and_runs_a_demo(
    tab: Page, dashboard_worker: Worker
) -> None:
    page = tab
    page.goto(f"{dashboard_worker.url}/dashboard")
    assert page.url.endswith("/dashboard/")
    expect(page.locator("#overall")).to_have_attribute("data-state", "healthy", timeout=15000)
    for component in ("kafka", "postgres", "elasticsearch", "worker"):
        card = page.locator(f'.service[data-component="{component}"]')
        expect(card).to_have_attribute("data-state", "up")
    _expect_tool_links(page)
    expect(page.locator("#api-key-state")).to_contain_text("chave ausente")
    page.fill("#api-key", TEST_CALLERS[ADMIN][0])
    page.dispatch_event("#api-key", "change")
    expect(page.locator("#api-key-state")).to_have_text("", timeout=5000)

    before = _figure(page, "fig-success")
    with dashboard_worker.client() as api:
        answers = [api.post("/usuarios") for _ in range(5)]
        assert [a.status_code for a in answers] == [202] * 5
        for answer in answers:
            assert (
                wait_for_final_status(api, answer.json()["correlation_id"])["status"] == "success"
            )
    page.wait_for_function(
        f"() => Number(document.querySelector('#fig-success [data-value]')"
        f".textContent.replace(/\\D/g, '')) >= {before + 5}",
        timeout=15000,
    )
    assert page.locator("#throughput rect.ok").count() > 0
    expect(page.locator("#fig-p50 [data-value]")).to_contain_text(re.compile(r"\d"))

    page.click("#demo-send")
    expect(page.locator("#demo-status")).to_have_attribute("data-status", "success", timeout=30000)
    assert UUID.match(page.locator("#demo-cid").inner_text())
    expect(page.locator('#demo-steps [data-step="final"]')).to_have_class("success")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)


def test_swagger_ui_renders_the_spec_from_local_assets(tab: Page, dashboard_worker: Worker) -> None:
    page = tab
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{dashboard_worker.url}/docs")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=15000)
    expect(page.locator("#swagger-ui")).to_contain_text("/usuarios/{user_id}/pagamento")
    assert all(url.startswith(dashboard_worker.url) for url in requested), requested


def _expect_tool_links(page: Page) -> None:
    for port in ("8080", "8081", "5601"):
        href = page.locator(f'#tools a[data-port="{port}"]').get_attribute("href") or ""
        assert href == f"http://127.0.0.1:{port}/"
    assert page.locator('#tools a[data-path="/docs"]').get_attribute("href") == "/docs"


def _figure(page: Page, figure_id: str) -> int:
    locator = page.locator(f"#{figure_id} [data-value]")
    expect(locator).not_to_have_text("—", timeout=15000)
    return int(re.sub(r"\D", "", locator.inner_text()) or 0)


def _collect(problems: list[str], message: ConsoleMessage) -> None:
    if message.type == "error":
        problems.append(f"console: {message.text}")
