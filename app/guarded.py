"""Guarded batch agents: every event of a topic handled, in order, nothing skipped, nothing lost.

Faust alone acks an event whose handler raised, and can skip (and commit
past) events around a rebalance. A guarded agent wraps a plain batch handler
in everything that makes "every event, one effect" hold, so an agent module
holds only what it does with a batch:

* **a checkpoint** per partition in PostgreSQL (:mod:`app.checkpoints`), moved
  only once a batch is handled and what it produced is durable;
* **read-back** from Kafka of offsets the stream skipped, handled first, in order;
* **a stall audit**: a timer reads back partitions whose stream stopped;
* **retry with backoff** while PostgreSQL, Kafka or the disk is unavailable,
  without moving on;
* **one by one**: a batch failing for any other reason is handled again event by
  event, and an event that still fails alone becomes a dead letter (when the
  agent's rule says so), so the stream goes on.

Declaring one is a handler plus one call::

    async def count_views(batch: Sequence[EventT]) -> None:
        \"\"\"Idempotent: after a crash, a batch is handled again.\"\"\"
        for event in batch:
            with acting_on(event):  # table writes land in the event's partition
                views[event.key] = views[event.key] + 1  # (not idempotent: use a max or a set)

    guarded_agent(title_views, count_views, stage="view_counts", writes_tables=True)

A handler raises to say the batch is not done: a transient error (see
:data:`TRANSIENT`) is retried, anything else sends the batch one by one. What
it publishes must be acknowledged before it returns (:func:`app.publishing.publish_all`);
table writes are flushed by the guard before the checkpoint moves.

Where batches come from: an agent that writes Faust tables reads a Faust
stream (a table's partitions follow the assignment of Faust's group); any
other agent reads its topic with a consumer of its own
(:mod:`app.topic_batches`), without Faust's per-event machinery.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterable, Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from aiokafka.errors import KafkaError
from faust import StreamT
from faust.streams import _current_event
from faust.types import TP, EventT, TopicT
from mode.types.signals import BaseSignalT

from app import live_figures
from app.application import app, database, settings
from app.checkpoints import Checkpoint, describe
from app.database import TRANSIENT_ERRORS, CheckpointKey
from app.dead_letters import dead_letter, send_dead_letters
from app.kafka_reads import LogReader
from app.retry import retrying
from app.topic_batches import ConsumerSettings, TopicBatches, feed_group
from app.topics import topics_declared

log = logging.getLogger(__name__)

#: What a guarded handler does with one batch (see the module's docstring).
BatchHandler = Callable[[Sequence[EventT]], Awaitable[None]]
#: Failures waited out: PostgreSQL or Kafka unavailable, a disk full or unwritable.
TRANSIENT = (*TRANSIENT_ERRORS, KafkaError, TimeoutError, OSError)

#: One reader for every guarded agent of this process.
log_reader = LogReader(settings.kafka_bootstrap_servers)


@app.on_before_shutdown.connect
async def _close_log_reader(*_: object, **__: object) -> None:
    await log_reader.close()


class GuardedAgent:
    """One guarded agent: its handler, its checkpoint, its stream loop and its stall audit."""

    def __init__(
        self,
        handle: BatchHandler,
        checkpoint: Checkpoint,
        batch_size: int,
        dead_letter_failures: bool = True,
        writes_tables: bool = False,
    ) -> None:
        self.handle = handle
        self.checkpoint = checkpoint
        self.stage = checkpoint.key.agent
        self.topic_name = checkpoint.key.topic
        self.batch_size = batch_size
        self.dead_letter_failures = dead_letter_failures
        self.writes_tables = writes_tables
        #: The agent's own consumer, when it reads without Faust (writes no table).
        self.source: TopicBatches | None = None

    async def consume(self, batches: object) -> None:
        """The agent's body: batches from the stream, each handled under guard."""
        await database.wait_ready()  # the checkpoints live there
        await self.checkpoint.run(batches, self.handle_batch)  # type: ignore[arg-type]

    def partitions(self) -> set[int]:
        """The partitions of the agent's topic this worker owns now."""
        if self.source is not None:
            return self.source.assignment()
        return assigned_partitions(self.topic_name)

    async def handle_batch(self, batch: Sequence[EventT]) -> None:
        """``batch`` after what the stream skipped before it; then the checkpoint moves.

        Never raises: what cannot be handled becomes a dead letter.
        """
        events = await self.checkpoint.with_skipped(batch)
        try:
            await self._handle_durably(events)
        except Exception:  # not transient: find the one event that fails
            log.exception("%s failed on a batch; handling it event by event", self.stage)
            await self._handle_one_by_one(events)
            return
        await self.checkpoint.save(events)

    async def recover_stalled(self) -> None:
        """Feed the handler events its stream stopped delivering (``Checkpoint.stalled``)."""
        partitions = self.partitions()
        await self.checkpoint.recover_stalled(partitions, self.handle_batch, self.batch_size)

    async def _handle_durably(self, events: Sequence[EventT]) -> None:
        await retrying(
            lambda: self._handle_and_flush(events),
            on=TRANSIENT,
            what=f"{self.stage} on {len(events)} events of {self.topic_name}",
        )

    async def _handle_and_flush(self, events: Sequence[EventT]) -> None:
        await self.handle(events)
        if self.writes_tables:
            # Table changelogs leave through Faust's buffered producer: they must
            # be in Kafka before the checkpoint says the events are done.
            await app.producer.flush()

    async def _handle_one_by_one(self, events: Sequence[EventT]) -> None:
        """Each event alone, in order; one that still fails is dead-lettered and passed.

        The checkpoint moves past every event either way: otherwise each later
        batch would read the failing event back and fail on it again.
        """
        for event in events:
            try:
                await self._handle_durably([event])
            except Exception as exc:
                log.exception("%s cannot handle %s", self.stage, describe(event))
                await self._refuse(event, exc)
            await self.checkpoint.save([event])

    async def _refuse(self, event: EventT, exc: Exception) -> None:
        if not self.dead_letter_failures:
            return
        reason = f"{self.stage} failed: {exc!r}"
        await send_dead_letters([dead_letter(event, reason, self.stage)])
        live_figures.record_dead_letters(1)


