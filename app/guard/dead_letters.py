"""The dead-letter topic: events that can never be processed, kept with the reason.

A dead letter is a JSON object naming where the event came from (topic,
partition, offset), why it was refused, and its payload (as text, cut to
:data:`MAX_PAYLOAD_CHARS` bytes so a huge poison value cannot block the topic).
Its Kafka key is the refused event's own key, so a replay lands the event on
the partition it came from.

``replays`` counts how many times an operator re-sent the event
(``faust -A app dead-letters replay``, :mod:`app.dead_letter_replay`): a
replay writes the raised count into the event it re-sends, and an event that
fails again comes back here with that count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import orjson
from faust.types import EventT, TopicT
from prometheus_client import Counter
from pydantic import BaseModel, ConfigDict, Field

from app.clock import iso_now
from app.kafka.publishing import Message, publish_all
from app.requests.envelope import SCHEMA_VERSION, Replays, SchemaVersion, replays_in
from app.requests.fields import UtcDateTime
from app.telemetry import live_figures

MAX_PAYLOAD_CHARS = 64 * 1024

#: Every dead letter this process produced, counted once Kafka has it (alerts watch it).
DEAD_LETTERS = Counter("dead_letters_total", "Dead letters produced to the dead-letter topic")


class DeadLetter(BaseModel):
    """``dead_letter``: an event a stage refused for good, with where it came from and why."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: Literal["dead_letter"] = "dead_letter"
    schema_version: SchemaVersion = SCHEMA_VERSION
    timestamp: UtcDateTime = Field(description="Quando o estágio recusou o evento")
    stage: str = Field(description="O estágio (agente) que recusou: processing, viewing...")
    reason: str = Field(description="Por que, com cada regra violada ou o erro")
    topic: str = Field(description="O tópico de origem do evento")
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)
    replays: Replays = 0
    payload_bytes: int = Field(ge=0, description="O tamanho do evento original, em bytes")
    payload: str = Field(description=f"O evento como texto, cortado em {MAX_PAYLOAD_CHARS} bytes")

    @property
    def payload_is_whole(self) -> bool:
        """Whether ``payload`` is the refused event byte for byte (not cut, valid UTF-8)."""
        text = self.payload
        return "\ufffd" not in text and len(text.encode()) == self.payload_bytes

    def refuses(self, value: bytes) -> bool:
        """Whether ``value`` is the record this letter refused (a recreated topic reuses offsets)."""
        return len(value) == self.payload_bytes and payload_text(value) == self.payload


def dead_letter(event: EventT, reason: str, stage: str) -> Message:
    """The dead-letter message for ``event``, refused by ``stage`` for ``reason``."""
    message = event.message
    payload = message.value if isinstance(message.value, bytes) else b""
    value: dict[str, Any] = {
        "event_type": "dead_letter",
        "schema_version": SCHEMA_VERSION,
        "timestamp": iso_now(),
        "stage": stage,
        "reason": reason,
        "topic": message.topic,
        "partition": message.partition,
        "offset": message.offset,
        "replays": _replays_of(payload),
        "payload_bytes": len(payload),
        "payload": payload_text(payload),
    }
    key = message.key if isinstance(message.key, bytes) else None
    return key, orjson.dumps(value)


def payload_text(payload: bytes) -> str:
    """What a dead letter keeps of a payload: its first :data:`MAX_PAYLOAD_CHARS` bytes, as text."""
    return payload[:MAX_PAYLOAD_CHARS].decode("utf-8", errors="replace")


def _replays_of(payload: bytes) -> int:
    """The ``replays`` count the refused event carries (0 if it is not a JSON object)."""
    try:
        return replays_in(orjson.loads(payload))
    except orjson.JSONDecodeError:
        return 0


async def send_dead_letters(topic: TopicT, letters: Sequence[Message]) -> None:
    """Produce dead letters to the dead-letter ``topic``; return once Kafka has them all.

    Counted then: in ``dead_letters_total`` (the alerts) and the dashboard's live figures.
    """
    if letters:
        await publish_all(topic, letters)
        DEAD_LETTERS.inc(len(letters))
        live_figures.record_dead_letters(len(letters))
