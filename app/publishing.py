"""Producing to Kafka without losing a message: wait for every acknowledgement.

An agent must not move past its input until what it produced is durable, or a
crash right after the offset commit would lose the output. Kafka outages are
waited out with backoff; output is idempotent downstream (keyed by correlation
id), so a retry that duplicates a message is harmless.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from aiokafka.errors import KafkaError
from faust.types import TopicT

from app.retry import Backoff

log = logging.getLogger(__name__)

#: One message to produce: (key, value).
Message = tuple[bytes | None, bytes]


async def publish_all(topic: TopicT, messages: Sequence[Message]) -> None:
    """Produce ``messages`` to ``topic`` and return once Kafka acknowledged all."""
    backoff = Backoff()
    while True:
        try:
            await _send_and_confirm(topic, messages)
            return
        except (KafkaError, TimeoutError) as exc:
            log.warning("producing to %s failed (%r); retrying", topic.get_topic_name(), exc)
            await backoff.wait()


async def _send_and_confirm(topic: TopicT, messages: Sequence[Message]) -> None:
    pending = [await topic.send(key=key, value=value) for key, value in messages]
    await asyncio.gather(*pending)
