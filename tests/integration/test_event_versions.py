"""A real worker applies events of every version ever written (tests/fixtures/events).

Each command fixture is written straight to the worker's topic as its version
wrote it (no ``schema_version``; the oldest without ``requested_by``), for a
user of its own: the ids, the person and the dates are made fresh, nothing
else changes. Each must end ``success`` with its effect in PostgreSQL.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from app.clock import iso_now, today
from demo.people import demo_user
from harness.broker import end_offsets, produce, read_json_since, run
from harness.services import pg_rows
from harness.workers import ADMIN, Worker, correlation_ids, wait_for_final_status

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "events"
COMMANDS = {
    "user_events": [
        "criar_usuario",
        "atualizar_assinatura",
        "pagamento_realizado",
        "atualizar_config",
    ],
    "viewing_events": ["registrar_visualizacao"],
    "session_events": ["iniciar_sessao", "registrar_atividade", "encerrar_sessao"],
    "recommendation_requests": ["gerar_recomendacoes"],
}


class Fresh:
    """One new user's version-``N`` events, each under a correlation id of its own."""

    def __init__(self, version: int) -> None:
        self.version = version
        self.user_id = random.randint(10**14, 2**53 - 1)
        self.person = demo_user().model_dump()
        self.opening = correlation_ids.issue(ADMIN)

    def event(self, topic: str, name: str) -> tuple[str, bytes]:
        """(correlation id, value) of the fixture, made this user's."""
        path = FIXTURES / f"v{self.version}" / topic / f"{name}.json"
        value: dict[str, Any] = json.loads(path.read_text())["value"]
        cid = self.opening if name == "iniciar_sessao" else correlation_ids.issue(ADMIN)
        value |= {"correlation_id": cid, "user_id": self.user_id, "timestamp": iso_now()}
        if name == "criar_usuario":
            value |= self.person
        if name == "atualizar_assinatura":
            value |= {"inicio": str(today()), "fim": str(today() + timedelta(days=30))}
        if "session_id" in value:
            value["session_id"] = f"{self.user_id}-{self.opening}"
        return cid, orjson.dumps(value)

    def write(self, worker: Worker, topic: str, names: list[str]) -> list[str]:
        """Write the fixtures ``names`` of ``topic`` in order; their correlation ids."""
        events = [self.event(topic, name) for name in names]
        key = str(self.user_id).encode()
        run(produce(worker.topic(topic), [(key, value) for _, value in events]))
        return [cid for cid, _ in events]


def test_a_worker_applies_version_1_commands_as_they_were_written(
    api: httpx.Client, worker: Worker
) -> None:
    fresh = Fresh(version=1)
    letters_start = run(end_offsets(worker.topic("dead_letters")))
    for cid in fresh.write(worker, "user_events", COMMANDS["user_events"]):
        assert wait_for_final_status(api, cid)["status"] == "success", cid
    refresh = FIXTURES / "v1" / "recommendation_requests" / "refresh.json"
    refresh_value = orjson.dumps(
        {**json.loads(refresh.read_text())["value"], "user_id": fresh.user_id}
    )
    run(
        produce(
            worker.topic("recommendation_requests"), [(str(fresh.user_id).encode(), refresh_value)]
        )
    )
    later = [
        cid for topic in list(COMMANDS)[1:] for cid in fresh.write(worker, topic, COMMANDS[topic])
    ]
    for cid in later:
        status = wait_for_final_status(api, cid)
        assert status["status"] == "success", status

    uid = fresh.user_id
    assert pg_rows("SELECT email FROM usuarios WHERE user_id = %s", [uid]) == [
        (fresh.person["email"],)
    ]
    assert pg_rows("SELECT plano FROM assinaturas WHERE user_id = %s", [uid]) == [("Premium",)]
    assert pg_rows("SELECT valor::text FROM pagamentos WHERE user_id = %s", [uid]) == [("39.90",)]
    assert pg_rows("SELECT idioma FROM preferencias WHERE user_id = %s", [uid]) == [("pt-BR",)]
    assert pg_rows("SELECT posicao::text FROM visualizacoes WHERE user_id = %s", [uid]) == [
        ("35.50",)
    ]
    letters = run(read_json_since(letters_start, lambda values: False, timeout=2.0))
    assert [x for x in letters if str(uid) in x.get("payload", "")] == []


def test_a_version_1_outcome_becomes_its_request_status(api: httpx.Client, worker: Worker) -> None:
    cid = correlation_ids.issue(ADMIN)
    path = FIXTURES / "v1" / "response_events" / "response.json"
    value = json.loads(path.read_text())["value"] | {"correlation_id": cid}
    run(produce(worker.topic("response_events"), [(cid.encode(), orjson.dumps(value))]))

    status = wait_for_final_status(api, cid)

    assert (status["status"], status["message"]) == ("success", "Pagamento registrado com sucesso")
    assert (status["original_event_type"], status["replays"]) == ("pagamento_realizado", 0)
