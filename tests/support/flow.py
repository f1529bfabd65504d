"""Steps many integration tests share: a user to act on, and waiting for a user's events."""

from __future__ import annotations

import time

import httpx

from demo.people import demo_user
from harness.workers import wait_for_final_status


def create_user(api: httpx.Client) -> int:
    """A new user, created through the API and processed successfully."""
    answer = api.post("/usuarios", json=demo_user().model_dump())
    assert answer.status_code == 202, answer.text
    final = wait_for_final_status(api, answer.json()["correlation_id"])
    assert final["status"] == "success", final
    return int(answer.json()["usuario"]["user_id"])


def settle(api: httpx.Client, user_id: int) -> None:
    """Wait until every event sent so far for ``user_id`` is processed.

    One user's events share a partition and are applied in order, so once a
    later event of the same user is final, every earlier one is too.
    """
    marker = api.post(f"/usuarios/{user_id}/config", json={"idioma": "pt-BR"})
    final = wait_for_final_status(api, marker.json()["correlation_id"])
    assert final["status"] == "success", final


def status_once_routable(api: httpx.Client, correlation_id: str) -> httpx.Response:
    """``GET /status``, retried while the worker does not know the id's owner yet (503)."""
    deadline = time.monotonic() + 30
    while (answer := api.get(f"/status/{correlation_id}")).status_code == 503:
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.2)
    return answer
