"""The status record and its transitions: absent -> final; final changes only by a replay."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson

from app.accounts.commands import UserCreated
from app.requests.outcomes import StatusRecord, response_event


def record(status: str, replays: int = 0) -> StatusRecord:
    return StatusRecord(correlation_id="c", status=status, replays=replays)  # type: ignore[arg-type]


def test_first_outcome_may_be_stored() -> None:
    assert record("success").may_replace(None)
    assert record("error").may_replace(None)


def test_final_status_is_never_replaced() -> None:
    assert not record("error").may_replace(record("success"))
    assert not record("success").may_replace(record("error"))
    assert not record("success").may_replace(record("success"))


def test_the_outcome_of_a_later_replay_supersedes_a_final_status() -> None:
    assert record("success", replays=1).may_replace(record("error"))
    assert record("error", replays=2).may_replace(record("error", replays=1))


def test_an_outcome_of_the_same_or_an_earlier_replay_changes_nothing() -> None:
    assert not record("success", replays=1).may_replace(record("error", replays=1))
    assert not record("error").may_replace(record("success", replays=1))
    assert not record("pendente", replays=3).may_replace(record("error"))


def test_an_outcome_carries_its_replay_count_and_one_without_reads_as_none() -> None:
    replayed = {"correlation_id": "c", "status": "success", "replays": 2}
    assert StatusRecord.from_response(replayed).replays == 2
    assert StatusRecord.from_response({"correlation_id": "c", "status": "error"}).replays == 0


def test_a_pending_record_is_never_stored() -> None:
    assert not record("pendente").may_replace(None)


def test_an_outcome_gives_the_fields_clients_read() -> None:
    status = StatusRecord.from_response(
        {
            "correlation_id": "c",
            "status": "success",
            "message": "ok",
            "original_event_type": "criar_usuario",
            "user_id": 1,
            "request_timestamp": "t0",
            "timestamp": "t1",
            "requested_by": "alice",
            "dados": {"nome": "not kept"},
        }
    )
    assert status.as_json() == {
        "correlation_id": "c",
        "status": "success",
        "message": "ok",
        "original_event_type": "criar_usuario",
        "user_id": 1,
        "requested_at": "t0",
        "processed_at": "t1",
        "requested_by": "alice",
        "replays": 0,
    }


def test_a_pending_record_has_every_field_and_the_issue_time() -> None:
    issued = datetime(2026, 1, 2, 3, 4, 5, 600_000, tzinfo=UTC)
    pending = StatusRecord.pending("c", issued, "alice").as_json()
    assert pending["status"] == "pendente"
    assert pending["requested_at"] == "2026-01-02T03:04:05.600000Z"
    assert pending["processed_at"] is None
    assert set(pending) == set(StatusRecord.model_fields)


def test_an_outcome_repeats_the_command_fields_but_never_the_personal_ones() -> None:
    envelope = {"correlation_id": str(uuid.uuid4()), "user_id": 7, "requested_by": "tests"}
    signup = UserCreated(**envelope, nome="Ana Braga", email="ana@x.com", cpf="529.982.247-25")
    outcome = response_event(signup, "success", "ok")
    assert set(outcome["dados"]) == {"data_criacao"}
    assert "ana@x.com" not in orjson.dumps(outcome).decode()
