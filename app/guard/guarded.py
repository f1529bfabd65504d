"""Guarded batch agents: every event of a topic handled, in order, once, nothing skipped.

A guarded agent is a plain batch handler plus one declaration; the guard
holds everything that makes "every event, one effect" hold, so an agent
module holds only what it does with a batch:

* **its own consumer** (:mod:`app.guard.feeds`, :mod:`app.guard.topic_batches`) that starts
  each partition at the agent's **checkpoint** in PostgreSQL
  (:mod:`app.guard.checkpoints`), moved only once a batch is handled and what it
  produced is durable. Faust's streams are not used: around a rebalance they
  can skip records and commit past them. An agent that writes a Faust table
  reads exactly the partitions Faust's group gave this worker for that
  table (:mod:`app.guard.table_ownership`);
* **a deadline** on every attempt at a batch (``BATCH_DEADLINE_S``): an await
  that hangs is cancelled, its stack logged, and the batch tried again
  (handlers are idempotent), in two halves when it held more than one event,
  each checkpointed once done: a batch too big for its deadline under
  overload is not thrown away whole over and over, and a lone event that
  hangs is retried as before;
* **retry with backoff** while PostgreSQL, Kafka or the disk is unavailable,
  without moving on;
* **one by one**: a batch failing for any other reason is handled again event by
  event, and an event that still fails alone becomes a dead letter (when the
  agent's rule says so), so the stream goes on;
* **alarms** that never fire in a healthy system (``guarded_gaps_total``,
  ``guarded_stalls_total``, ``guarded_records_lost_total``): see
  :mod:`app.guard.checkpoints` for what each means and what the feed then does.

Declaring one is a handler plus one call (the package's docstring, :mod:`app.guard`,
walks through a whole agent).

A handler raises to say the batch is not done: a transient error (see
:data:`TRANSIENT`) is retried, anything else sends the batch one by one. What
it publishes must be acknowledged before it returns (:func:`app.guard.publish_all`);
the guard waits for the batch's table changelog entries before the checkpoint moves
(:mod:`app.guard.changelog_receipts`).

A handler of commands (``user_events``, ``session_events``) starts with
:func:`decode_batch`: an event that does not decode (not JSON, wrong fields,
unknown type) becomes a dead letter with the reason, plus an ``error`` outcome
when it names a correlation id, so that its requester sees a final status; it
answers every command it applies with one outcome on ``response_events``,
keyed by its correlation id (:func:`outcome_message`, :func:`applied_outcome`).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import ClassVar, Generic, Literal, TypeVar

import orjson
from aiokafka.errors import KafkaError
from faust.streams import _current_event
from faust.types import AppT, CollectionT, EventT, TopicT
from mode.utils.tracebacks import format_task_stack
from pydantic import ValidationError

from app.guard.changelog_receipts import collecting_receipts, receipts_in_kafka
from app.guard.checkpoints import ALARM_WORDS, Checkpoint, CheckpointStore, describe
from app.guard.dead_letters import dead_letter, send_dead_letters
from app.guard.faust_fixes import PlatformApp
from app.guard.feeds import DirectFeed, Feed, GapFound, TableFeed
from app.guard.table_ownership import TableOwnership
from app.guard.topic_batches import ConsumerSettings, TopicBatches, feed_group
from app.kafka.publishing import Message
from app.kafka.readers import LogReader
from app.requests.envelope import Envelope
from app.requests.outcomes import describe as outcome_words
from app.requests.outcomes import refusal_response, response_event
from app.retry import retrying
from app.settings import Settings
from app.storage.agent_checkpoints import CheckpointKey
from app.storage.pool import TRANSIENT_ERRORS
from app.telemetry import logging_setup

log = logging.getLogger(__name__)

#: What a guarded handler does with one batch (see the module's docstring).
BatchHandler = Callable[[Sequence[EventT]], Awaitable[None]]
#: Failures waited out: PostgreSQL or Kafka unavailable, a disk full or unwritable,
#: an attempt past its deadline.
TRANSIENT = (*TRANSIENT_ERRORS, KafkaError, TimeoutError, OSError)


class TooSlow(Exception):
    """A batch of more than one event missed its deadline: to be handled in halves.

    Not transient on purpose, so that the retry around an attempt lets it out.
    """


class Guard:
    """What the guarded agents of one app share, made with the app (:mod:`app.application`).

    Where checkpoints live (``store``), how far partitions' logs reach
    (``log_reader``), which table partitions this worker owns (``ownership``),
    the settings every agent reads, the dead-letter topic, and every feed of
    the app, stopped before the producer and the database.
    """

    _of_app: ClassVar[weakref.WeakKeyDictionary[AppT, Guard]] = weakref.WeakKeyDictionary()

    def __init__(
        self, app: PlatformApp, store: CheckpointStore, settings: Settings, dead_letters: TopicT
    ) -> None:
        self.app = app
        self.store = store
        self.settings = settings
        self.dead_letters = dead_letters
        self.log_reader = LogReader(settings.kafka_bootstrap_servers)
        self.ownership = TableOwnership(app)
        self.feeds: list[Feed] = []
        app.on_before_shutdown.connect(self._stop_feeds)
        Guard._of_app[app] = self

    @classmethod
    def of(cls, app: AppT) -> Guard:
        """The guard of ``app`` (the one :mod:`app.application` made with it)."""
        try:
            return cls._of_app[app]
        except KeyError:
            raise LookupError(f"{app} has no guard: make it with app.application") from None

    async def _stop_feeds(self, *_: object, **__: object) -> None:
        await asyncio.gather(*(feed.stop() for feed in self.feeds))
        await self.log_reader.close()

    def partitions(self) -> int:
        """Partitions this worker's feeds read (Faust's consumer counts its own)."""
        return sum(len(feed.source.assignment()) for feed in self.feeds)

    def lag(self) -> dict[str, int]:
        """Records beyond the feeds' committed checkpoints, per topic."""
        lag: dict[str, int] = {}
        for feed in self.feeds:
            lag[feed.source.topic] = lag.get(feed.source.topic, 0) + feed.source.lag()
        return lag

    def states(self) -> dict[str, str]:
        """Each feed's state, by agent stage (``/health``)."""
        return {feed.name: feed.state for feed in self.feeds}

    def figures(self) -> dict[str, dict[str, object]]:
        """Each feed's state and the age of its batch in hand, by agent stage (the dashboard)."""
        return {
            f.name: {"state": f.state, "batch_age_s": round(f.batch_age_s(), 1)} for f in self.feeds
        }


