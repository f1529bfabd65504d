"""Decoding a batch of command events, and the outcomes that answer them.

Shared by the agents that apply commands (``user_events``, ``session_events``):
an event that does not decode (not JSON, wrong fields, unknown type) becomes a
dead letter with the reason, plus an ``error`` outcome when it names a
correlation id, so that its requester sees a final status; every command
applied is answered by one outcome on ``response_events``, keyed by its
correlation id.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

import orjson
from faust.types import EventT
from pydantic import ValidationError

from app.guard.dead_letters import dead_letter
from app.kafka.publishing import Message
from app.requests.envelope import Envelope
from app.requests.outcomes import describe, refusal_response, response_event

E = TypeVar("E")


@dataclass
class DecodedBatch(Generic[E]):
    """A batch split into decoded commands and the answers to the refused events."""

    valid: list[tuple[EventT, E]] = field(default_factory=list)
    letters: list[Message] = field(default_factory=list)
    responses: list[Message] = field(default_factory=list)

    def refuse(self, event: EventT, reason: str, stage: str) -> None:
        """Dead-letter ``event`` for ``reason``, with an error outcome if it names a request."""
        self.letters.append(dead_letter(event, reason, stage))
        value = refusal_response(event.value, reason)
        if value is not None:
            self.responses.append((value["correlation_id"].encode(), orjson.dumps(value)))


def decode_batch(
    batch: Sequence[EventT], decode: Callable[[bytes], E], stage: str
) -> DecodedBatch[E]:
    """Each event of ``batch`` decoded by ``decode``, in order; the rest refused."""
    decoded: DecodedBatch[E] = DecodedBatch()
    for event in batch:
        try:
            decoded.valid.append((event, decode(event.value)))
        except ValueError as exc:  # pydantic's ValidationError included
            decoded.refuse(event, invalid_reason(exc), stage)
    return decoded


def invalid_reason(exc: Exception) -> str:
    """Why an event is invalid: each broken field rule (the first ten), or the error."""
    if isinstance(exc, ValidationError):
        problems = [f"{'.'.join(map(str, e['loc'])) or 'evento'}: {e['msg']}" for e in exc.errors()]
        return "invalid event: " + "; ".join(problems[:10])
    return f"invalid event: {exc}"


def outcome_message(
    request: Envelope, status: Literal["success", "error"], message: str
) -> Message:
    """The ``response_events`` message giving ``request`` its outcome."""
    return request.correlation_id.encode(), orjson.dumps(response_event(request, status, message))


def applied_outcome(event: Envelope, code: str) -> Message:
    """The outcome message of ``event``, applied with outcome ``code`` (``applied``, ``user_not_found``...)."""
    return outcome_message(event, *describe(event, code))
