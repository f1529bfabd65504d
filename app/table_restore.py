"""Recovering a table partition far behind its changelog by copying it in bulk.

Faust recovers a table by replaying its changelog through its own consumer and
stream machinery, one record at a time: 1,600-3,600 entries/s on this 2-core
machine (docs/operations.md, "Recovery time"), so a worker with a fresh data
directory (a lost disk, a new worker) and millions of live statuses waited
minutes, up to an hour, before its tables were ready.

Here, when an active partition's store trails its changelog by at least
``TABLE_BULK_RESTORE_FROM`` entries, the recovery first copies the changelog
into RocksDB itself: one consumer of its own reads those partitions in large
fetches, and each fetch of a partition becomes one RocksDB write batch holding
the raw key and value bytes exactly as Faust's store keeps them (a tombstone
deletes) AND the partition's changelog offset. A copy cut short (a crash, a
new rebalance, its deadline) therefore leaves a store that is a consistent
prefix of the changelog, and Faust's own recovery then reads on from that
offset as always: what was written meanwhile, or what the copy had no time
for. Standby partitions are not copied: they do not delay readiness.

Faust runs this step under its broker request timeout and treats a timeout
as the service stopping, so the copy gives itself a deadline well inside it;
a copy still progressing at its deadline asks for another recovery round,
which copies on from where it stopped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.tables.manager import TableManager
from faust.tables.recovery import Recovery
from faust.types import TP

from app.settings import get_settings
from app.table_store import SharedMemoryStore

log = logging.getLogger(__name__)

#: Share of Faust's broker request timeout (90 s) the copy may take: the rest is
#: Faust's own step (the partitions' earliest offsets) after it.
DEADLINE_SHARE = 0.75
#: A partition's fetch: large, so a million entries take few round trips.
PARTITION_FETCH_BYTES = 16 * 1024**2
FETCH_BYTES = 64 * 1024**2
#: Longest the copy waits for a fetch that brings nothing before leaving the rest to Faust.
IDLE_S = 10.0


@dataclass(frozen=True, slots=True)
class Span:
    """The changelog offsets a partition's copy covers: ``first`` to ``last``, both included."""

    first: int
    last: int


def spans_to_copy(
    stored: Mapping[TP, int | None], highwaters: Mapping[TP, int | None], threshold: int
) -> dict[TP, Span]:
    """The partitions whose store trails its changelog by ``threshold`` entries or more.

    ``stored`` is the offset each store last applied (``None`` or -1: nothing),
    ``highwaters`` the changelog's last offset (Faust's highwater; -1: empty).
    A threshold of 0 copies nothing.
    """
    if threshold <= 0:
        return {}
    spans: dict[TP, Span] = {}
    for tp, highwater in highwaters.items():
        applied = stored.get(tp)
        first = 0 if applied is None or applied < 0 else applied + 1
        if highwater is not None and highwater - first + 1 >= threshold:
            spans[tp] = Span(first, highwater)
    return spans


async def copy_changelogs(
    spans: Mapping[TP, Span], stores: Mapping[TP, SharedMemoryStore], deadline: float
) -> dict[TP, int]:
    """Copy each partition's ``spans`` into its store; the last offset written for each.

    Stops at ``deadline`` (``time.monotonic()``) or after :data:`IDLE_S` without
    records, whichever first: what was written stays, with its offset.
    """
    by_kafka_tp = {TopicPartition(tp.topic, tp.partition): tp for tp in spans}
    consumer = AIOKafkaConsumer(
        bootstrap_servers=get_settings().kafka_bootstrap_servers,
        enable_auto_commit=False,
        # An offset compaction removed reads from the log's start instead.
        auto_offset_reset="earliest",
        fetch_max_bytes=FETCH_BYTES,
        max_partition_fetch_bytes=PARTITION_FETCH_BYTES,
    )
    await consumer.start()
    written: dict[TP, int] = {}
    try:
        consumer.assign(list(by_kafka_tp))
        for kafka_tp, tp in by_kafka_tp.items():
            consumer.seek(kafka_tp, spans[tp].first)
        pending = set(by_kafka_tp)
        last_record_at = time.monotonic()
        while pending and time.monotonic() < deadline:
            fetched = await consumer.getmany(*pending, timeout_ms=500)
            if not fetched and time.monotonic() - last_record_at > IDLE_S:
                break
            for kafka_tp, records in fetched.items():
                last_record_at = time.monotonic()
                tp = by_kafka_tp[kafka_tp]
                last = spans[tp].last
                entries = [(r.key, r.value) for r in records if r.offset <= last]
                if entries:
                    offset = min(records[-1].offset, last)
                    stores[tp].write_changelog_entries(tp.partition, entries, offset)
                    written[tp] = offset
                if records[-1].offset >= last:
                    pending.discard(kafka_tp)
                    consumer.pause(kafka_tp)
    finally:
        await consumer.stop()
    return written


class BulkRecovery(Recovery):
    """Faust's recovery, with the active partitions far behind copied in bulk first."""

    async def _build_offsets(self, consumer: Any, tps: Any, destination: Any, title: str) -> None:
        """Faust decides where each partition's replay starts; a bulk copy moves that first."""
        if title == "active":
            await self._copy_in_bulk(tps, destination)
        await super()._build_offsets(consumer, tps, destination, title)

    async def _copy_in_bulk(self, tps: set[TP], offsets: MutableMapping[TP, int | None]) -> None:
        spans = spans_to_copy(
            {tp: offsets.get(tp) for tp in tps},
            {tp: self.active_highwaters.get(tp) for tp in tps},
            get_settings().table_bulk_restore_from,
        )
        stores = {
            tp: store
            for tp in spans
            if isinstance(store := getattr(self.tp_to_table[tp], "data", None), SharedMemoryStore)
        }
        if not stores:
            return
        started = time.monotonic()
        deadline = started + self.app.conf.broker_request_timeout * DEADLINE_SHARE
        written = await copy_changelogs({tp: spans[tp] for tp in stores}, stores, deadline)
        # Faust's offsets are a Counter: ``update`` would add, not replace.
        for tp, offset in written.items():
            offsets[tp] = offset
        complete = sum(written.get(tp) == spans[tp].last for tp in stores)
        log.info(
            "tables: copied %d changelog offsets of %d partitions in bulk in %.1f s "
            "(%d of %d partitions complete)",
            sum(written[tp] - spans[tp].first + 1 for tp in written),
            len(written),
            time.monotonic() - started,
            complete,
            len(stores),
        )
        if written and complete < len(stores):
            # Out of time, yet progressing: rather than leave the rest to Faust's
            # replay (70 times slower), start another recovery round, Faust's own
            # path for a new rebalance, whose copy goes on from these offsets.
            log.info("tables: the copy goes on in another recovery round")
            self.signal_recovery_start.set()


class BulkRecoveryTables(TableManager):
    """Faust's table manager, recovering with :class:`BulkRecovery`."""

    @property
    def recovery(self) -> Recovery:
        """The recovery service (one per manager, made on first use)."""
        if self._recovery is None:
            self._recovery = BulkRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery
