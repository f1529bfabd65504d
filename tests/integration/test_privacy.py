"""LGPD on the real services: a person's export, then their erasure from every store."""

from __future__ import annotations

import base64
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from elasticsearch import Elasticsearch
from rocksdict import Options, Rdict

from app.sealing import PERSONAL_FIELDS, is_sealed, unseal_fields
from app.viewing.trending import shard_key
from harness import personal_traces
from harness.broker import (
    create_topics,
    delete_topics,
    end_offsets,
    produce,
    read_json_since,
    run,
)
from harness.services import pg_rows
from harness.workers import RUN_PREFIX, Worker, wait_for_final_status

pytestmark = pytest.mark.integration

FILM = 1000  # a demo catalogue title (ids 1000-9999 always exist)
#: The Faust tables keyed by user id (tables/), each with a changelog.
TABLES = ("recommendations", "user_sessions")


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
    person = personal_traces.a_distinct_person()
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


def sealed_signup(worker: Worker, correlation_id: str) -> dict[str, Any]:
    """The sign-up event ``correlation_id`` as ``user_events`` keeps it (raw, sealed)."""

    async def read() -> list[bytes]:
        topic = worker.topic("user_events")
        needle = correlation_id.encode()
        return [r.value async for r in personal_traces.records(topic) if needle in (r.value or b"")]

    (value,) = run(read())
    signup: dict[str, Any] = orjson.loads(value)
    return signup


def table_entries(worker: Worker, table: str, user_id: int, gone: bool) -> list[bytes | None]:
    """The person's entries in ``table``'s changelog, once its last one is (or is not) a
    tombstone: a table is written a moment after the event that asks for it."""

    async def read() -> list[bytes | None]:
        topic, key = worker.topic(f"{table}-changelog"), str(user_id).encode()
        return [r.value async for r in personal_traces.records(topic) if r.key == key]

    deadline = time.monotonic() + 30
    while True:
        entries = run(read())
        if entries and (entries[-1] is None) == gone:
            return entries
        assert time.monotonic() < deadline, entries
        time.sleep(0.5)


def trending_trace(worker: Worker, user_id: int, gone: bool) -> None:
    """Wait until the trending table's shard of the person on ``FILM`` holds them (or not)."""
    shard = shard_key(FILM, user_id).encode()
    viewer = f'"{user_id}"'.encode()  # a key of the shard's "vistos"

    async def last() -> bytes | None:
        topic = worker.topic("trending_viewers-changelog")
        values = [r.value async for r in personal_traces.records(topic) if shard in (r.key or b"")]
        return values[-1] if values else None

    deadline = time.monotonic() + 30
    while (viewer in (run(last()) or b"")) == gone:
        assert time.monotonic() < deadline, f"trending trace of {user_id}, gone={gone}"
        time.sleep(0.5)


def personal_key(user_id: int) -> bytes | None:
    rows = pg_rows("SELECT chave FROM chaves_titulares WHERE user_id = %s", [user_id])
    return bytes(rows[0][0]) if rows else None


def everywhere(worker: Worker, es: Elasticsearch, needles: list[bytes]) -> list[str]:
    """Where the scans find one of ``needles``: every store the worker writes."""
    return (
        personal_traces.in_postgres(needles)
        + personal_traces.in_elasticsearch(es, needles)
        # the worker's topics and its tables' changelogs
        + run(personal_traces.in_kafka(worker.topic(""), needles))
        + personal_traces.in_rocksdb(worker.data_dir, needles)
        # RocksDB's files and write-ahead logs, the worker's log, its fallback file (es-fallback.jsonl)
        + personal_traces.in_files(worker.data_dir, needles)
    )


def redelivered_signup_is_answered_from_the_ledger(
    worker: Worker, user_id: int, signup: dict[str, Any]
) -> None:
    """The sealed sign-up read again (as after a crash): its recorded outcome, no dead letter,
    no user made again."""
    cid = signup["correlation_id"]
    responses = run(end_offsets(worker.topic("response_events")))
    letters = run(end_offsets(worker.topic("dead_letters")))
    run(produce(worker.topic("user_events"), [(str(user_id).encode(), orjson.dumps(signup))]))

    def answered(values: list[dict[str, Any]]) -> bool:
        return any(v.get("correlation_id") == cid for v in values)

    outcomes = [v for v in run(read_json_since(responses, answered)) if answered([v])]
    assert [o["status"] for o in outcomes] == ["success"]
    refused = run(read_json_since(letters, lambda values: False, timeout=2.0))
    assert [x for x in refused if cid in x.get("payload", "")] == []
    assert pg_rows("SELECT count(*) FROM usuarios WHERE user_id = %s", [user_id]) == [(0,)]