class GuardedAgent:
    """One guarded agent: its handler, its checkpoint, and the feed handing it batches."""

    def __init__(
        self,
        handle: BatchHandler,
        checkpoint: Checkpoint,
        dead_letters: TopicT | None,
        deadline_s: float = 30.0,
    ) -> None:
        self.handle = handle
        self.checkpoint = checkpoint
        self.stage = checkpoint.key.agent
        self.topic_name = checkpoint.key.topic
        #: Where an event that fails alone goes (None: nowhere, it is only logged).
        self.dead_letters = dead_letters
        self.deadline_s = deadline_s
        #: The consumer feeding it (set by :func:`guarded_agent`).
        self.feed: Feed | None = None

    def partitions(self) -> set[int]:
        """The partitions of the agent's topic this worker reads now."""
        return set() if self.feed is None else self.feed.source.assignment()

    async def handle_batch(self, batch: Sequence[EventT], check: bool = True) -> None:
        """Handle ``batch``, then move the checkpoint past it.

        With ``check``, raises :class:`GapFound` (handling nothing) when the
        batch does not start at the checkpoint; never raises otherwise: what
        cannot be handled becomes a dead letter.
        """
        missing = self.checkpoint.gaps_in(batch) if check else {}
        if missing:
            raise GapFound(missing)
        try:
            await self._handle_durably(batch)
        except TooSlow:
            half = len(batch) // 2
            log.warning("%s: handling %d events in halves", self.stage, len(batch))
            await self.handle_batch(batch[:half], check=False)
            await self.handle_batch(batch[half:], check=False)
            return
        except Exception:  # not transient: find the one event that fails
            log.exception("%s failed on a batch; handling it event by event", self.stage)
            await self._handle_one_by_one(batch)
            return
        await self.checkpoint.save(batch)

    async def _handle_durably(self, events: Sequence[EventT]) -> None:
        what = f"{self.stage} on {len(events)} events of {self.topic_name}"

        async def attempt() -> None:
            try:
                await within(self.deadline_s, self._handle_and_wait(events), what)
            except DeadlineMissed as missed:
                if len(events) > 1:
                    raise TooSlow(what) from missed
                raise

        await retrying(attempt, on=TRANSIENT, what=what)

    async def _handle_and_wait(self, events: Sequence[EventT]) -> None:
        # A lone event's log lines carry its request's correlation id.
        logging_setup.bind_event_correlation_id([event.value for event in events])
        with collecting_receipts():
            await self.handle(events)
            # Table changelogs leave through Faust's buffered producer: this batch's
            # must be in Kafka before the checkpoint says its events are done.
            await receipts_in_kafka()

    async def _handle_one_by_one(self, events: Sequence[EventT]) -> None:
        """Each event alone, in order; one that still fails is dead-lettered and passed.

        The checkpoint moves past every event either way: otherwise the agent
        would read the failing event again and fail on it again.
        """
        for event in events:
            try:
                await self._handle_durably([event])
            except Exception as exc:
                log.exception("%s cannot handle %s", self.stage, describe(event))
                await self._refuse(event, exc)
            await self.checkpoint.save([event])

    async def _refuse(self, event: EventT, exc: Exception) -> None:
        if self.dead_letters is None:
            return
        reason = f"{self.stage} failed: {exc!r}"
        await send_dead_letters(self.dead_letters, [dead_letter(event, reason, self.stage)])


