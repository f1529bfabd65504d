"""The dead-letter topic: events that can never be processed, kept with the reason.

A dead letter is a JSON object naming where the event came from (topic,
partition, offset), why it was refused, and its payload (as text, cut to
:data:`MAX_PAYLOAD_CHARS` so a huge poison value cannot block the topic).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from faust.types import EventT
from prometheus_client import Counter

from app.clock import iso_now
from app.publishing import Message, publish_all
from app.topics import dead_letters

MAX_PAYLOAD_CHARS = 64 * 1024

#: Every dead letter this process produced, counted once Kafka has it (alerts watch it).
DEAD_LETTERS = Counter("dead_letters_total", "Dead letters produced to the dead-letter topic")


def dead_letter(event: EventT, reason: str, stage: str) -> Message:
    """The dead-letter message for ``event``, refused by ``stage`` for ``reason``."""
    message = event.message
    payload = message.value if isinstance(message.value, bytes) else b""
    value: dict[str, Any] = {
        "event_type": "dead_letter",
        "timestamp": iso_now(),
        "stage": stage,
        "reason": reason,
        "topic": message.topic,
        "partition": message.partition,
        "offset": message.offset,
        "payload_bytes": len(payload),
        "payload": payload[:MAX_PAYLOAD_CHARS].decode("utf-8", errors="replace"),
    }
    key = message.key if isinstance(message.key, bytes) else None
    return key, orjson.dumps(value)


async def send_dead_letters(letters: Sequence[Message]) -> None:
    """Produce dead letters and wait until Kafka has them."""
    if letters:
        await publish_all(dead_letters, letters)
        DEAD_LETTERS.inc(len(letters))