class DirectFeed:
    """Runs a guarded agent on batches from its own consumer (:mod:`app.topic_batches`)."""

    def __init__(self, guard: GuardedAgent, source: TopicBatches) -> None:
        self.guard = guard
        self.source = source
        self._task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """Join the agent's group and handle its batches until stopped; reconnect on failure."""
        self._task = asyncio.current_task()
        await database.wait_ready()  # the checkpoints live there
        await topics_declared.wait()  # what the handler produces to exists
        while not self.source.closing:
            await retrying(self.source.start, on=(KafkaError, OSError), what=self._what)
            try:
                # A record has everything of an event that the agents use.
                batches = cast(AsyncIterable[Sequence[EventT]], self.source.batches())
                await self.guard.checkpoint.run(batches, self.guard.handle_batch)
            except (KafkaError, OSError) as exc:  # the consumer failed: a fresh one
                log.warning("%s failed (%r); reconnecting", self._what, exc)
            await self.source.stop()

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
        return f"the {self.guard.stage} consumer of {self.guard.topic_name}"


#: Longest a direct feed's loop may take to finish its batch when asked to stop.
STOP_WITHIN_S = 20.0
#: Every direct feed of this process, stopped before the producer and the database.
_feeds: list[DirectFeed] = []


@app.on_before_shutdown.connect
async def _stop_feeds(*_: object, **__: object) -> None:
    await asyncio.gather(*(feed.stop() for feed in _feeds))


def direct_partitions() -> int:
    """Partitions this worker's direct feeds own (Faust's consumer counts its own)."""
    return sum(len(feed.source.assignment()) for feed in _feeds)


def direct_lag() -> dict[str, int]:
    """Records beyond the direct feeds' committed checkpoints, per topic."""
    lag: dict[str, int] = {}
    for feed in _feeds:
        lag[feed.source.topic] = lag.get(feed.source.topic, 0) + feed.source.lag()
    return lag


