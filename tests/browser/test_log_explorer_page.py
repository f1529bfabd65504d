"""The log explorer in headless Chromium: a request found by its correlation id, the histogram's
bars, its trail; a key without admin sees only its own requests.
Screenshots: ``artifacts/logs.png`` and ``artifacts/logs-alice.png``."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from harness.workers import Worker, wait_for_final_status
from tests.support.browser import screenshot, use_key

pytestmark = pytest.mark.integration


def indexed_request(worker: Worker, caller: str) -> str:
    """A sign-up by ``caller`` whose request and outcome are both in Elasticsearch."""
    with worker.client(caller) as client:
        correlation_id: str = client.post("/usuarios").json()["correlation_id"]
        wait_for_final_status(client, correlation_id)
    with worker.client() as admin:
        deadline = time.monotonic() + 30
        while admin.get("/logs", params={"correlation_id": correlation_id}).json()["total"] < 2:
            assert time.monotonic() < deadline, "not indexed in 30 s"
            time.sleep(0.3)
    return correlation_id


@pytest.fixture(scope="module")
def alices(dashboard_worker: Worker) -> str:
    return indexed_request(dashboard_worker, "alice")


@pytest.fixture(scope="module")
def bobs(dashboard_worker: Worker) -> str:
    return indexed_request(dashboard_worker, "bob")


def test_a_request_is_found_by_correlation_id_charted_and_its_trail_opened(
    tab: Page, dashboard_worker: Worker, alices: str
) -> None:
    page = tab
    use_key(page, dashboard_worker, "tests")
    page.goto(f"{dashboard_worker.url}/dashboard/logs")
    expect(page.locator("#scope")).to_contain_text("todas as requisições", timeout=15000)

    page.fill("#f-correlation", alices)
    page.select_option("#f-period", "tudo")
    page.click("#search-go")
    rows = page.locator("#results tbody tr[data-correlation-id]")
    expect(rows).to_have_count(2, timeout=10000)
    expect(page.locator("#summary")).to_have_text("2 evento(s)")
    assert f"correlation_id={alices}" in page.url, "the search is in the page's address"

    bars = page.locator("#histogram .bar")
    assert bars.count() >= 1
    counts = [int(bar.get_attribute("data-count") or 0) for bar in bars.all()]
    assert sum(counts) == 2 and max(counts) > 0
    assert page.locator("#histogram rect.value[height]").count() == bars.count()

    rows.first.locator("[data-trail]").click()
    steps = page.locator("#trail-steps li.step")
    expect(steps).to_have_count(2)
    expect(steps.first).to_contain_text("criar_usuario")
    expect(steps.last).to_contain_text("response")
    expect(steps.last.locator(".badge")).to_have_text("success")
    screenshot(page, "logs")


def test_the_histogram_spans_the_last_hour_with_bars(tab: Page, dashboard_worker: Worker) -> None:
    page = tab
    use_key(page, dashboard_worker, "tests")
    page.goto(
        f"{dashboard_worker.url}/dashboard/logs?topic={dashboard_worker.topic('user_events')}"
    )
    expect(page.locator("#results tbody tr[data-correlation-id]").first).to_be_visible(
        timeout=15000
    )
    bars = page.locator("#histogram .bar")
    assert 30 <= bars.count() <= 61  # one hour in 2-minute bars
    assert page.locator('#histogram .bar:not([data-count="0"])').count() >= 1
    expect(page.locator("#axis-interval")).to_contain_text("2m")


def test_a_key_without_admin_sees_only_its_own_requests(
    tab: Page, dashboard_worker: Worker, alices: str, bobs: str
) -> None:
    page = tab
    use_key(page, dashboard_worker, "alice")
    page.goto(f"{dashboard_worker.url}/dashboard/logs?periodo=tudo")
    expect(page.locator("#scope")).to_contain_text("só as requisições da sua chave", timeout=15000)
    rows = page.locator("#results tbody tr[data-correlation-id]")
    expect(rows.first).to_be_visible()
    keys = page.locator("#results tbody tr[data-correlation-id] td:nth-child(6)").all_inner_texts()
    assert keys and set(keys) == {"alice"}

    page.fill("#f-correlation", alices)
    page.click("#search-go")
    expect(page.locator(f'#results tr[data-correlation-id="{alices}"]')).to_have_count(2)
    screenshot(page, "logs-alice")

    page.fill("#f-correlation", bobs)
    page.click("#search-go")
    expect(page.locator("#results tbody")).to_contain_text("Nenhum evento com estes filtros.")
    expect(page.locator("#summary")).to_have_text("0 evento(s)")
