"""The viewing history on the real services: heartbeats in, one state per title out."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from harness.services import pg_rows
from harness.workers import Worker, wait_for_final_status
from tests.support.flow import create_user

pytestmark = pytest.mark.integration

#: Demo catalogue titles (ids 1000-9999 always exist).
FILM, SERIES, OTHER = 1000, 1001, 1002


def heartbeat(api: httpx.Client, user_id: int, title: int, watched: int, position: float) -> str:
    """Send one heartbeat; its correlation id."""
    body = {
        "user_id": user_id,
        "conteudo_id": title,
        "tempo_assistido": watched,
        "posicao": position,
    }
    answer = api.post("/historico-visualizacao", json=body)
    assert answer.status_code == 202, answer.text
    return str(answer.json()["correlation_id"])


def final(api: httpx.Client, correlation_ids: list[str]) -> list[dict[str, Any]]:
    return [wait_for_final_status(api, cid) for cid in correlation_ids]


def history(api: httpx.Client, user_id: int, **query: Any) -> dict[str, Any]:
    answer = api.get(f"/historico-visualizacao/{user_id}", params=query)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_a_heartbeat_is_accepted_then_read_back_as_the_titles_state(api: httpx.Client) -> None:
    user_id = create_user(api)
    answer = api.post(
        "/historico-visualizacao",
        json={"user_id": user_id, "conteudo_id": FILM, "tempo_assistido": 600, "posicao": 95},
    )
    assert answer.status_code == 202
    accepted = answer.json()
    assert accepted["visualizacao"]["concluido"] is True
    assert final(api, [accepted["correlation_id"]])[0]["status"] == "success"

    (item,) = history(api, user_id)["itens"]
    assert item["conteudo_id"] == FILM
    assert (item["posicao"], item["tempo_assistido"], item["concluido"]) == (95, 600, True)
    title = api.get(f"/conteudos/{FILM}").json()
    assert (item["titulo"], item["tipo"]) == (title["titulo"], title["tipo"])


def test_heartbeats_collapse_into_one_state_and_a_late_one_never_rewinds_it(
    api: httpx.Client,
) -> None:
    user_id = create_user(api)
    ids = [heartbeat(api, user_id, SERIES, 10 * n, 5.0 * n) for n in range(1, 5)]
    ids.append(heartbeat(api, user_id, SERIES, 15, 7.5))  # sent late, from before
    assert {status["status"] for status in final(api, ids)} == {"success"}

    (item,) = history(api, user_id)["itens"]
    assert (item["tempo_assistido"], item["posicao"]) == (40, 20)
    rows = pg_rows("SELECT count(*) FROM visualizacoes WHERE user_id = %s", [user_id])
    assert rows == [(1,)]


def test_a_viewing_from_the_query_string_fills_missing_fields_with_demo_data(
    api: httpx.Client,
) -> None:
    user_id = create_user(api)
    answer = api.post("/historico-visualizacao", params={"user_id": user_id})
    assert answer.status_code == 202, answer.text
    viewing = answer.json()["visualizacao"]
    assert 1000 <= viewing["conteudo_id"] <= 9999
    assert 0 <= viewing["posicao"] <= 100 and viewing["tempo_assistido"] >= 0
    assert final(api, [answer.json()["correlation_id"]])[0]["status"] == "success"


def test_a_viewing_without_user_id_or_with_bad_fields_is_422_naming_each(
    api: httpx.Client,
) -> None:
    answer = api.post("/historico-visualizacao", json={"posicao": 140, "tipo": "novela"})
    assert answer.status_code == 422
    assert {problem["campo"] for problem in answer.json()["campos"]} == {
        "user_id",
        "posicao",
        "tipo",
    }


def test_an_unknown_user_or_title_ends_in_error_with_the_reason(api: httpx.Client) -> None:
    user_id = create_user(api)
    unknown_user = heartbeat(api, 2**52, FILM, 10, 1)
    unknown_title = heartbeat(api, user_id, 99_999, 10, 1)
    for_user, for_title = final(api, [unknown_user, unknown_title])
    assert for_user["status"] == for_title["status"] == "error"
    assert "não encontrado" in for_user["message"]
    assert "99999" in for_title["message"]


def test_continue_watching_lists_unfinished_titles_newest_first_with_where_to_resume(
    api: httpx.Client,
) -> None:
    user_id = create_user(api)
    ids = [
        heartbeat(api, user_id, FILM, 300, 50),
        heartbeat(api, user_id, OTHER, 900, 100),  # finished: not to continue
        heartbeat(api, user_id, SERIES, 120, 10),
    ]
    final(api, ids)

    answer = api.get(f"/usuarios/{user_id}/continuar-assistindo")
    assert answer.status_code == 200
    items = answer.json()["itens"]
    assert [item["conteudo_id"] for item in items] == [SERIES, FILM]
    film = items[1]
    assert film["retomar_em_segundos"] == round(0.5 * film["duracao_minutos"] * 60)


def test_history_pages_with_a_cursor_and_filters_finished_titles(api: httpx.Client) -> None:
    user_id = create_user(api)
    titles = [2000 + n for n in range(5)]
    final(api, [heartbeat(api, user_id, t, 60, 95 if t % 2 else 30) for t in titles])

    seen: list[int] = []
    cursor = None
    for _ in range(3):
        page = history(api, user_id, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [item["conteudo_id"] for item in page["itens"]]
        cursor = page["proximo_cursor"]
    assert seen == list(reversed(titles)) and cursor is None
    finished = history(api, user_id, concluido="true")["itens"]
    assert sorted(item["conteudo_id"] for item in finished) == [2001, 2003]
    assert api.get(f"/historico-visualizacao/{user_id}", params={"cursor": "x"}).status_code == 422


def test_another_callers_user_is_404_for_its_history_and_its_viewings(worker: Worker) -> None:
    with worker.client("alice") as alice, worker.client("bob") as bob:
        user_id = create_user(alice)
        assert bob.get(f"/historico-visualizacao/{user_id}").status_code == 404
        assert bob.get(f"/usuarios/{user_id}/continuar-assistindo").status_code == 404
        sent = bob.post("/historico-visualizacao", json={"user_id": user_id})
        assert sent.status_code == 404
        assert alice.get(f"/historico-visualizacao/{user_id}").status_code == 200
