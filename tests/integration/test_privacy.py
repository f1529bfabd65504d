"""LGPD on the real services: a person's export, then their erasure from every store."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch

from demo.people import demo_user
from harness import personal_traces
from harness.broker import run
from harness.services import pg_rows
from harness.workers import Worker, wait_for_final_status

pytestmark = pytest.mark.integration

FILM = 1000  # a demo catalogue title (ids 1000-9999 always exist)


def final(api: httpx.Client, answer: httpx.Response) -> dict[str, Any]:
    """The final status of the request a 202 ``answer`` accepted."""
    assert answer.status_code == 202, answer.text
    return wait_for_final_status(api, answer.json()["correlation_id"], 30.0)


def export(api: httpx.Client, user_id: int, logged: set[str]) -> dict[str, Any]:
    """``GET /usuarios/{id}/dados`` once the event log holds events of the ``logged`` types
    (the log is written a moment after the events are applied), waiting out 503s."""
    deadline = time.monotonic() + 30
    while True:
        answer = api.get(f"/usuarios/{user_id}/dados")
        assert answer.status_code in (200, 503), answer.text
        if answer.status_code == 200:
            data: dict[str, Any] = answer.json()
            if logged <= {e["event_type"] for e in data["eventos"]}:
                return data
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.3)


def a_person_who_did_everything(api: httpx.Client) -> tuple[int, dict[str, str]]:
    """A person signed up, subscribed, paid, set preferences, watched and opened a session."""
    person = demo_user().model_dump()
    answer = api.post("/usuarios", json=person)
    assert final(api, answer)["status"] == "success"
    user_id = int(answer.json()["usuario"]["user_id"])
    steps = [
        api.post(f"/usuarios/{user_id}/assinatura", json={"plano": "Premium"}),
        api.post(f"/usuarios/{user_id}/pagamento", json={"valor": 55.9, "forma_pagamento": "Pix"}),
        api.post(f"/usuarios/{user_id}/config", json={"idioma": "en-US"}),
        api.post(
            "/historico-visualizacao",
            json={"user_id": user_id, "conteudo_id": FILM, "tempo_assistido": 600, "posicao": 40},
        ),
    ]
    assert [final(api, step)["status"] for step in steps] == ["success"] * len(steps)
    session = api.post("/sessoes", json={"user_id": user_id, "dispositivo": "Web"})
    assert final(api, session)["status"] == "success"
    return user_id, person


def test_the_export_holds_what_every_store_keeps_about_the_person(api: httpx.Client) -> None:
    user_id, person = a_person_who_did_everything(api)
    data = export(api, user_id, {"criar_usuario", "pagamento_realizado", "registrar_visualizacao"})
    assert {k: data["perfil"][k] for k in person} == person
    assert data["assinatura"]["plano"] == "Premium"
    assert data["preferencias"]["idioma"] == "en-US"
    assert [p["valor"] for p in data["pagamentos"]] == [55.9]
    assert [v["conteudo_id"] for v in data["historico_visualizacao"]] == [FILM]
    assert len(data["sessoes"]["sessoes"]) == 1
    assert {e["user_id"] for e in data["eventos"]} == {user_id}
    assert api.get(f"/usuarios/{user_id}/dados", headers={"X-API-Key": "nope"}).status_code == 401


def test_an_erased_person_leaves_no_trace_and_may_sign_up_again(
    api: httpx.Client, worker: Worker, es: Elasticsearch
) -> None:
    user_id, person = a_person_who_did_everything(api)
    status = final(api, api.delete(f"/usuarios/{user_id}"))
    assert status["status"] == "success", status
    assert "chave do titular destruída" in status["message"]
    assert "1 pagamento(s) mantidos desidentificados" in status["message"]
    assert api.get(f"/usuarios/{user_id}").status_code == 404
    assert api.get(f"/usuarios/{user_id}/dados").status_code == 404
    assert pg_rows(
        "SELECT count(*) FROM pagamentos WHERE titular_apagado_em IS NOT NULL "
        "AND correlation_id IN (SELECT correlation_id FROM processed_events "
        "WHERE user_id = %s)",
        [user_id],
    ) == [(1,)]

    needles = personal_traces.forms(person.values())
    prefix = worker.topic("")  # the worker's topics and its tables' changelogs
    found = (
        personal_traces.in_postgres(needles)
        + personal_traces.in_elasticsearch(es, needles)
        + run(personal_traces.in_kafka(prefix.rstrip("-"), needles))
        + personal_traces.in_rocksdb(worker.data_dir, needles)
        # RocksDB's write-ahead logs, the worker's log and its fallback file (es-fallback.jsonl)
        + personal_traces.in_files(worker.data_dir, needles)
    )
    assert found == []

    again = api.post("/usuarios", json=person)
    assert final(api, again)["status"] == "success"
    assert again.json()["usuario"]["user_id"] != user_id
