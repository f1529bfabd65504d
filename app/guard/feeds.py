"""Feeds: a guarded agent's own consumer, the loop handing it batches, and its alarms.

A feed reads the agent's topic (:class:`app.guard.topic_batches.TopicBatches`) from
the agent's checkpoint and hands each batch to the agent
(:meth:`app.guard.guarded.GuardedAgent.handle_batch`), one at a time, in order:

* a :class:`DirectFeed` is given partitions by its consumer group (workers of
  one role split the topic);
* a :class:`TableFeed` reads exactly the partitions whose table partitions
  Faust's group gave this worker (:mod:`app.guard.table_ownership`), and gives
  them up before any rebalance moves them.

It also keeps the alarms of :mod:`app.guard.checkpoints`: a batch that does not
start at its checkpoint (the partition is read again from the checkpoint) and
a partition stalled behind its log's end (the consumer is moved back to the
checkpoint); and the age of the batch in hand, which a deadline bounds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterable, Callable, Sequence
from functools import partial
from typing import Protocol

from aiokafka.errors import KafkaError
from faust.types import CollectionT, EventT
from prometheus_client import Counter, Gauge

from app.guard.checkpoints import ALARM_WORDS, Checkpoint
from app.guard.table_ownership import TableOwnership
from app.guard.topic_batches import TopicBatches
from app.kafka.readers import Record
from app.kafka.topics import topics_declared
from app.retry import retrying
from app.storage.pool import TRANSIENT_ERRORS

log = logging.getLogger(__name__)

#: Longest a feed's loop may take to finish its batch when asked to stop.
STOP_WITHIN_S = 20.0

GAPS = Counter(
    "guarded_gaps_total", "Offsets a batch skipped past its agent's checkpoint", ["stage"]
)
STALLS = Counter(
    "guarded_stalls_total", "Partitions found behind with their agent standing still", ["stage"]
)
LOST = Counter(
    "guarded_records_lost_total",
    "Offsets no longer in Kafka when the agent came to them (retention passed them by)",
    ["stage"],
)
OLDEST_BATCH = Gauge(
    "guarded_batch_oldest_age_seconds", "How long the agent's batch in hand has been", ["stage"]
)

GAP_WORD, LOST_WORD, STALL_WORD = ALARM_WORDS["gaps"], ALARM_WORDS["lost"], ALARM_WORDS["stalls"]


class GapFound(Exception):
    """A batch does not start at its checkpoint: these offsets, per partition, are missing."""

    def __init__(self, missing: dict[int, list[range]]) -> None:
        super().__init__(missing)
        self.missing = missing


class FedAgent(Protocol):
    """What a feed needs of the agent it feeds (:class:`app.guard.guarded.GuardedAgent`)."""

    stage: str
    checkpoint: Checkpoint
    #: Longest one attempt at a batch may take.
    deadline_s: float

    async def handle_batch(self, batch: Sequence[EventT], check: bool = True) -> None:
        """Handle ``batch``, then move the checkpoint past it (:class:`GapFound` first if
        ``check`` finds offsets missing before it)."""
        ...


class Feed:
    """Hands a guarded agent its batches, one at a time, from its own consumer."""

    #: Whether the consumer's own group assigns its partitions.
    subscribe = True

    def __init__(self, agent: FedAgent, source: TopicBatches) -> None:
        self.agent = agent
        self.source = source
        self._task: asyncio.Task[None] | None = None
        #: The batch in hand, and since when (``time.monotonic()``).
        self._handling: asyncio.Future[None] | None = None
        self._since: float | None = None
        #: Partitions read again after a gap, at the checkpoint they had then.
        self._rewound: dict[int, int] = {}
        #: Whether the last audit found a partition stalled.
        self.stalled = False
        OLDEST_BATCH.labels(agent.stage).set_function(self.batch_age_s)

    @property
    def name(self) -> str:
        """The agent's stage (its checkpoint and metrics label)."""
        return self.agent.stage

    def batch_age_s(self) -> float:
        """How long the batch in hand has been (0 with none)."""
        return 0.0 if self._since is None else time.monotonic() - self._since

    @property
    def state(self) -> str:
        """``starting``, ``rebalancing``, ``stalled`` or ``up`` (``/health``)."""
        if self.source.rebalancing:
            return "rebalancing"
        if self.stalled:
            return "stalled"
        return "up" if self.source.started else "starting"

    async def run(self) -> None:
        """Read and handle batches until stopped; a fresh consumer after a Kafka failure."""
        self._task = asyncio.current_task()
        await self.agent.checkpoint.store.wait_ready()  # the checkpoints live there
        await topics_declared.wait()  # what the handler produces to exists
        while not self.source.closing:
            await retrying(
                lambda: self.source.start(self.subscribe), on=(KafkaError, OSError), what=self._what
            )
            try:
                await self.consume()
            except (KafkaError, OSError) as exc:
                log.warning("%s failed (%r); reconnecting", self._what, exc)
            await self.source.stop()

    async def consume(self) -> None:
        """Handle the batches the consumer gets (until it is closed)."""
        await self.handle_all(self.source.batches(), lambda: True)

    async def handle_all(
        self, batches: AsyncIterable[list[Record]], current: Callable[[], bool]
    ) -> None:
        """Hand each batch to the agent while ``current()`` says its partitions are still ours."""
        async for records in batches:
            batch: Sequence[EventT] = records  # type: ignore[assignment]  # event-shaped records
            await self.agent.checkpoint.seed(batch)
            if not current():
                return
            await self._handle(batch)

    async def _handle(self, batch: Sequence[EventT], check: bool = True) -> None:
        """One batch, in a task of its own (a revocation may cancel it); gaps read again."""
        work = self.agent.handle_batch(batch, check)
        handling = self._handling = asyncio.ensure_future(work)
        self._since = time.monotonic()
        try:
            await asyncio.wait({handling})
        except asyncio.CancelledError:
            handling.cancel()
            raise
        finally:
            self._handling = self._since = None
        if handling.cancelled():  # revoked: the checkpoint stayed, the next owner reads it
            return
        error = handling.exception()
        if isinstance(error, GapFound):
            await self._on_gap(batch, error.missing)
        elif error is not None:
            raise error
        else:
            self.stalled = False

    async def _on_gap(self, batch: Sequence[EventT], missing: dict[int, list[range]]) -> None:
        """Read the partitions again from their checkpoints; what Kafka no longer has is lost.

        A gap found again at the same checkpoint after reading the partition
        again is offsets that are not in the log: they are counted as lost
        and the batch is handled as it is.
        """
        stage, topic = self.name, self.source.topic
        count = sum(len(r) for ranges in missing.values() for r in ranges)
        GAPS.labels(stage).inc(count)
        known = self.agent.checkpoint.known(missing)
        starts = {p: known.get(p, ranges[0].start) for p, ranges in missing.items()}
        if all(self._rewound.get(p) == start for p, start in starts.items()):
            log.error(
                "%s %s: offsets %s of %s are not in Kafka: lost", LOST_WORD, stage, missing, topic
            )
            LOST.labels(stage).inc(count)
            self._rewound.clear()
            await self._handle_unchecked(batch)
            return
        log.error(
            "%s %s: offsets %s of %s never reached it; reading again",
            GAP_WORD,
            stage,
            missing,
            topic,
        )
        self._rewound.update(starts)
        self.source.rewind(starts)

    async def _handle_unchecked(self, batch: Sequence[EventT]) -> None:
        start_at = {e.message.partition: e.message.offset for e in reversed(batch)}
        await self.agent.checkpoint.save_at(start_at)  # the lost offsets are passed
        await self._handle(batch, check=False)

    async def audit(self) -> None:
        """Timer: partitions behind while the agent stands still are read from the checkpoint."""
        owned = self.source.assignment()
        if self._handling is not None or not owned:
            return  # a batch in hand is the deadline's business
        try:
            stalled = await self.agent.checkpoint.stalled(owned)
        except (KafkaError, OSError, *TRANSIENT_ERRORS) as exc:  # the next audit tries again
            log.warning("cannot check %s for stalls (%r)", self._what, exc)
            return
        self.stalled = bool(stalled)
        if stalled:
            STALLS.labels(self.name).inc(len(stalled))
            log.warning(
                "%s %s: stalled at %s; reading from the checkpoints again",
                STALL_WORD,
                self._what,
                stalled,
            )
            self.source.rewind({p: wanted.start for p, wanted in stalled.items()})

    async def stop(self) -> None:
        """Let the batch in hand finish, commit, leave the group.

        The loop is asked to end rather than cancelled: a cancellation could cut
        a batch short, and was seen to be lost inside aiokafka's fetch wait.
        """
        self.source.close()
        if self._task is not None:
            done, _ = await asyncio.wait({self._task}, timeout=STOP_WITHIN_S)
            if not done:
                log.warning("%s did not stop within %.0f s; cancelling", self._what, STOP_WITHIN_S)
                self._task.cancel()
        await self.source.stop()

    @property
    def _what(self) -> str:
        return f"the {self.name} consumer of {self.source.topic}"


