"""Recovering a table partition far behind its changelog by copying it in bulk.

Faust recovers a table by replaying its changelog through its own consumer and
stream machinery, one record at a time: 1,600-3,600 entries/s on this 2-core
machine (docs/operations.md, "Recovery time"), so a worker with a fresh data
directory (a lost disk, a new worker) and millions of live statuses waited
minutes, up to an hour, before its tables were ready.

Here, when an active partition's store trails its changelog by at least
``TABLE_BULK_RESTORE_FROM`` entries, the recovery first copies the changelog
into RocksDB itself: a reader of its own (:mod:`app.kafka.changelog_reader`)
fetches those partitions raw, in large fetches, and each fetch of a partition
becomes one RocksDB write batch holding the key and value bytes exactly as
Faust's store keeps them (a tombstone deletes) AND the partition's changelog
offset. A copy cut short (a crash, a new rebalance, its deadline) therefore
leaves a store that is a consistent prefix of the changelog, and Faust's own
recovery then reads on from that offset as always: what was written
meanwhile, or what the copy had no time for. Standby partitions are not
copied: they do not delay readiness.

Faust runs this step under its broker request timeout and treats a timeout
as the service stopping, so the copy gives itself a deadline well inside it;
a copy still progressing at its deadline asks for another recovery round,
which copies on from where it stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from aiokafka import TopicPartition
from faust.tables.manager import TableManager
from faust.tables.recovery import Recovery
from faust.types import TP

from app.kafka.changelog_reader import ChangelogReader
from app.settings import get_settings
from app.table_store import SharedMemoryStore

log = logging.getLogger(__name__)

#: Share of Faust's broker request timeout (90 s) the copy may take: the rest is
#: Faust's own step (the partitions' earliest offsets) after it.
DEADLINE_SHARE = 0.75


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
    spans: Mapping[TP, Span], stores: Mapping[TP, SharedMemoryStore], budget_s: float
) -> dict[TP, int]:
    """Copy each partition's ``spans`` into its store; the last offset written for each.

    Stops after ``budget_s`` seconds: what was written stays, with its offset.
    A partition the reader gives up on (:mod:`app.kafka.changelog_reader`) keeps
    what it copied before.
    """
    by_kafka_tp = {TopicPartition(tp.topic, tp.partition): tp for tp in spans}
    reading = {kafka_tp: (spans[tp].first, spans[tp].last) for kafka_tp, tp in by_kafka_tp.items()}
    written: dict[TP, int] = {}
    with contextlib.suppress(TimeoutError):
        async with (
            asyncio.timeout(budget_s),
            ChangelogReader(reading) as reader,
            contextlib.aclosing(reader.fetches()) as rounds,
        ):
            async for fetched in rounds:
                for part in fetched:  # no await in here: a timeout never splits a write
                    tp = by_kafka_tp[part.tp]
                    stores[tp].write_changelog_entries(tp.partition, part.entries, part.through)
                    written[tp] = part.through
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
        budget_s = self.app.conf.broker_request_timeout * DEADLINE_SHARE
        written = await copy_changelogs({tp: spans[tp] for tp in stores}, stores, budget_s)
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
