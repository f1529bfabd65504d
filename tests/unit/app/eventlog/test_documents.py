"""agents.event_log_agent: the system_logs document of each record, and the fallback file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import orjson
import pytest
from faust.types import EventT

from app.eventlog.documents import build_document, document_of, unindexed_copy
from app.eventlog.fallback_file import FallbackFile
from app.eventlog.indices import MAPPINGS
from app.eventlog.search_index import Document
from app.kafka.readers import Record

CID = "01a222cc-d2dd-7673-9115-162d98e7896f"
LOGGED_AT = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
RECORD_TIME = datetime(2025, 1, 2, 3, 4, 0, tzinfo=UTC).timestamp()


def document(topic: str, value: Any, offset: int = 41) -> Document:
    raw = value if isinstance(value, bytes) else orjson.dumps(value)
    return build_document(topic, 3, offset, raw, RECORD_TIME, LOGGED_AT)


def request_event(**fields: Any) -> dict[str, Any]:
    return {
        "event_type": "criar_usuario",
        "correlation_id": CID,
        "timestamp": "2025-01-02T03:04:00.250000Z",
        "source": "api",
        "target": "processor",
        "user_id": 42,
        "nome": "Ana Maria Braga",
        "email": "ana@dominio.com",
        "cpf": "123.456.789-25",
        **fields,
    }


def response_event(**fields: Any) -> dict[str, Any]:
    return {
        "event_type": "response",
        "correlation_id": CID,
        "original_event_type": "pagamento_realizado",
        "timestamp": "2025-01-02T03:04:00.500000Z",
        "request_timestamp": "2025-01-02T03:04:00.250000Z",
        "source": "processor",
        "target": "api",
        "status": "success",
        "message": "Pagamento registrado com sucesso",
        "user_id": 42,
        "dados": {"valor": "39.90", "forma_pagamento": "Pix", "status": "aprovado"},
        **fields,
    }


def test_request_document_is_named_by_topic_and_correlation_id() -> None:
    doc = document("user_events", request_event())
    assert doc.id == f"user_events:{CID}"
    assert doc.source["timestamp"] == "2025-01-02T03:04:00.250000Z"
    assert {k: doc.source[k] for k in ("topic", "correlation_id", "event_type", "user_id")} == {
        "topic": "user_events",
        "correlation_id": CID,
        "event_type": "criar_usuario",
        "user_id": 42,
    }
    assert (doc.source["source"], doc.source["target"]) == ("api", "processor")
    assert (doc.source["partition"], doc.source["offset"]) == (3, 41)


def test_the_same_event_at_another_offset_keeps_its_id() -> None:
    first = document("response_events", response_event(), offset=10)
    again = document("response_events", response_event(), offset=99)
    assert first.id == again.id == f"response_events:{CID}"


def test_response_document_carries_outcome_and_latency() -> None:
    doc = document("response_events", response_event())
    assert doc.source["status"] == "success"
    assert doc.source["original_event_type"] == "pagamento_realizado"
    assert doc.source["latency_ms"] == 250.0
    assert doc.source["event"]["dados"] == {
        "valor": "39.90",
        "forma_pagamento": "Pix",
        "status": "aprovado",
    }


def test_latency_is_absent_without_a_usable_request_timestamp() -> None:
    doc = document("response_events", response_event(request_timestamp=None))
    assert doc.source["latency_ms"] is None


def test_personal_data_is_masked_in_fields_and_nested_objects() -> None:
    doc = document("user_events", request_event(extra={"titular": {"cpf": "98765432100"}}))
    event = doc.source["event"]
    assert (event["nome"], event["email"], event["cpf"]) == (
        "A. M. B.",
        "a***@dominio.com",
        "***.***.***-25",
    )
    assert event["extra"]["titular"]["cpf"] == "***.***.***-00"
    assert_no_clear_pii(doc)


def test_dead_letter_payload_text_is_masked_and_linked_to_its_request() -> None:
    letter = {
        "event_type": "dead_letter",
        "stage": "processing",
        "reason": "invalid event: email já usado por ana@dominio.com",
        "topic": "user_events",
        "partition": 0,
        "offset": 7,
        "payload": orjson.dumps(request_event()).decode(),
    }
    doc = document("dead_letters", letter, offset=5)
    assert doc.id == "dead_letters:processing:user_events:0:7"  # one per refused record
    assert doc.source["correlation_id"] == CID  # but the trail finds them
    assert doc.source["stage"] == "processing"
    assert "a***@dominio.com" in doc.source["event"]["reason"]
    assert '"nome":"A. M. B."' in doc.source["event"]["payload"]
    assert_no_clear_pii(doc)


def test_the_requesting_key_is_a_top_level_field_of_requests_and_outcomes() -> None:
    assert (
        document("user_events", request_event(requested_by="alice")).source["requested_by"]
        == "alice"
    )
    assert (
        document("response_events", response_event(requested_by="alice")).source["requested_by"]
        == "alice"
    )
    assert document("user_events", request_event()).source["requested_by"] is None


def test_a_dead_letter_names_the_key_of_the_request_it_refuses() -> None:
    letter = {
        "event_type": "dead_letter",
        "stage": "processing",
        "reason": "invalid event",
        "payload": orjson.dumps(request_event(requested_by="bob")).decode(),
    }
    assert document("dead_letters", letter).source["requested_by"] == "bob"
    unreadable = {**letter, "payload": "not json at all"}
    assert document("dead_letters", unreadable).source["requested_by"] is None


def test_value_that_is_not_json_is_logged_as_masked_text() -> None:
    doc = document("user_events", b"nome=Ana cpf=123.456.789-25 \xff email ana@dominio.com", 8)
    assert doc.id == "user_events:3:8"
    assert doc.source["event_type"] == "invalid"
    assert doc.source["timestamp"] == "2025-01-02T03:04:00.000000Z"  # the record's time
    assert doc.source["event"]["raw"].startswith("nome=Ana cpf=***.***.***-25")
    assert_no_clear_pii(doc)


@pytest.mark.parametrize("value", [b"[1, 2]", b'"text"', b"", b"{}"])
def test_odd_values_get_a_partition_offset_id(value: bytes) -> None:
    doc = document("user_events", value, offset=9)
    assert doc.id == "user_events:3:9"
    assert doc.source["timestamp"] == "2025-01-02T03:04:00.000000Z"


def test_wrong_typed_envelope_fields_do_not_reach_typed_fields() -> None:
    doc = document(
        "user_events",
        request_event(
            correlation_id="not-a-uuid", user_id="42", timestamp="ontem", source={"a": 1}
        ),
        offset=12,
    )
    assert doc.id == "user_events:3:12"
    assert doc.source["correlation_id"] is None
    assert doc.source["user_id"] is None
    assert doc.source["source"] is None
    assert doc.source["timestamp"] == "2025-01-02T03:04:00.000000Z"


def test_huge_event_is_kept_as_truncated_text() -> None:
    doc = document("user_events", request_event(blob="x" * 300_000))
    assert doc.source["event"]["truncated"] is True
    assert len(doc.source["event"]["raw"]) <= 4096


def test_documents_only_use_mapped_top_level_fields() -> None:
    mapped = set(MAPPINGS["properties"])
    for doc in (
        document("user_events", request_event()),
        document("response_events", response_event()),
        document("dead_letters", {"event_type": "dead_letter", "stage": "x"}),
        document("user_events", b"garbage"),
    ):
        assert set(doc.source) <= mapped


def test_unindexed_copy_keeps_the_event_as_text_only() -> None:
    doc = document("user_events", request_event(plano={"nested": True}))
    copy = unindexed_copy(doc)
    assert copy.id == doc.id
    assert set(copy.source["event"]) == {"unindexed"}
    assert '"plano":{"nested":true}' in copy.source["event"]["unindexed"]


async def test_fallback_file_round_trip_survives_a_torn_line(tmp_path: Path) -> None:
    fallback = FallbackFile(tmp_path / "fallback.jsonl")
    first = [document("user_events", request_event(), offset=i) for i in range(3)]
    await fallback.append(first[:2])
    with fallback.path.open("ab") as file:
        file.write(b'{"_id": "torn')  # a crash in the middle of an append
    await fallback.append(first[2:])
    assert fallback.has_backlog

    backlog = await fallback.take_backlog()
    assert backlog == fallback.replaying and not fallback.path.exists()
    chunks = list(FallbackFile.read(backlog, chunk_size=2))
    assert [len(c) for c in chunks] == [2, 1]
    assert [d.source for c in chunks for d in c] == [d.source for d in first]
    assert await fallback.take_backlog() == backlog  # until it is deleted, it is replayed again
    backlog.unlink()
    assert not fallback.has_backlog and await fallback.take_backlog() is None


def assert_no_clear_pii(doc: Document) -> None:
    text = orjson.dumps(doc.source).decode()
    for secret in ("Ana Maria", "ana@dominio.com", "123.456.789-25", "98765432100"):
        assert secret not in text


def test_a_dead_letter_written_twice_for_one_record_keeps_one_id() -> None:
    letter = {"event_type": "dead_letter", "stage": "processing", "reason": "bad"}
    letter |= {"topic": "user_events", "partition": 2, "offset": 77, "payload": "x"}
    first, again = document("dead_letters", letter, offset=5), document("dead_letters", letter, 9)
    assert first.id == again.id == "dead_letters:processing:user_events:2:77"
    other_stage = document("dead_letters", {**letter, "stage": "event_log"})
    assert other_stage.id != first.id


def test_a_record_read_back_is_logged_like_the_event_it_was() -> None:
    value = orjson.dumps({"event_type": "criar_usuario", "correlation_id": CID, "user_id": 7})
    record = Record("user_events", 2, 40, b"7", value, 1_700_000_000.5)

    document = document_of(cast(EventT, record))

    consumed = build_document("user_events", 2, 40, value, 1_700_000_000.5, datetime.now(UTC))
    assert document.id == consumed.id == f"user_events:{CID}"
    without_log_time = {**document.source, "logged_at": None}
    assert without_log_time == {**consumed.source, "logged_at": None}
    assert document.source["timestamp"] == "2023-11-14T22:13:20.500000Z"  # the record's time
