"""agents.event_log: events Faust skipped are logged with the next batch, then checkpointed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import orjson
import pytest
from faust.types import EventT

from agents import event_log
from agents.event_log import build_document, document_of, log_guarded
from agents.gaps import Checkpoint, Record

if TYPE_CHECKING:
    from tests.unit.agents.conftest import FakeKafka, MemoryStore

CID = "01a222cc-d2dd-7673-9115-162d98e7896f"


@pytest.fixture
def logged(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Where each event written to the log came from, in the order written."""
    written: list[tuple[int, int]] = []

    async def log_batch(batch: Sequence[EventT]) -> None:
        written.extend((e.message.partition, e.message.offset) for e in batch)

    monkeypatch.setattr(event_log, "log_batch", log_batch)
    return written


def test_a_record_read_back_is_logged_like_the_event_it_was() -> None:
    value = orjson.dumps({"event_type": "criar_usuario", "correlation_id": CID, "user_id": 7})
    record = Record("user_events", 2, 40, b"7", value, 1_700_000_000.5)

    document = document_of(cast(EventT, record))

    consumed = build_document("user_events", 2, 40, value, 1_700_000_000.5, datetime.now(UTC))
    assert document.id == consumed.id == f"user_events:{CID}"
    without_log_time = {**document.source, "logged_at": None}
    assert without_log_time == {**consumed.source, "logged_at": None}
    assert document.source["timestamp"] == "2023-11-14T22:13:20.500000Z"  # the record's time


async def test_skipped_events_are_logged_with_the_batch_then_checkpointed(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka, logged: list[Any]
) -> None:
    store.saved = {0: 5}

    await log_guarded([kafka.record(0, 8), kafka.record(0, 9)], checkpoint)

    assert logged == [(0, 5), (0, 6), (0, 7), (0, 8), (0, 9)]
    assert store.saved == {0: 10}


async def test_a_batch_that_cannot_be_logged_leaves_the_checkpoint_where_it_was(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing(batch: Sequence[EventT]) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(event_log, "log_batch", failing)
    store.saved = {0: 5}

    with pytest.raises(RuntimeError):
        await log_guarded([kafka.record(0, 8)], checkpoint)
    assert store.saved == {0: 5}


async def test_an_event_that_never_logs_is_dead_lettered_once_and_passed(
    checkpoint: Checkpoint, store: MemoryStore, kafka: FakeKafka, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[int] = []
    letters: list[Any] = []

    async def log_batch(batch: Sequence[EventT]) -> None:
        if any(e.message.offset == 6 for e in batch):
            raise RuntimeError("this one always fails")
        written.extend(e.message.offset for e in batch)

    async def send_dead_letters(batch: Sequence[Any]) -> None:
        letters.extend(batch)

    monkeypatch.setattr(event_log, "log_batch", log_batch)
    monkeypatch.setattr(event_log, "send_dead_letters", send_dead_letters)
    store.saved = {0: 5}

    await event_log._log_one_by_one([kafka.record(0, 7)], checkpoint)  # 5 and 6 were skipped

    assert written == [5, 7]
    assert len(letters) == 1
    assert store.saved == {0: 8}  # the next batch will not read 6 back again
