"""A batch waits for the changelog entries it wrote itself, and for nothing else.

The app's table class under a Faust app that never starts; the changelog topic's
``send_soon`` is a stand-in whose futures the test acknowledges or fails.
"""

from __future__ import annotations

import asyncio
from typing import Any

import faust
import pytest

from app.guard import ReceiptTable
from app.guard.changelog_receipts import collecting_receipts, receipts_in_kafka
from tests.support.changelog_entries import SentEntry


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Any:
    app = faust.App("receipts", broker="kafka://127.0.0.1:1", store="memory://", Table=ReceiptTable)
    table = app.Table("sessions", partitions=1)
    monkeypatch.setattr(table.changelog_topic, "send_soon", lambda **kw: SentEntry(kw["partition"]))
    return table


async def test_a_batch_waits_until_kafka_acknowledges_every_entry_it_wrote(table: Any) -> None:
    with collecting_receipts() as receipts:
        first = table.send_changelog(0, "a", "1")
        second = table.send_changelog(0, "b", "2")
        waiting = asyncio.ensure_future(receipts_in_kafka())
        first.set_result(None)
        await asyncio.sleep(0.01)
        assert not waiting.done()

        second.set_result(None)
        await asyncio.wait_for(waiting, 1)

    assert receipts == []  # what was waited for is not waited for again


async def test_entries_written_by_tasks_the_batch_starts_are_its_own(table: Any) -> None:
    async def write(key: str) -> None:
        table.send_changelog(0, key, "v")

    with collecting_receipts() as receipts:
        await asyncio.gather(write("a"), write("b"))

    assert len(receipts) == 2


async def test_entries_written_outside_a_batch_are_nobodys_to_wait_for(table: Any) -> None:
    table.send_changelog(0, "timer", "v")  # never acknowledged; no collection open

    await asyncio.wait_for(receipts_in_kafka(), 1)

    with collecting_receipts() as receipts:
        await asyncio.wait_for(receipts_in_kafka(), 1)
    assert receipts == []


async def test_a_failed_send_fails_the_wait(table: Any) -> None:
    with collecting_receipts():
        table.send_changelog(0, "a", "1").set_exception(OSError("broker gone"))

        with pytest.raises(OSError, match="broker gone"):
            await receipts_in_kafka()


async def test_collections_do_not_see_each_others_entries(table: Any) -> None:
    async def batch(key: str) -> list[Any]:
        with collecting_receipts() as receipts:
            await asyncio.sleep(0)
            table.send_changelog(0, key, "v")
            await asyncio.sleep(0)
            return list(receipts)

    one, two = await asyncio.gather(batch("a"), batch("b"))

    assert len(one) == len(two) == 1 and one[0] is not two[0]
