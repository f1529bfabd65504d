"""The dashboard and Swagger UI in real headless Chromium, against a real worker.

Needs Debian's ``chromium`` (``make browser`` installs it) and the running
services (``make up``). Playwright drives ``/usr/bin/chromium``; it never
downloads a browser of its own. A screenshot of the dashboard is saved to
``tests/browser/artifacts/dashboard.png`` (gitignored) for a human to look at.
"""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from harness.workers import ADMIN, TEST_CALLERS, Worker, wait_for_final_status
from tests.support.browser import ARTIFACTS
from tests.support.flow import create_user

pytestmark = pytest.mark.integration

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


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
    _expect_tool_links(page, dashboard_worker)
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


def _expect_tool_links(page: Page, worker: Worker) -> None:
    """Each tool's link goes to the tool where it answers, to the dashboard's own view otherwise."""
    tools = httpx.get(f"{worker.url}/dashboard/tools", timeout=5).json()
    ports = {"kafka_ui": "8080", "adminer": "8081", "kibana": "5601", "prometheus": "9090"}
    for name, port in ports.items():
        link = page.locator(f'#tools a[data-name="{name}"]')
        own = not tools[name]["available"] and tools[name]["fallback"]
        expected = tools[name]["fallback"] if own else f"http://127.0.0.1:{port}/"
        expect(link).to_have_attribute("href", expected)
    assert page.locator('#tools a[data-path="/docs"]').get_attribute("href") == "/docs"


def _figure(page: Page, figure_id: str) -> int:
    locator = page.locator(f"#{figure_id} [data-value]")
    expect(locator).not_to_have_text("—", timeout=15000)
    return int(re.sub(r"\D", "", locator.inner_text()) or 0)


def test_the_dashboard_shows_viewings_live_and_what_is_trending(
    tab: Page, dashboard_worker: Worker
) -> None:
    page = tab
    page.goto(f"{dashboard_worker.url}/dashboard/")
    page.fill("#api-key", TEST_CALLERS[ADMIN][0])
    page.dispatch_event("#api-key", "change")
    title = 9400
    with dashboard_worker.client() as api:
        for _ in range(2):
            user_id = create_user(api)
            sent = api.post(
                "/historico-visualizacao",
                json={
                    "user_id": user_id,
                    "conteudo_id": title,
                    "posicao": 30,
                    "tempo_assistido": 90,
                },
            )
            assert wait_for_final_status(api, sent.json()["correlation_id"])["status"] == "success"
        name = api.get(f"/conteudos/{title}").json()["titulo"]

    entry = page.locator(f'#trending li[data-conteudo-id="{title}"]')
    expect(entry).to_contain_text(name, timeout=20000)
    expect(entry.locator(".viewers")).to_have_text("2")
    expect(page.locator("#viewings-total")).not_to_have_text("—")
    assert int(page.locator("#viewings-total").inner_text()) >= 2
    page.locator("#h-watching").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "dashboard-watching.png"), full_page=True)
