"""Events written straight to ``user_events``: replays apply once, poison is dead-lettered."""

from __future__ import annotations

import httpx
import orjson
import pytest

from app.accounts.commands import PaymentMade
from app.requests.envelope import encode_event
from harness.broker import end_offsets, produce, read_json_since, run
from harness.services import pg_rows
from harness.workers import ADMIN, Worker, correlation_ids, wait_for_final_status
from tests.support.flow import create_user, settle

pytestmark = pytest.mark.integration


def test_same_event_delivered_twice_makes_one_payment(api: httpx.Client, worker: Worker) -> None:
    user_id = create_user(api)
    event = PaymentMade(
        correlation_id=correlation_ids.issue(ADMIN),
        user_id=user_id,
        valor=12.34,
        forma_pagamento="Pix",
    )
    record = (str(user_id).encode(), encode_event(event))
    run(produce(worker.topic("user_events"), [record, record]))
    run(produce(worker.topic("user_events"), [record]))

    assert wait_for_final_status(api, event.correlation_id)["status"] == "success"
    settle(api, user_id)  # the replays are behind us
    rows = pg_rows("SELECT valor::text FROM pagamentos WHERE user_id = %s", [user_id])
    assert rows == [("12.34",)]


POISON = {
    "not_json": b"\xff\x00 definitely not json",
    "wrong_types": orjson.dumps(
        {
            "event_type": "pagamento_realizado",
            "correlation_id": "x",
            "user_id": "um",
            "valor": "muito",
        }
    ),
    "missing_fields": orjson.dumps({"event_type": "criar_usuario", "user_id": 5}),
    "unknown_type": orjson.dumps(
        {"event_type": "apagar_tudo", "correlation_id": correlation_ids.issue(ADMIN), "user_id": 1}
    ),
    "one_megabyte": b'{"event_type": "criar_usuario", "nome": "' + b"a" * 1024 * 1024 + b'"}',
}


def test_poison_events_are_dead_lettered_with_reason_and_stream_goes_on(
    api: httpx.Client, worker: Worker
) -> None:
    user_events = worker.topic("user_events")
    start = run(end_offsets(worker.topic("dead_letters")))
    user_start = run(end_offsets(user_events))
    run(produce(user_events, [(b"poison", value) for value in POISON.values()]))

    def all_poison_seen(letters: list[dict[str, object]]) -> bool:
        return len(_ours(letters, user_start)) >= len(POISON)

    letters = _ours(run(read_json_since(start, all_poison_seen)), user_start)
    assert len(letters) == len(POISON)
    assert all(letter["reason"] and letter["topic"] == user_events for letter in letters)
    assert max(int(str(letter["payload_bytes"])) for letter in letters) > 1024 * 1024
    assert create_user(api)  # the stream was not stopped


def test_unknown_event_type_with_issued_id_ends_in_error_status(
    api: httpx.Client, worker: Worker
) -> None:
    unknown_id = correlation_ids.issue(ADMIN)
    event = {"event_type": "apagar_tudo", "correlation_id": unknown_id, "user_id": 1}
    run(produce(worker.topic("user_events"), [(b"1", orjson.dumps(event))]))
    status = wait_for_final_status(api, unknown_id)
    assert status["status"] == "error"
    assert "inválido" in status["message"]


def _ours(
    letters: list[dict[str, object]], user_start: dict[object, int]
) -> list[dict[str, object]]:
    """Dead letters of events written after ``user_start`` with the key ``poison``."""
    first = {tp.partition: offset for tp, offset in user_start.items()}
    return [
        letter
        for letter in letters
        if str(letter.get("topic")).endswith("user_events")
        and int(str(letter["offset"])) >= first.get(int(str(letter["partition"])), 0)
    ]
