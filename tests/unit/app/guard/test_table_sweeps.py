"""Table sweeps: expired keys leave the owned partitions, each with a changelog tombstone.

Real RocksDB databases (the app's store, rocksdict) under the app's table class; the
ownership and the changelog topic are stand-ins (no broker).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import faust
import pytest

from app.guard import KEEP, ReceiptTable, TableSweep
from app.table_store import STORE_URL, SharedMemoryStore
from tests.support.changelog_entries import SentEntry

TOPIC = "response_events"


class Ownership:
    """Owns ``partitions`` in generation 0, until :meth:`rebalance` is called."""

    def __init__(self, app: faust.App, partitions: set[int]) -> None:
        self.app = app
        self.partitions = partitions
        self.generation = 0
        self.settled = True

    def owned(self, table: Any) -> set[int]:
        return self.partitions if self.settled else set()

    def rebalance(self) -> None:
        self.generation += 1
        self.settled = False


class Changelog:
    """What the table's changelog topic is sent, acknowledged at once unless ``held``."""

    def __init__(self) -> None:
        self.sent: list[tuple[int | None, bytes, object]] = []
        self.held = False
        self.unacknowledged: list[SentEntry] = []

    def send_soon(self, *, key: bytes, value: object, partition: int | None, **_: object) -> Any:
        self.sent.append((partition, key, value))
        sent = SentEntry(partition)
        if self.held:
            self.unacknowledged.append(sent)
        else:
            sent.set_result(None)
        return sent

    def acknowledge(self) -> None:
        while self.unacknowledged:
            self.unacknowledged.pop().set_result(None)


@pytest.fixture
def table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    app = faust.App("sweeps", store=STORE_URL, datadir=str(tmp_path), Table=ReceiptTable)
    table = app.Table("statuses", partitions=2, key_type=bytes)
    changelog = Changelog()
    monkeypatch.setattr(table.changelog_topic, "send_soon", changelog.send_soon)
    table.changelog = changelog
    return table


def _store(table: Any) -> SharedMemoryStore:
    store = table.data
    assert isinstance(store, SharedMemoryStore)
    return store


def _fill(table: Any, partition: int, values: dict[bytes, bytes]) -> None:
    db = _store(table)._db_for_partition(partition)
    for key, value in values.items():
        db[key] = value


def _keys(table: Any, partition: int) -> set[bytes]:
    return {key for key, _ in _store(table).partition_items(partition, None, 1000)}


async def test_expired_keys_of_owned_partitions_go_with_a_tombstone_each(table: Any) -> None:
    _fill(table, 0, {b"a-old": b"old", b"b-new": b"new", b"c-old": b"old"})
    _fill(table, 1, {b"d-old": b"old"})  # a standby's partition: not this worker's to delete
    ownership = Ownership(table.app, {0})
    sweep = TableSweep(ownership, table, TOPIC, chunk=2)  # type: ignore[arg-type]

    deleted = await sweep.run(lambda value: value == b"old")

    assert deleted == 2
    assert _keys(table, 0) == {b"b-new"}
    assert _keys(table, 1) == {b"d-old"}
    assert table.changelog.sent == [(0, b"a-old", None), (0, b"c-old", None)]


async def test_a_rebalance_stops_the_sweep_before_its_next_chunk(table: Any) -> None:
    _fill(table, 0, {b"k%d" % n: b"old" for n in range(5)})
    ownership = Ownership(table.app, {0})
    sweep = TableSweep(ownership, table, TOPIC, chunk=2)  # type: ignore[arg-type]

    def expired_then_rebalance(value: bytes) -> bool:
        ownership.rebalance()  # the group moves while the first chunk is in hand
        return True

    deleted = await sweep.run(expired_then_rebalance)

    assert deleted == 2  # the chunk in hand finishes (no await in it); no other is read
    assert _keys(table, 0) == {b"k2", b"k3", b"k4"}
    assert [key for _, key, _ in table.changelog.sent] == [b"k0", b"k1"]


async def test_a_renewal_rewrites_or_deletes_the_values_it_changes_and_keeps_the_rest(
    table: Any,
) -> None:
    _fill(table, 0, {b"a": b"shrink", b"b": b"keep", b"c": b"drop"})
    sweep = TableSweep(Ownership(table.app, {0}), table, TOPIC)  # type: ignore[arg-type]
    renewals = {b"shrink": b"smaller", b"keep": KEEP, b"drop": None}

    changed = await sweep.renew(lambda value: renewals[value])

    assert changed == 2
    assert dict(_store(table).partition_items(0, None, 10)) == {
        b"a": b"smaller",
        b"b": b"keep",
    }
    assert table.changelog.sent == [(0, b"a", b"smaller"), (0, b"c", None)]


async def test_nothing_expired_sends_nothing(table: Any) -> None:
    _fill(table, 0, {b"k": b"new"})
    sweep = TableSweep(Ownership(table.app, {0, 1}), table, TOPIC)  # type: ignore[arg-type]

    assert await sweep.run(lambda value: False) == 0
    assert table.changelog.sent == []


async def test_each_chunk_waits_for_kafka_to_acknowledge_its_tombstones_before_the_next(
    table: Any,
) -> None:
    _fill(table, 0, {b"k%d" % n: b"old" for n in range(3)})
    sweep = TableSweep(Ownership(table.app, {0}), table, TOPIC, chunk=2)  # type: ignore[arg-type]
    table.changelog.held = True

    sweeping = asyncio.ensure_future(sweep.run(lambda value: True))
    await asyncio.sleep(0.05)
    assert [key for _, key, _ in table.changelog.sent] == [b"k0", b"k1"]  # the first chunk only
    table.changelog.acknowledge()
    await asyncio.sleep(0.05)
    assert [key for _, key, _ in table.changelog.sent] == [b"k0", b"k1", b"k2"]
    assert not sweeping.done()  # the last tombstone is not in Kafka yet

    table.changelog.acknowledge()
    assert await asyncio.wait_for(sweeping, 1) == 3


def test_partition_items_pages_through_a_partition_in_key_order(table: Any) -> None:
    _fill(table, 1, {b"k%d" % n: b"v" for n in range(5)})
    store = _store(table)

    first = store.partition_items(1, None, 2)
    rest = store.partition_items(1, first[-1][0], 10)

    assert [key for key, _ in first + rest] == [b"k0", b"k1", b"k2", b"k3", b"k4"]
    assert store.partition_items(0, None, 10) == []  # never opened: nothing read
