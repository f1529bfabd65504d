"""Dead letters are counted for Prometheus once Kafka has them, never before."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from faust.types import TopicT
from prometheus_client import REGISTRY

from app import dead_letters
from app.publishing import Message


def counted() -> float:
    return REGISTRY.get_sample_value("dead_letters_total") or 0.0


async def test_dead_letters_are_counted_once_produced(monkeypatch: pytest.MonkeyPatch) -> None:
    produced: list[Message] = []

    async def publish(topic: TopicT, messages: Sequence[Message]) -> None:
        produced.extend(messages)

    monkeypatch.setattr(dead_letters, "publish_all", publish)
    before = counted()
    await dead_letters.send_dead_letters([(None, b"{}"), (b"k", b"{}")])
    await dead_letters.send_dead_letters([])
    assert len(produced) == 2 and counted() - before == 2


async def test_a_failed_produce_counts_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    async def publish(topic: TopicT, messages: Sequence[Message]) -> None:
        raise OSError("broker unreachable")

    monkeypatch.setattr(dead_letters, "publish_all", publish)
    before = counted()
    with pytest.raises(OSError):
        await dead_letters.send_dead_letters([(None, b"{}")])
    assert counted() == before
