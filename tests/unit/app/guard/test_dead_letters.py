"""Dead letters: where the event came from, why, its payload, its version and replay count;
counted for Prometheus once Kafka has them, never before."""

from __future__ import annotations

from collections.abc import Sequence

import faust
import orjson
import pytest
from faust.types import TopicT
from prometheus_client import REGISTRY

from app.guard import dead_letters
from app.guard.dead_letters import MAX_PAYLOAD_CHARS, DeadLetter, dead_letter
from app.kafka.publishing import Message
from app.kafka.readers import Record
from app.requests.envelope import SCHEMA_VERSION

#: Where the letters go (publishing is replaced in these tests).
TOPIC = faust.App("dead-letter-tests", broker="kafka://127.0.0.1:1").topic("dead_letters")


def refused(value: bytes, key: bytes | None = b"7") -> Record:
    return Record("user_events", 2, 41, key, value, 1.0)


def test_a_dead_letter_names_the_record_its_reason_and_its_version() -> None:
    key, value = dead_letter(refused(b'{"user_id": 7}'), "invalid event: x", "processing")
    letter = DeadLetter.model_validate_json(value)
    assert key == b"7"
    assert (letter.topic, letter.partition, letter.offset) == ("user_events", 2, 41)
    assert (letter.stage, letter.reason) == ("processing", "invalid event: x")
    assert letter.schema_version == SCHEMA_VERSION
    assert letter.payload == '{"user_id": 7}' and letter.payload_is_whole


def test_a_replayed_event_that_fails_again_keeps_its_replay_count() -> None:
    _, value = dead_letter(refused(b'{"user_id": 7, "replays": 2}'), "again", "processing")
    assert DeadLetter.model_validate_json(value).replays == 2
    _, value = dead_letter(refused(b"not json"), "not json", "processing")
    assert DeadLetter.model_validate_json(value).replays == 0


def test_an_over_long_payload_is_cut_and_says_it_is_not_whole() -> None:
    huge = orjson.dumps({"nome": "x" * (MAX_PAYLOAD_CHARS + 10)})
    _, value = dead_letter(refused(huge), "too big", "processing")
    letter = DeadLetter.model_validate_json(value)
    assert len(letter.payload) == MAX_PAYLOAD_CHARS
    assert letter.payload_bytes == len(huge)
    assert not letter.payload_is_whole


def test_a_payload_that_is_not_utf8_is_not_whole_even_at_its_length() -> None:
    # One replacement character (3 bytes) stands for 3 bytes that were not UTF-8.
    _, value = dead_letter(refused(b"\xf0\x9f\x98abc"), "bad bytes", "processing")
    letter = DeadLetter.model_validate_json(value)
    assert len(letter.payload.encode()) == letter.payload_bytes
    assert not letter.payload_is_whole


def test_a_dead_letter_of_version_1_reads_without_version_or_count() -> None:
    v1 = {
        "event_type": "dead_letter",
        "timestamp": "2026-11-28T10:00:00.000000Z",
        "stage": "processing",
        "reason": "r",
        "topic": "user_events",
        "partition": 0,
        "offset": 3,
        "payload_bytes": 2,
        "payload": "{}",
    }
    letter = DeadLetter.model_validate(v1)
    assert (letter.schema_version, letter.replays) == (1, 0)


def counted() -> float:
    return REGISTRY.get_sample_value("dead_letters_total") or 0.0


async def test_dead_letters_are_counted_once_produced(monkeypatch: pytest.MonkeyPatch) -> None:
    produced: list[Message] = []

    async def publish(topic: TopicT, messages: Sequence[Message]) -> None:
        produced.extend(messages)

    monkeypatch.setattr(dead_letters, "publish_all", publish)
    before = counted()
    await dead_letters.send_dead_letters(TOPIC, [(None, b"{}"), (b"k", b"{}")])
    await dead_letters.send_dead_letters(TOPIC, [])
    assert len(produced) == 2 and counted() - before == 2


async def test_a_failed_produce_counts_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    async def publish(topic: TopicT, messages: Sequence[Message]) -> None:
        raise OSError("broker unreachable")

    monkeypatch.setattr(dead_letters, "publish_all", publish)
    before = counted()
    with pytest.raises(OSError):
        await dead_letters.send_dead_letters(TOPIC, [(None, b"{}")])
    assert counted() == before
