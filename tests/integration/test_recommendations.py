"""Recommendations on the real services: kept current from viewings, co-viewing and trending."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from app.clock import iso_now
from harness.workers import Worker, own_names, wait_for_final_status
from tests.integration.test_viewing import heartbeat
from tests.support.flow import create_user

pytestmark = pytest.mark.integration

SAGA_ONE, SAGA_TWO, POPULAR = 9300, 9301, 9302
TRENDING = "em alta agora"


@pytest.fixture(scope="module")
def recs_worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A worker of its own: trending and co-viewing hold only these tests' viewings."""
    worker = Worker(tmp_path_factory.mktemp("recs"), **own_names("recs")).start()
    yield worker
    worker.stop()


@pytest.fixture
def api(recs_worker: Worker) -> Iterator[httpx.Client]:
    with recs_worker.client() as client:
        yield client


def watched(api: httpx.Client, user_id: int, title: int, position: float = 95) -> None:
    cid = heartbeat(api, user_id, title, 600, position)
    assert wait_for_final_status(api, cid)["status"] == "success"


def recommendations_until(
    api: httpx.Client, user_id: int, check: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    """The user's list, read until ``check`` holds (lists follow viewings within seconds)."""
    deadline = time.monotonic() + 30
    items: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        answer = api.get(f"/recomendacoes/{user_id}")
        assert answer.status_code in (200, 503), answer.text
        if answer.status_code == 200:
            items = answer.json()["itens"]
            if check(items):
                return items
        time.sleep(0.3)
    raise AssertionError(f"recommendations of {user_id} never matched: {items}")


def by_id(items: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {item["conteudo_id"]: item for item in items}


def test_who_watched_one_title_is_recommended_what_its_viewers_watched_next(
    api: httpx.Client,
) -> None:
    fans = [create_user(api) for _ in range(3)]
    for fan in fans:
        watched(api, fan, SAGA_ONE)
        watched(api, fan, SAGA_TWO)
    newcomer = create_user(api)
    watched(api, newcomer, SAGA_ONE)

    # Until the newcomer's own list is stored, the read answers what is trending,
    # which lists SAGA_TWO too: wait for the list co-viewing made.
    items = recommendations_until(
        api,
        newcomer,
        lambda items: by_id(items).get(SAGA_TWO, {"motivo": TRENDING})["motivo"] != TRENDING,
    )
    first_title = api.get(f"/conteudos/{SAGA_ONE}").json()["titulo"]
    assert by_id(items)[SAGA_TWO]["motivo"] == f"porque você assistiu {first_title}"
    assert SAGA_ONE not in by_id(items)  # finished titles are never recommended
    assert all(0 <= item["pontuacao"] <= 1 for item in items)
    assert [i["pontuacao"] for i in items] == sorted((i["pontuacao"] for i in items), reverse=True)


def test_a_user_with_no_history_gets_what_is_trending(api: httpx.Client) -> None:
    for viewer in [create_user(api) for _ in range(4)]:
        watched(api, viewer, POPULAR, position=40)
    nobody = create_user(api)

    items = recommendations_until(api, nobody, lambda items: POPULAR in by_id(items))
    assert by_id(items)[POPULAR]["motivo"] == TRENDING


def test_asking_for_a_recompute_answers_202_then_a_final_status(
    api: httpx.Client, recs_worker: Worker
) -> None:
    user_id = create_user(api)
    asked_at = iso_now()
    accepted = api.post("/recomendacoes/gerar", json={"user_id": user_id})
    assert accepted.status_code == 202
    assert wait_for_final_status(api, accepted.json()["correlation_id"])["status"] == "success"
    assert api.get(f"/recomendacoes/{user_id}").json()["data_geracao"] >= asked_at

    unknown = api.post("/recomendacoes/gerar", params={"user_id": 2**52})
    assert wait_for_final_status(api, unknown.json()["correlation_id"])["status"] == "error"
    assert api.post("/recomendacoes/gerar", json={}).status_code == 422
    with recs_worker.client("bob") as bob:
        assert bob.get(f"/recomendacoes/{user_id}").status_code == 404
        assert bob.post("/recomendacoes/gerar", json={"user_id": user_id}).status_code == 404
