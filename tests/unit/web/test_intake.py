"""Request bodies: demo data when empty, 400 when not JSON, 422 per field; 503 when Kafka
does not take the event."""

import uuid
from collections.abc import Iterator

import pytest
from faust.sensors import Monitor

from app.accounts.commands import Preferences
from app.kafka.intake_producer import DeliveryFailed
from app.viewing.viewing_events import RecommendationsRequested
from web import intake
from web.circuit import CircuitBreaker
from web.errors import InvalidFields, MalformedBody, NotFound, Unavailable
from web.intake import path_session_user_id, path_user_id, read_command, read_fields


class BodyRequest:
    """The part of an aiohttp request that ``read_command`` uses."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    async def read(self) -> bytes:
        return self._body


def demo() -> Preferences:
    return Preferences(idioma="es-ES", notificacoes=False)


async def parse(body: bytes, fallback: dict[str, str] | None = None) -> Preferences:
    return await read_command(BodyRequest(body), Preferences, demo, fallback)


async def test_empty_body_gives_demo_data() -> None:
    assert await parse(b"  ") == demo()


async def test_query_fields_are_used_when_there_is_no_body() -> None:
    assert (await parse(b"", {"idioma": "en-US"})).idioma == "en-US"


async def test_body_wins_over_query() -> None:
    assert (await parse(b'{"idioma": "fr"}', {"idioma": "en-US"})).idioma == "fr"


@pytest.mark.parametrize("body", [b"{oops", b"[1, 2]", b'"text"'])
async def test_non_object_bodies_are_malformed(body: bytes) -> None:
    with pytest.raises(MalformedBody):
        await parse(body)


async def test_invalid_fields_are_listed_one_by_one() -> None:
    with pytest.raises(InvalidFields) as err:
        await parse(b'{"idioma": "xx_YY", "notificacoes": "maybe"}')
    assert {f["campo"] for f in err.value.body["campos"]} == {"idioma", "notificacoes"}


@pytest.mark.parametrize("raw", ["abc", "0", "-1", str(2**53), "1e3", "٣", "9" * 5000])
def test_path_ids_that_cannot_name_a_user_are_not_found(raw: str) -> None:
    with pytest.raises(NotFound):
        path_user_id(raw)


def test_path_ids_within_range_are_accepted() -> None:
    assert path_user_id(str(2**53 - 1)) == 2**53 - 1


async def test_read_fields_gives_the_body_else_the_query_else_nothing() -> None:
    assert await read_fields(BodyRequest(b'{"a": 1}'), {"b": "2"}) == {"a": 1}
    assert await read_fields(BodyRequest(b""), {"b": "2"}) == {"b": "2"}
    assert await read_fields(BodyRequest(b" "), {}) is None


def test_a_session_id_in_the_path_names_its_user() -> None:
    assert path_session_user_id("31-01a222cc-d2dd-7673-9115-162d98e7896f") == 31


@pytest.mark.parametrize(
    "raw", ["31", "abc", "031-01a222cc-d2dd-7673-9115-162d98e7896f", "x" * 5000]
)
def test_a_malformed_session_id_in_the_path_is_404(raw: str) -> None:
    with pytest.raises(NotFound):
        path_session_user_id(raw)


class RefusingProducer:
    """The intake's producer whose broker is gone."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []

    async def send(self, topic: str, value: bytes, key: bytes) -> None:
        self.sent.append((topic, value, key))
        raise DeliveryFailed("Local: Message timed out")


@pytest.fixture
def producer(monkeypatch: pytest.MonkeyPatch) -> RefusingProducer:
    refusing = RefusingProducer()
    monkeypatch.setattr(intake, "intake_producer", refusing)
    monkeypatch.setattr(intake, "kafka_writes", CircuitBreaker(cooldown_s=60.0))
    return refusing


@pytest.fixture
def monitor() -> Iterator[Monitor]:
    """A Faust sensor counting sends, as the worker's Prometheus monitor does."""
    sensor, sensors = Monitor(), intake.services.app.sensors
    sensors.add(sensor)
    yield sensor
    sensors.remove(sensor)


async def test_an_event_kafka_refuses_is_a_503_naming_it_counted_as_a_failed_send(
    producer: RefusingProducer, monitor: Monitor
) -> None:
    event = RecommendationsRequested(correlation_id=str(uuid.uuid4()), user_id=7)
    with pytest.raises(Unavailable) as refused:
        await intake.publish_event(event)
    assert refused.value.body["correlation_id"] == event.correlation_id
    assert refused.value.body["status_url"] == f"/status/{event.correlation_id}"
    topic = intake.services.topics.user_events.get_topic_name()
    assert [(t, k) for t, _, k in producer.sent] == [(topic, b"7")]
    assert monitor.send_errors == 1


async def test_after_a_refused_event_the_next_one_is_refused_without_trying_kafka(
    producer: RefusingProducer,
) -> None:
    first = RecommendationsRequested(correlation_id=str(uuid.uuid4()), user_id=7)
    second = RecommendationsRequested(correlation_id=str(uuid.uuid4()), user_id=8)
    for event in (first, second):
        with pytest.raises(Unavailable):
            await intake.publish_event(event)
    assert len(producer.sent) == 1  # the breaker opened: the second never reached the producer
