"""The dashboard's Kafka view in headless Chromium: the worker's group with its lag, its topics,
a topic's newest messages masked, refreshed live. Screenshot: ``artifacts/kafka.png``."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from harness.workers import Worker, own_names, wait_for_final_status
from tests.support.browser import screenshot, use_key

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sign_ups(dashboard_worker: Worker) -> list[str]:
    """Correlation ids of three applied sign-ups on the browser tests' worker."""
    with dashboard_worker.client() as api:
        ids = [api.post("/usuarios").json()["correlation_id"] for _ in range(3)]
        for correlation_id in ids:
            wait_for_final_status(api, correlation_id)
    return ids


def test_the_kafka_view_shows_groups_lag_topics_and_masked_messages(
    tab: Page, dashboard_worker: Worker, sign_ups: list[str]
) -> None:
    page = tab
    use_key(page, dashboard_worker, "tests")
    page.goto(f"{dashboard_worker.url}/dashboard/kafka")
    group = own_names("browser")["APP_ID"]
    user_events = dashboard_worker.topic("user_events")

    # The worker's own group is chosen by default; the processing agent's group
    # (it reads user_events with a consumer of its own) shows its lag per partition.
    expect(page.locator(f'#groups tr.selected[data-group="{group}"]')).to_be_visible(timeout=15000)
    processing_group = f"{group}.process_user_events"
    page.locator(f'#groups tr[data-group="{processing_group}"]').click()
    expect(page.locator("#group-title")).to_have_text(processing_group)
    lag_rows = page.locator(f'#group-partitions tr[data-topic="{user_events}"]')
    expect(lag_rows.first).to_be_visible(timeout=20000)
    expect(lag_rows.first.locator("td.lag")).to_have_text(re.compile(r"^[\d.]+$"))
    expect(page.locator("#group-lag")).to_contain_text("lag total")

    # Its topics, this app's only by default, with their partitions.
    topic_row = page.locator(f'#topics tr[data-topic="{user_events}"]')
    expect(topic_row).to_contain_text("8")
    page.uncheck("#own-only")
    expect(page.locator("#topics-hidden")).to_have_text("")
    page.check("#own-only")

    # A topic's newest messages, personal data sealed on the topic and shown as such.
    topic_row.click()
    expect(page.locator("#topic-title")).to_have_text(user_events)
    expect(page.locator("#topic-partitions tbody tr")).to_have_count(8)
    newest = page.locator("#messages li.message pre")
    expect(newest.first).to_contain_text("criar_usuario", timeout=10000)
    text = "\n".join(newest.all_inner_texts())
    assert all(cid in text for cid in sign_ups)
    assert '"cpf": "[cifrado]"' in text and '"email": "[cifrado]"' in text

    # Live: a new request shows up without reloading the page.
    with dashboard_worker.client() as api:
        fresh = api.post("/usuarios").json()["correlation_id"]
    expect(newest.first).to_contain_text(fresh, timeout=15000)
    screenshot(page, "kafka")


def test_without_an_admin_key_the_view_says_so_and_stops_asking(
    tab: Page, dashboard_worker: Worker, expected_errors: list[str]
) -> None:
    expected_errors.append("status of 403")  # the browser logs every refused request
    page = tab
    refused: list[str] = []
    page.on("response", lambda answer: refused.append(answer.url) if answer.status == 403 else None)
    use_key(page, dashboard_worker, "alice")
    page.goto(f"{dashboard_worker.url}/dashboard/kafka")
    expect(page.locator("#api-key-state")).to_have_text("a chave precisa do escopo admin")
    expect(page.locator("#groups tbody tr")).to_have_count(0)
    page.wait_for_timeout(4000)  # more than one refresh period
    assert 0 < len(refused) <= 3, refused