def test_an_erased_person_leaves_no_trace_and_may_sign_up_again(
    api: httpx.Client, worker: Worker, es: Elasticsearch
) -> None:
    user_id, person = a_person_who_did_everything(api)
    needles = personal_traces.forms(person.values())
    signup_id = pg_rows(
        "SELECT correlation_id::text FROM processed_events "
        "WHERE user_id = %s AND event_type = 'criar_usuario'",
        [user_id],
    )[0][0]
    # Before: the profile is in PostgreSQL, and Kafka keeps the sign-up sealed, readable with the key.
    assert "postgres: public.usuarios" in everywhere(worker, es, needles)
    signup = sealed_signup(worker, signup_id)
    assert all(is_sealed(signup[field]) for field in PERSONAL_FIELDS)
    key = personal_key(user_id)
    assert key is not None
    opened = unseal_fields(key, user_id, signup)
    assert {field: opened[field] for field in PERSONAL_FIELDS} == person
    for table in TABLES:
        table_entries(worker, table, user_id, gone=False)
    trending_trace(worker, user_id, gone=False)

    status = final(api, api.delete(f"/usuarios/{user_id}"))
    assert status["status"] == "success", status
    assert "chave do titular destruída" in status["message"]
    assert "1 pagamento(s) mantidos desidentificados" in status["message"]
    assert api.get(f"/usuarios/{user_id}").status_code == 404
    assert api.get(f"/usuarios/{user_id}/dados").status_code == 404
    assert pg_rows(
        "SELECT count(*) FROM pagamentos WHERE titular_apagado_em IS NOT NULL AND user_id IS NULL "
        "AND correlation_id IN (SELECT correlation_id FROM processed_events "
        "WHERE user_id = %s)",
        [user_id],
    ) == [(1,)]

    # After: the sealed copy is still on the topic, but no key opens it any more.
    assert personal_key(user_id) is None
    assert sealed_signup(worker, signup_id) == signup
    for table in TABLES:  # a tombstone: compaction drops the older entries
        table_entries(worker, table, user_id, gone=True)
    trending_trace(worker, user_id, gone=True)  # the viewer forgotten on the title
    assert everywhere(worker, es, needles) == []
    redelivered_signup_is_answered_from_the_ledger(worker, user_id, signup)

    again = api.post("/usuarios", json=person)
    assert final(api, again)["status"] == "success"
    assert again.json()["usuario"]["user_id"] != user_id


def test_the_scans_find_a_trace_planted_in_each_store(es: Elasticsearch, tmp_path: Path) -> None:
    person = personal_traces.a_distinct_person()
    needles = personal_traces.forms(person.values())
    email_b64 = base64.b64encode(person["email"].encode())
    topic = f"{RUN_PREFIX}plant-{uuid.uuid4().hex[:8]}"
    run(create_topics({topic: 1}))
    index = f"{RUN_PREFIX}plant"
    try:
        run(produce(topic, [(b"k", b"nothing"), (None, b'{"x": "' + email_b64 + b'"}')]))
        assert run(personal_traces.in_kafka(topic, needles)) == [f"kafka: {topic}[0]@1"]
        es.index(index=index, document={"doc": person["cpf"].replace(".", "").replace("-", "")})
        es.indices.refresh(index=index)
        assert f"elasticsearch: {index}" in personal_traces.in_elasticsearch(es, needles)
    finally:
        es.indices.delete(index=index, ignore_unavailable=True)
        run(delete_topics([topic]))
    db = Rdict(str(tmp_path / "table"), options=Options(raw_mode=True))
    db[b"user"] = orjson.dumps({"nome": person["nome"].upper()})
    db.close()
    assert personal_traces.in_rocksdb(tmp_path, needles) == [f"rocksdb: {tmp_path / 'table'}"]
    (tmp_path / "es-fallback.jsonl").write_bytes(base64.urlsafe_b64encode(person["cpf"].encode()))
    assert f"file: {tmp_path / 'es-fallback.jsonl'}" in personal_traces.in_files(tmp_path, needles)
    someone_else = personal_traces.forms(personal_traces.a_distinct_person().values())
    assert personal_traces.in_files(tmp_path, someone_else) == []
