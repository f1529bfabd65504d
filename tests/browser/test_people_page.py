"""The dashboard's data subject page in headless Chromium: an admin reads a user, downloads
their export and erases them, following the erasure to its final status; a user the key may
not see is not shown. Screenshot: ``artifacts/people.png``."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from harness.workers import Worker, wait_for_final_status
from tests.support.browser import screenshot, use_key

pytestmark = pytest.mark.integration


def a_signed_up_user(worker: Worker, caller: str) -> int:
    """The id of a user ``caller`` signed up, once the sign-up is applied."""
    with worker.client(caller) as api:
        answer = api.post("/usuarios").json()
        assert wait_for_final_status(api, answer["correlation_id"])["status"] == "success"
    return int(answer["usuario"]["user_id"])


def test_an_admin_exports_then_erases_a_person_from_the_page(
    tab: Page, dashboard_worker: Worker
) -> None:
    page = tab
    user_id = a_signed_up_user(dashboard_worker, "tests")
    use_key(page, dashboard_worker, "tests")
    page.goto(f"{dashboard_worker.url}/dashboard/titulares")
    page.fill("#person-id", str(user_id))
    page.click("#person-form button[type=submit]")
    expect(page.locator("#person-profile")).to_contain_text(f'"user_id": {user_id}')

    with page.expect_download() as download:
        page.click("#export")
    assert download.value.suggested_filename == f"usuario-{user_id}-dados.json"
    exported = json.loads(download.value.path().read_text(encoding="utf-8"))
    assert exported["formato"] == "lgpd-export/1"
    assert exported["perfil"]["user_id"] == user_id

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#erase")
    expect(page.locator("#erasure-status")).to_have_text("success", timeout=30000)
    expect(page.locator("#erasure-message")).to_contain_text("chave do titular destruída")
    screenshot(page, "people")
    with dashboard_worker.client("tests") as api:
        assert api.get(f"/usuarios/{user_id}").status_code == 404


def test_a_user_the_key_may_not_see_is_not_shown(
    tab: Page, dashboard_worker: Worker, expected_errors: list[str]
) -> None:
    expected_errors.append("status of 404")  # the browser logs every refused request
    page = tab
    user_id = a_signed_up_user(dashboard_worker, "bob")
    use_key(page, dashboard_worker, "alice")
    page.goto(f"{dashboard_worker.url}/dashboard/titulares")
    page.fill("#person-id", str(user_id))
    page.click("#person-form button[type=submit]")
    expect(page.locator("#people-error")).to_have_text("Usuário não encontrado")
    expect(page.locator("#person")).to_be_hidden()
