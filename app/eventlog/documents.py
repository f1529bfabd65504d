"""The ``system_logs`` document of a Kafka record: pure functions, masked, never raising.

Each event becomes one document with a deterministic ``_id``, so the same fact
seen twice (a redelivery, an outcome re-sent after a crash, a dead letter
written again) overwrites its document instead of doubling it: a request or an
outcome is named by its topic and correlation id, a dead letter by the record
it refuses, anything else by its topic, partition and offset. Personal data is
masked (:mod:`app.masking`) before a document is built.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson
from faust.types import EventT

from app.clock import iso_utc
from app.eventlog.search_index import Document
from app.masking import mask, mask_text
from app.requests.envelope import check_uuid

#: Longest text kept from a value that is not a JSON object, or from an oversized one.
MAX_RAW_CHARS = 4096
#: An event whose masked JSON is larger is kept as truncated text.
MAX_EVENT_BYTES = 256 * 1024
#: Longest value of a keyword field at the document's top level.
MAX_FIELD_CHARS = 256
_MAX_LONG = 2**63 - 1
_CORRELATION_IN_TEXT = re.compile(r'"correlation_id"\s*:\s*"([0-9a-fA-F-]{36})"')
# An API key's name (at most 64 characters, app.requests.envelope.Envelope) in a refused payload.
_REQUESTER_IN_TEXT = re.compile(r'"requested_by"\s*:\s*"([^"\\]{1,64})"')


def build_document(
    topic: str,
    partition: int,
    offset: int,
    value: bytes | None,
    record_time: float | None,
    logged_at: datetime,
) -> Document:
    """The ``system_logs`` document of one Kafka record (pure; never raises on bad input)."""
    event, event_type = _masked_event(value)
    correlation_id = _correlation_id(event)
    source: dict[str, Any] = {
        "timestamp": _event_time(event.get("timestamp"), record_time, logged_at),
        "logged_at": iso_utc(logged_at),
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "correlation_id": correlation_id or _payload_correlation_id(event),
        "event_type": event_type,
        "source": _keyword(event.get("source")),
        "target": _keyword(event.get("target")),
        "user_id": _user_id(event.get("user_id")),
        "requested_by": _keyword(event.get("requested_by")) or _payload_requester(event),
        **_outcome_fields(event, event_type),
        "event": event,
    }
    return Document(_document_id(topic, partition, offset, event, correlation_id), source)


def _document_id(
    topic: str, partition: int, offset: int, event: dict[str, Any], correlation_id: str | None
) -> str:
    """One id per fact: a request, an outcome, a refusal of one record by one stage.

    So the same fact seen twice (a redelivery, a response re-sent after a
    crash, a dead letter written again) overwrites its document.
    """
    if event.get("event_type") == "dead_letter":
        origin = _dead_letter_origin(event)
        return f"{topic}:{origin}" if origin else f"{topic}:{partition}:{offset}"
    if correlation_id:
        return f"{topic}:{correlation_id}"
    return f"{topic}:{partition}:{offset}"


def _dead_letter_origin(event: dict[str, Any]) -> str | None:
    """``stage:topic:partition:offset`` of the record a dead letter refuses."""
    parts = [event.get(field) for field in ("stage", "topic", "partition", "offset")]
    if all(isinstance(p, str | int) and not isinstance(p, bool) for p in parts):
        return ":".join(str(p) for p in parts)
    return None


def _masked_event(value: bytes | None) -> tuple[dict[str, Any], str | None]:
    """The event as a masked object, and its type (``invalid`` if not a JSON object)."""
    raw = value or b""
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        return {"raw": _raw_text(raw)}, "invalid"
    event = mask(parsed)
    # Masking grows a value by a few characters at most: small events need no check.
    if len(raw) > MAX_EVENT_BYTES // 2:
        event = _bounded(event)
    return event, _keyword(event.get("event_type"))


def _raw_text(raw: bytes) -> str:
    return mask_text(raw[:MAX_RAW_CHARS].decode("utf-8", errors="replace"))


def _bounded(event: dict[str, Any]) -> dict[str, Any]:
    """``event``, or its text cut to :data:`MAX_RAW_CHARS` when it is huge."""
    encoded = orjson.dumps(event)
    if len(encoded) <= MAX_EVENT_BYTES:
        return event
    return {"raw": encoded[:MAX_RAW_CHARS].decode("utf-8", errors="replace"), "truncated": True}


def _correlation_id(event: dict[str, Any]) -> str | None:
    value = event.get("correlation_id")
    if not isinstance(value, str):
        return None
    try:
        return check_uuid(value)
    except ValueError:
        return None


def _payload_correlation_id(event: dict[str, Any]) -> str | None:
    """A dead letter's correlation id, read from the refused payload's text."""
    payload = event.get("payload")
    match = _CORRELATION_IN_TEXT.search(payload) if isinstance(payload, str) else None
    if match is None:
        return None
    return _correlation_id({"correlation_id": match.group(1)})


def _payload_requester(event: dict[str, Any]) -> str | None:
    """The key that made the request a dead letter refuses, read from the payload's text.

    So its requester finds the refusal in the log explorer beside the request.
    """
    payload = event.get("payload")
    match = _REQUESTER_IN_TEXT.search(payload) if isinstance(payload, str) else None
    return match.group(1) if match else None


def _outcome_fields(event: dict[str, Any], event_type: str | None) -> dict[str, Any]:
    if event_type == "response":
        return {
            "original_event_type": _keyword(event.get("original_event_type")),
            "status": _keyword(event.get("status")),
            "latency_ms": _latency_ms(event.get("timestamp"), event.get("request_timestamp")),
        }
    if event_type == "dead_letter":
        return {"stage": _keyword(event.get("stage"))}
    return {}


def _latency_ms(answered: object, requested: object) -> float | None:
    end, start = _parse_time(answered), _parse_time(requested)
    if end is None or start is None:
        return None
    return round((end - start).total_seconds() * 1000, 3)


def _event_time(value: object, record_time: float | None, logged_at: datetime) -> str:
    """The event's own time, else the Kafka record's, else when it was logged."""
    moment = _parse_time(value)
    if moment is None and record_time is not None and record_time > 0:
        moment = datetime.fromtimestamp(record_time, UTC)
    return iso_utc(moment or logged_at)


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _keyword(value: object) -> str | None:
    return value[:MAX_FIELD_CHARS] if isinstance(value, str) else None


def _user_id(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_LONG:
        return value
    return None


def unindexed_copy(document: Document) -> Document:
    """``document`` with its event as plain text: no field left that a mapping can refuse."""
    text = orjson.dumps(document.source.get("event")).decode()
    event = {"unindexed": text[:MAX_RAW_CHARS]}
    return Document(document.id, {**document.source, "event": event})


def document_of(event: EventT) -> Document:
    """The document of a consumed event."""
    message = event.message
    value = message.value if isinstance(message.value, bytes) else None
    return build_document(
        message.topic,
        message.partition,
        message.offset,
        value,
        message.timestamp,
        datetime.now(UTC),
    )
