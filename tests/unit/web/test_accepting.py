"""web.accepting: what a POST does when Kafka does not take its event."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError
from faust.sensors import Monitor

from app.viewing.viewing_events import RecommendationsRequested
from web import accepting
from web.circuit import CircuitBreaker
from web.errors import Unavailable


class RefusingProducer:
    """An aiokafka producer whose broker is gone."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes | None]] = []

    async def send(self, topic: str, value: bytes, key: bytes | None = None) -> Any:
        self.sent.append((topic, value, key))
        raise KafkaConnectionError("broker down")


@pytest.fixture
def producer(monkeypatch: pytest.MonkeyPatch) -> RefusingProducer:
    refusing = RefusingProducer()
    monkeypatch.setattr(accepting, "kafka_producer", lambda app: refusing)
    monkeypatch.setattr(accepting, "kafka_writes", CircuitBreaker(cooldown_s=60.0))
    return refusing


@pytest.fixture
def monitor() -> Iterator[Monitor]:
    """A Faust sensor counting sends, as the worker's Prometheus monitor does."""
    sensor, sensors = Monitor(), accepting.services.app.sensors
    sensors.add(sensor)
    yield sensor
    sensors.remove(sensor)


async def test_an_event_kafka_refuses_is_a_503_naming_it_counted_as_a_failed_send(
    producer: RefusingProducer, monitor: Monitor
) -> None:
    event = RecommendationsRequested(correlation_id=str(uuid.uuid4()), user_id=7)
    with pytest.raises(Unavailable) as refused:
        await accepting.publish_event(event)
    assert refused.value.body["correlation_id"] == event.correlation_id
    assert refused.value.body["status_url"] == f"/status/{event.correlation_id}"
    topic = accepting.services.topics.user_events.get_topic_name()
    assert [(t, k) for t, _, k in producer.sent] == [(topic, b"7")]
    assert monitor.send_errors == 1


async def test_after_a_refused_event_the_next_one_is_refused_without_trying_kafka(
    producer: RefusingProducer,
) -> None:
    first = RecommendationsRequested(correlation_id=str(uuid.uuid4()), user_id=7)
    second = RecommendationsRequested(correlation_id=str(uuid.uuid4()), user_id=8)
    for event in (first, second):
        with pytest.raises(Unavailable):
            await accepting.publish_event(event)
    assert len(producer.sent) == 1  # the breaker opened: the second never reached the producer