class DeadlineMissed(TimeoutError):
    """An attempt was still in hand at its deadline, and was cancelled."""


async def within(deadline_s: float, work: Awaitable[None], what: str) -> None:
    """Await ``work`` for at most ``deadline_s``; past it, log what it waits on and cancel.

    Raises :class:`DeadlineMissed` (a :class:`TimeoutError`) then, which the
    guard retries: a batch stuck on an await that never ends (a produce to a
    vanished leader, a lost wake-up) is tried afresh instead of holding the
    agent for good.
    """
    task = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait({task}, timeout=deadline_s)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        log.warning(
            "%s %s still in hand after %.0f s; cancelled to try again\n%s",
            ALARM_WORDS["deadlines"],
            what,
            deadline_s,
            format_task_stack(task),
        )
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise DeadlineMissed(f"{what}: past its {deadline_s:g} s deadline")
    task.result()


def guarded_agent(
    topic: TopicT,
    handle: BatchHandler,
    *,
    stage: str,
    batch_size: int | None = None,
    batch_wait_s: float | None = None,
    dead_letter_failures: bool = True,
    writes: CollectionT | None = None,
    name: str | None = None,
) -> GuardedAgent:
    """Declare a guarded agent on ``topic`` that runs ``handle`` on each batch.

    ``stage`` names its checkpoint and its dead letters; batches hold up to
    ``batch_size`` events gathered for at most ``batch_wait_s`` (default: the
    processing settings). ``dead_letter_failures=False`` for agents whose
    failures must not produce dead letters (the dead letters' own log).
    ``writes``: the Faust table the handler writes, if any; the agent then
    reads the partitions this worker owns of that table (the guard waits
    for any batch's changelog entries before its checkpoint moves). ``name`` (default:
    the handler's) names the agent and its consumer group.
    """
    guard = Guard.of(topic.app)
    settings = guard.settings
    size = batch_size or settings.process_batch_size
    wait = batch_wait_s or settings.process_batch_wait_s
    key = CheckpointKey(settings.group_id, stage, topic.get_topic_name())
    checkpoint = Checkpoint(guard.store, guard.log_reader, key, settings.stall_after_s)
    agent = GuardedAgent(
        handle,
        checkpoint,
        guard.dead_letters if dead_letter_failures else None,
        settings.batch_deadline_s,
    )
    agent_name = name or handle.__name__
    source = TopicBatches(
        topic.get_topic_name(),
        _consumer_settings(settings, agent_name),
        size,
        wait,
        checkpoint.saved,
        checkpoint.assigned,
    )
    if writes is None:
        agent.feed = DirectFeed(agent, source)
    else:
        agent.feed = TableFeed(agent, source, guard.ownership, writes)
    guard.feeds.append(agent.feed)
    guard.app.task(agent.feed.run)
    timer_name = f"{handle.__module__}.stalls_{agent_name}"
    guard.app.timer(interval=checkpoint.audit_every_s, name=timer_name)(agent.feed.audit)
    return agent


