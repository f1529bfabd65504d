"""Decoding a batch of request events: the valid ones, and the refusals of the rest.

An event that is not JSON, has wrong fields or an unknown type becomes a dead
letter with the reason, plus an ``error`` outcome when it names a correlation
id (its requester then sees a final status). Shared by every agent that
applies requests, so a refusal reads the same whatever the stream.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import orjson
from faust.types import EventT
from pydantic import ValidationError

from app.dead_letters import dead_letter
from app.events import Envelope, refusal_response, response_event
from app.publishing import Message

#: What a batch decodes into (a request event, usually).
E = TypeVar("E")


@dataclass
class DecodedBatch(Generic[E]):
    """A batch split into valid events and what refusing the others produces."""

    valid: list[tuple[EventT, E]] = field(default_factory=list)
    letters: list[Message] = field(default_factory=list)
    responses: list[Message] = field(default_factory=list)


def decode_batch(
    batch: Sequence[EventT], decode: Callable[[bytes], E], stage: str
) -> DecodedBatch[E]:
    """Each event of ``batch`` decoded by ``decode``, or refused by ``stage``."""
    decoded: DecodedBatch[E] = DecodedBatch()
    for event in batch:
        try:
            decoded.valid.append((event, decode(event.value)))
        except (ValidationError, ValueError) as exc:
            reason = invalid_reason(exc)
            decoded.letters.append(dead_letter(event, reason, stage))
            decoded.responses.extend(_refusal(event.value, reason))
    return decoded


def outcome_message(event: Envelope, status: str, message: str) -> Message:
    """The ``response_events`` message of ``event``'s outcome, keyed by correlation id."""
    value = response_event(event, status, message)  # type: ignore[arg-type]
    return event.correlation_id.encode(), orjson.dumps(value)


def invalid_reason(exc: Exception) -> str:
    """Why an event was refused, naming at most ten broken fields."""
    if isinstance(exc, ValidationError):
        problems = [f"{'.'.join(map(str, e['loc'])) or 'evento'}: {e['msg']}" for e in exc.errors()]
        return "invalid event: " + "; ".join(problems[:10])
    return f"invalid event: {exc}"


def _refusal(raw: bytes, reason: str) -> list[Message]:
    """An error outcome for an invalid event, when it names a correlation id."""
    value = refusal_response(raw, reason)
    if value is None:
        return []
    return [(value["correlation_id"].encode(), orjson.dumps(value))]