def guarded_agent(
    topic: TopicT,
    handle: BatchHandler,
    *,
    stage: str,
    batch_size: int | None = None,
    batch_wait_s: float | None = None,
    dead_letter_failures: bool = True,
    writes_tables: bool = False,
    name: str | None = None,
) -> GuardedAgent:
    """Declare a guarded agent on ``topic`` that runs ``handle`` on each batch.

    ``stage`` names its checkpoint and its dead letters; batches hold up to
    ``batch_size`` events gathered for at most ``batch_wait_s`` (default: the
    processing settings). ``dead_letter_failures=False`` for agents whose
    failures must not produce dead letters (the dead letters' own log).
    ``writes_tables`` makes the guard flush table changelogs before the
    checkpoint moves. ``name`` (default: the handler's) names the agent.
    """
    size = batch_size or settings.process_batch_size
    wait = batch_wait_s or settings.process_batch_wait_s
    key = CheckpointKey(settings.group_id, stage, topic.get_topic_name())
    checkpoint = Checkpoint(
        database, log_reader, key, settings.stall_after_s, _held_back_after_s(writes_tables)
    )
    guard = GuardedAgent(handle, checkpoint, size, dead_letter_failures, writes_tables)
    agent_name = name or handle.__name__
    if writes_tables:
        _faust_agent(guard, topic, handle, agent_name, wait)
    else:
        guard.source = TopicBatches(
            topic.get_topic_name(), _consumer_settings(agent_name), size, wait, checkpoint.saved
        )
        feed = DirectFeed(guard, guard.source)
        _feeds.append(feed)
        app.task(feed.run)
    app.timer(interval=checkpoint.audit_every_s, name=f"{handle.__module__}.stalls_{agent_name}")(
        guard.recover_stalled
    )
    return guard


def _held_back_after_s(reads_faust_stream: bool) -> float | None:
    """How long a Faust stream may serve other partitions before one is read back.

    Only a Faust stream is judged per partition
    (:meth:`app.checkpoints.Checkpoint.stalled`); it is judged sooner than a
    whole stalled agent, since the statuses a held-back ``response_events``
    partition keeps from the table read ``pendente`` meanwhile (chaos
    scenario 5).
    """
    return settings.stall_after_s / 3 if reads_faust_stream else None


#: Every guarded agent of this process that reads a Faust stream.
_stream_guards: list[GuardedAgent] = []


@app.on_partitions_assigned.connect
async def _forget_known_checkpoints(
    sender: object, /, *args: Any, signal: BaseSignalT[Any], **kwargs: Any
) -> None:
    """Partitions (re)assigned may have moved under another worker meanwhile."""
    assigned: set[TP] = args[0] if args else kwargs.get("assigned", set())
    for guard in _stream_guards:
        guard.checkpoint.forget({tp.partition for tp in assigned if tp.topic == guard.topic_name})


def _faust_agent(
    guard: GuardedAgent, topic: TopicT, handle: BatchHandler, agent_name: str, wait: float
) -> None:
    """Declare ``guard`` as a Faust agent on ``topic``'s stream."""
    _stream_guards.append(guard)

    async def consume(stream: StreamT[bytes]) -> None:
        # ``take_events`` is missing from StreamT's stubs (it is on Stream).
        await guard.consume(stream.take_events(guard.batch_size, within=wait))  # type: ignore[attr-defined]

    consume.__name__ = consume.__qualname__ = agent_name
    consume.__module__ = handle.__module__  # Faust names the agent after it in logs
    consume.__doc__ = handle.__doc__
    app.agent(topic, name=f"{handle.__module__}.{agent_name}")(consume)


def _consumer_settings(agent_name: str) -> ConsumerSettings:
    """The consumer of a direct agent: a group of its own within the role's."""
    instance = settings.worker_instance_id
    return ConsumerSettings(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=feed_group(settings.group_id, agent_name),
        instance_id=f"{instance}.{agent_name}" if instance else None,
        session_timeout_s=settings.kafka_session_timeout_s,
        fetch_min_bytes=settings.kafka_fetch_min_bytes,
    )


def assigned_partitions(topic: str) -> set[int]:
    """The partitions of ``topic`` this worker actively owns (none while rebalancing)."""
    if app.rebalancing:
        return set()
    return {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == topic}


@contextmanager
def acting_on(event: EventT) -> Iterator[None]:
    """Make ``event`` Faust's current event, so table writes go to its partition.

    Faust finds the partition of a table write (and of its changelog entry)
    through the event being processed, which a batch handler does not have:
    inside ``take()`` there is none, and a read-back record never had one.
    """
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)