def _consumer_settings(settings: Settings, agent_name: str) -> ConsumerSettings:
    """The consumer of an agent: a group of its own within the role's."""
    instance = settings.worker_instance_id
    return ConsumerSettings(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=feed_group(settings.group_id, agent_name),
        instance_id=f"{instance}.{agent_name}" if instance else None,
        session_timeout_s=settings.kafka_session_timeout_s,
        fetch_min_bytes=settings.kafka_fetch_min_bytes,
    )


@contextmanager
def acting_on(event: EventT) -> Iterator[None]:
    """Make ``event`` Faust's current event, so table writes go to its partition.

    Faust finds the partition of a table write (and of its changelog entry)
    through the event being processed, which a batch handler read from its
    own consumer does not have.
    """
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


# What a handler of commands uses: see the module's docstring.

E = TypeVar("E")


@dataclass
class DecodedBatch(Generic[E]):
    """A batch split into decoded commands and the answers to the refused events."""

    valid: list[tuple[EventT, E]] = field(default_factory=list)
    letters: list[Message] = field(default_factory=list)
    responses: list[Message] = field(default_factory=list)

    def refuse(self, event: EventT, reason: str, stage: str) -> None:
        """Dead-letter ``event`` for ``reason``, with an error outcome if it names a request."""
        self.letters.append(dead_letter(event, reason, stage))
        value = refusal_response(event.value, reason)
        if value is not None:
            self.responses.append((value["correlation_id"].encode(), orjson.dumps(value)))


def decode_batch(
    batch: Sequence[EventT], decode: Callable[[bytes], E], stage: str
) -> DecodedBatch[E]:
    """Each event of ``batch`` decoded by ``decode``, in order; the rest refused."""
    decoded: DecodedBatch[E] = DecodedBatch()
    for event in batch:
        try:
            decoded.valid.append((event, decode(event.value)))
        except ValueError as exc:  # pydantic's ValidationError included
            decoded.refuse(event, invalid_reason(exc), stage)
    return decoded


def invalid_reason(exc: Exception) -> str:
    """Why an event is invalid: each broken field rule (the first ten), or the error."""
    if isinstance(exc, ValidationError):
        problems = [f"{'.'.join(map(str, e['loc'])) or 'evento'}: {e['msg']}" for e in exc.errors()]
        return "invalid event: " + "; ".join(problems[:10])
    return f"invalid event: {exc}"


def outcome_message(
    request: Envelope, status: Literal["success", "error"], message: str
) -> Message:
    """The ``response_events`` message giving ``request`` its outcome."""
    return request.correlation_id.encode(), orjson.dumps(response_event(request, status, message))


def applied_outcome(event: Envelope, code: str) -> Message:
    """The outcome message of ``event``, applied with outcome ``code`` (``applied``, ``user_not_found``...)."""
    return outcome_message(event, *outcome_words(event, code))
