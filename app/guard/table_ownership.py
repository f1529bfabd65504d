"""Which table partitions this worker owns, and when that may change.

Faust's group decides which worker holds each partition of the tables (their
changelogs are co-partitioned with the topics that feed them). An agent that
writes a table reads its topic with a consumer of its own
(:mod:`app.guard.guarded`), so it must follow that decision exactly:

* it handles a partition only while this worker actively owns the table's
  partition: between the end of one rebalance (Faust recovered the tables,
  "Worker ready") and the start of the next;
* when a rebalance starts it takes no new batch, and Faust's revocation waits
  for the batch in hand (:meth:`TableOwnership.on_partitions_revoked`), so no
  write to a partition can reach its changelog after the next owner read it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from faust.types import CollectionT
from mode.types.signals import BaseSignalT

from app.guard.faust_fixes import PlatformApp

log = logging.getLogger(__name__)

#: What a table feed does when its partitions are revoked: finish (or drop) its batch.
Pause = Callable[[], Awaitable[None]]


class TableOwnership:
    """This worker's active table partitions, with a generation that moves on each rebalance."""

    def __init__(self, app: PlatformApp) -> None:
        self.app = app
        #: Bumped when a rebalance starts: work begun in an older generation is stale.
        self.generation = 0
        self._settled = asyncio.Event()
        self._pauses: list[Pause] = []
        app.rebalance_listeners.append(self)
        app.on_partitions_revoked.connect(self.on_partitions_revoked)

    def rebalance_started(self) -> None:
        """No partition is certain any more: feeds stop taking batches."""
        self.generation += 1
        self._settled.clear()

    def rebalance_ended(self) -> None:
        """Faust recovered the tables: feeds may (re)start on what this worker owns."""
        if not self.app.rebalancing:
            self._settled.set()

    @property
    def settled(self) -> bool:
        """Whether the assignment is settled and the tables recovered."""
        return self._settled.is_set()

    async def wait_settled(self) -> int:
        """Wait until the tables are recovered; the generation they belong to."""
        await self._settled.wait()
        return self.generation

    def owned(self, table: CollectionT) -> set[int]:
        """The partitions of ``table`` this worker actively owns (none while rebalancing)."""
        if not self.settled:
            return set()
        topic = table.changelog_topic.get_topic_name()
        return {tp.partition for tp in self.app.assignor.assigned_actives() if tp.topic == topic}

    def on_revoke(self, pause: Pause) -> None:
        """Have ``pause`` awaited by every revocation, before Faust moves any partition."""
        self._pauses.append(pause)

    async def on_partitions_revoked(
        self, sender: object, /, *args: Any, signal: BaseSignalT[Any], **kwargs: Any
    ) -> None:
        """Faust's revocation signal: wait until no feed holds a batch (the group waits too)."""
        await self._pause_all()

    async def stopping(self) -> None:
        """The worker stops: like a revocation, before Faust closes its tables."""
        self.rebalance_started()
        await self._pause_all()

    async def _pause_all(self) -> None:
        await asyncio.gather(*(pause() for pause in self._pauses))