class DirectFeed(Feed):
    """A feed whose partitions its consumer's group assigns (agents writing no table)."""


class TableFeed(Feed):
    """A feed reading the partitions this worker owns of the table its agent writes."""

    subscribe = False

    def __init__(
        self,
        agent: FedAgent,
        source: TopicBatches,
        ownership: TableOwnership,
        table: CollectionT,
    ) -> None:
        super().__init__(agent, source)
        self.ownership = ownership
        self.table = table
        ownership.on_revoke(self.pause)

    @property
    def state(self) -> str:
        """``rebalancing`` until Faust's tables are recovered, then as any feed."""
        return super().state if self.ownership.settled else "rebalancing"

    async def consume(self) -> None:
        """Each generation of the assignment: read what this worker owns, until it changes."""
        while not self.source.closing:
            generation = await self._next_generation()
            if generation is None:
                return
            owned = self.ownership.owned(self.table)
            await self.source.assign(owned)
            log.info("%s reads partitions %s", self._what, sorted(owned))

            current = partial(self._current, generation)
            await self.handle_all(self.source.batches(current), current)
            if not self.source.closing:
                await self.source.unassign()

    def _current(self, generation: int) -> bool:
        return self.ownership.generation == generation

    async def _next_generation(self) -> int | None:
        """The generation of the next settled assignment; None if the feed closes first."""
        settled = asyncio.ensure_future(self.ownership.wait_settled())
        closed = asyncio.ensure_future(self.source.closed.wait())
        done, pending = await asyncio.wait({settled, closed}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        return settled.result() if settled in done else None

    async def pause(self) -> None:
        """Revocation: let the batch in hand end (within its deadline, else cancel it), then
        push its changelog entries out, before the group hands the partitions on."""
        handling = self._handling
        if handling is not None:
            done, _ = await asyncio.wait({handling}, timeout=self.agent.deadline_s)
            if not done:
                log.warning(
                    "%s %s: the batch in hand outlived its deadline; what it did not finish "
                    "is dropped (the next owner reads it from the checkpoint)",
                    ALARM_WORDS["deadlines"],
                    self._what,
                )
                handling.cancel()
                await asyncio.wait({handling})
        try:
            async with asyncio.timeout(self.agent.deadline_s):
                await self.ownership.app.producer.flush()
        except (KafkaError, TimeoutError) as exc:
            log.warning("%s: cannot flush table changelogs (%r)", self._what, exc)
