"""Agents: every topic -> Elasticsearch ``system_logs``, masked, each event exactly once.

One agent per topic (``user_events``, ``response_events``, ``dead_letters``),
all the same: batches of :attr:`Settings.log_batch_size` events become one
``_bulk`` request. Each event becomes one document with a deterministic
``_id`` (``topic:correlation_id``, else ``topic:partition:offset``), so a
redelivered or re-produced event overwrites its document instead of doubling it.
Personal data is masked (:mod:`app.masking`) before a document is built.

Failures:

* Elasticsearch unreachable, hung, 429 or 5xx -> the batch is appended to the
  local fallback file (fsync'd before the checkpoint moves past it) and consumption
  goes on; :func:`replay_fallback_file` brings the backlog in once
  Elasticsearch answers again, then deletes it. Replays are idempotent (ids).
* A document Elasticsearch refuses (mapping conflict) -> a dead letter with
  the reason, and a minimal document (the event as unindexed text) so the log
  keeps it. Dead letters themselves are never dead-lettered again.
* The fallback file cannot be written (disk full) -> retried with backoff,
  without moving on: the checkpoint stays before the batch.
* Faust skips (and commits past) events around a rebalance -> each agent keeps
  a checkpoint per partition in PostgreSQL (:class:`agents.gaps.Checkpoint`)
  and first logs the events read back from between it and a batch. While
  PostgreSQL is down the agents wait with backoff, like processing: the log
  falls behind rather than miss an event (Kafka keeps them meanwhile).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import orjson
from faust import StreamT
from faust.types import EventT, TopicT

from agents.gaps import Checkpoint, assigned_partitions, close_offsets_reader
from app.application import app, database, search, settings
from app.database import CheckpointKey
from app.dead_letters import dead_letter, send_dead_letters
from app.events import check_uuid
from app.masking import mask, mask_text
from app.retry import Backoff
from app.search import Document, Rejection, SearchIndex, SearchUnavailable
from app.topics import (
    DEAD_LETTERS,
    RESPONSE_EVENTS,
    USER_EVENTS,
    dead_letters,
    response_events,
    user_events,
)

log = logging.getLogger(__name__)
STAGE = "event_log"
#: Topics whose events carry their own correlation id: it names their document.
KEYED_BY_CORRELATION = frozenset({USER_EVENTS, RESPONSE_EVENTS})
#: Longest text kept from a value that is not a JSON object, or from an oversized one.
MAX_RAW_CHARS = 4096
#: An event whose masked JSON is larger is kept as truncated text.
MAX_EVENT_BYTES = 256 * 1024
#: Longest value of a keyword field at the document's top level.
MAX_FIELD_CHARS = 256
#: Documents read from the fallback file per ``_bulk`` request when replaying.
REPLAY_CHUNK = 5000
_MAX_LONG = 2**63 - 1
_CORRELATION_IN_TEXT = re.compile(r'"correlation_id"\s*:\s*"([0-9a-fA-F-]{36})"')


# --------------------------------------------------------------------------- documents


def build_document(
    topic: str,
    partition: int,
    offset: int,
    value: bytes | None,
    record_time: float | None,
    logged_at: datetime,
) -> Document:
    """The ``system_logs`` document of one Kafka record (pure; never raises on bad input)."""
    event, event_type = _masked_event(value)
    correlation_id = _correlation_id(event)
    source: dict[str, Any] = {
        "timestamp": _event_time(event.get("timestamp"), record_time, logged_at),
        "logged_at": _iso(logged_at),
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "correlation_id": correlation_id or _payload_correlation_id(event),
        "event_type": event_type,
        "source": _keyword(event.get("source")),
        "target": _keyword(event.get("target")),
        "user_id": _user_id(event.get("user_id")),
        **_outcome_fields(event, event_type),
        "event": event,
    }
    return Document(_document_id(topic, partition, offset, event, correlation_id), source)


def _document_id(
    topic: str, partition: int, offset: int, event: dict[str, Any], correlation_id: str | None
) -> str:
    """One id per fact: a request, an outcome, a refusal of one record by one stage.

    So the same fact seen twice (a redelivery, a response re-sent after a
    crash, a dead letter written again) overwrites its document.
    """
    if topic in KEYED_BY_CORRELATION and correlation_id:
        return f"{topic}:{correlation_id}"
    if topic == DEAD_LETTERS and (origin := _dead_letter_origin(event)):
        return f"{topic}:{origin}"
    return f"{topic}:{partition}:{offset}"


def _dead_letter_origin(event: dict[str, Any]) -> str | None:
    """``stage:topic:partition:offset`` of the record a dead letter refuses."""
    parts = [event.get(field) for field in ("stage", "topic", "partition", "offset")]
    if all(isinstance(p, str | int) and not isinstance(p, bool) for p in parts):
        return ":".join(str(p) for p in parts)
    return None


def _masked_event(value: bytes | None) -> tuple[dict[str, Any], str | None]:
    """The event as a masked object, and its type (``invalid`` if not a JSON object)."""
    raw = value or b""
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        return {"raw": _raw_text(raw)}, "invalid"
    event = mask(parsed)
    # Masking grows a value by a few characters at most: small events need no check.
    if len(raw) > MAX_EVENT_BYTES // 2:
        event = _bounded(event)
    return event, _keyword(event.get("event_type"))


def _raw_text(raw: bytes) -> str:
    return mask_text(raw[:MAX_RAW_CHARS].decode("utf-8", errors="replace"))


def _bounded(event: dict[str, Any]) -> dict[str, Any]:
    """``event``, or its text cut to :data:`MAX_RAW_CHARS` when it is huge."""
    encoded = orjson.dumps(event)
    if len(encoded) <= MAX_EVENT_BYTES:
        return event
    return {"raw": encoded[:MAX_RAW_CHARS].decode("utf-8", errors="replace"), "truncated": True}


def _correlation_id(event: dict[str, Any]) -> str | None:
    value = event.get("correlation_id")
    if not isinstance(value, str):
        return None
    try:
        return check_uuid(value)
    except ValueError:
        return None


def _payload_correlation_id(event: dict[str, Any]) -> str | None:
    """A dead letter's correlation id, read from the refused payload's text."""
    payload = event.get("payload")
    match = _CORRELATION_IN_TEXT.search(payload) if isinstance(payload, str) else None
    if match is None:
        return None
    return _correlation_id({"correlation_id": match.group(1)})


def _outcome_fields(event: dict[str, Any], event_type: str | None) -> dict[str, Any]:
    if event_type == "response":
        return {
            "original_event_type": _keyword(event.get("original_event_type")),
            "status": _keyword(event.get("status")),
            "latency_ms": _latency_ms(event.get("timestamp"), event.get("request_timestamp")),
        }
    if event_type == "dead_letter":
        return {"stage": _keyword(event.get("stage"))}
    return {}


def _latency_ms(answered: object, requested: object) -> float | None:
    end, start = _parse_time(answered), _parse_time(requested)
    if end is None or start is None:
        return None
    return round((end - start).total_seconds() * 1000, 3)


def _event_time(value: object, record_time: float | None, logged_at: datetime) -> str:
    """The event's own time, else the Kafka record's, else when it was logged."""
    moment = _parse_time(value)
    if moment is None and record_time is not None and record_time > 0:
        moment = datetime.fromtimestamp(record_time, UTC)
    return _iso(moment or logged_at)


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _keyword(value: object) -> str | None:
    return value[:MAX_FIELD_CHARS] if isinstance(value, str) else None


def _user_id(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_LONG:
        return value
    return None


def unindexed_copy(document: Document) -> Document:
    """``document`` with its event as plain text: no field left that a mapping can refuse."""
    text = orjson.dumps(document.source.get("event")).decode()
    event = {"unindexed": text[:MAX_RAW_CHARS]}
    return Document(document.id, {**document.source, "event": event})


def document_of(event: EventT) -> Document:
    """The document of a consumed event."""
    message = event.message
    value = message.value if isinstance(message.value, bytes) else None
    return build_document(
        message.topic,
        message.partition,
        message.offset,
        value,
        message.timestamp,
        datetime.now(UTC),
    )


# --------------------------------------------------------------------------- fallback file


class FallbackFile:
    """Documents waiting for Elasticsearch, one JSON object per line, durable once appended.

    A replay first renames the file to ``*.replaying`` (atomic), so new
    documents go to a fresh file meanwhile; the renamed file is deleted only
    after all of it was indexed, and is replayed again after a crash.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.replaying = path.with_name(path.name + ".replaying")
        self._lock = asyncio.Lock()

    @property
    def has_backlog(self) -> bool:
        """True when documents are waiting to be replayed."""
        return self.replaying.exists() or _size(self.path) > 0

    async def append(self, documents: Sequence[Document]) -> None:
        """Append ``documents``; return once they are on disk (fsync)."""
        lines = b"".join(
            orjson.dumps({"_id": d.id, "_source": d.source}) + b"\n" for d in documents
        )
        async with self._lock:
            await asyncio.to_thread(_append_durably, self.path, lines)

    async def take_backlog(self) -> Path | None:
        """The file to replay next, or None when there is nothing to replay."""
        async with self._lock:
            if self.replaying.exists():
                return self.replaying
            if _size(self.path) == 0:
                return None
            os.replace(self.path, self.replaying)
            _fsync_dir(self.path.parent)
            return self.replaying

    @staticmethod
    def read(path: Path, chunk_size: int) -> Iterator[list[Document]]:
        """The documents of ``path`` in chunks; a torn line (crash mid-append) is skipped."""
        chunk: list[Document] = []
        with path.open("rb") as lines:
            for number, line in enumerate(lines, 1):
                document = _parse_line(line, path, number)
                if document is not None:
                    chunk.append(document)
                if len(chunk) >= chunk_size:
                    yield chunk
                    chunk = []
        if chunk:
            yield chunk


def _append_durably(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as file:
        if file.tell() > 0:
            file.seek(-1, os.SEEK_END)
            if file.read(1) != b"\n":
                file.write(b"\n")  # end a line torn by a crash; it is skipped on replay
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def _parse_line(line: bytes, path: Path, number: int) -> Document | None:
    try:
        fields = orjson.loads(line)
        return Document(fields["_id"], fields["_source"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        if line.strip():
            log.error("%s:%d is not a document (torn by a crash?); skipped", path, number)
        return None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- sink


@dataclass(frozen=True, slots=True)
class _Record:
    """The fields of a Kafka message that :func:`dead_letter` reads."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes


@dataclass(frozen=True, slots=True)
class _Refused:
    """A refused document posing as the event :func:`dead_letter` expects."""

    message: _Record


class EventLog:
    """Writes documents to Elasticsearch, or to the fallback file while it is down."""

    def __init__(self, index: SearchIndex, fallback: FallbackFile) -> None:
        self.index = index
        self.fallback = fallback
        #: Set on a failure; cleared once the backlog is replayed. Meanwhile
        #: batches go straight to the file instead of waiting out timeouts.
        self.degraded = False

    async def write(self, documents: Sequence[Document]) -> None:
        """Index ``documents``; on a transient failure keep them in the fallback file."""
        if not self.degraded and self.index.is_ready:
            try:
                _, rejected = await self.index.bulk_index(documents)
            except SearchUnavailable as exc:
                log.warning("Elasticsearch unavailable (%s); using %s", exc, self.fallback.path)
                self.degraded = True
            else:
                await self.handle_rejections(rejected)
                return
        await self.keep(documents)

    async def keep(self, documents: Sequence[Document]) -> None:
        """Append ``documents`` to the fallback file, retrying until the disk takes them."""
        backoff = Backoff(ceiling=30.0)
        while True:
            try:
                await self.fallback.append(documents)
                return
            except OSError as exc:
                log.error("cannot write %s (%r); retrying", self.fallback.path, exc)
                await backoff.wait()

    async def handle_rejections(self, rejected: Sequence[Rejection]) -> None:
        """Dead-letter refused documents and keep a minimal copy of each in the index."""
        if not rejected:
            return
        letters = [_dead_letter(r) for r in rejected if r.document.source["topic"] != DEAD_LETTERS]
        await send_dead_letters(letters)
        copies = [unindexed_copy(r.document) for r in rejected]
        try:
            _, refused_again = await self.index.bulk_index(copies)
        except SearchUnavailable:
            await self.keep(copies)
            return
        for rejection in refused_again:
            log.error("dropping document %s: %s", rejection.document.id, rejection.reason)

    async def replay(self) -> int:
        """Index the fallback file's backlog; return how many documents it held."""
        replayed = 0
        while (path := await self.fallback.take_backlog()) is not None:
            for chunk in self.fallback.read(path, REPLAY_CHUNK):
                _, rejected = await self.index.bulk_index(chunk)
                await self.handle_rejections(rejected)
                replayed += len(chunk)
            path.unlink()
        self.degraded = False
        return replayed


def _dead_letter(rejection: Rejection) -> tuple[bytes | None, bytes]:
    source = rejection.document.source
    key = source["correlation_id"].encode() if source.get("correlation_id") else None
    record = _Record(
        source["topic"], source["partition"], source["offset"], key, orjson.dumps(source)
    )
    reason = f"Elasticsearch refused the log document: {rejection.reason}"
    return dead_letter(cast(EventT, _Refused(record)), reason, STAGE)


# --------------------------------------------------------------------------- agents

event_log = EventLog(search, FallbackFile(settings.es_fallback_path))


async def log_batch(batch: Sequence[EventT]) -> None:
    """Write the documents of ``batch``; returns only once they are durable somewhere."""
    await event_log.write([document_of(event) for event in batch])


async def log_guarded(batch: Sequence[EventT], checkpoint: Checkpoint) -> None:
    """Log ``batch`` after what the stream skipped before it; then move the checkpoint.

    If anything fails, the checkpoint stays: the next batch finds the gap again.
    """
    batch = await checkpoint.with_skipped(batch)
    await log_batch(batch)
    await checkpoint.save(batch)


async def _log_one_by_one(batch: Sequence[EventT], checkpoint: Checkpoint) -> None:
    """After an unexpected failure: log each event alone (skipped ones included), in order.

    An event that still fails is dead-lettered; the checkpoint moves past every
    event either way, or later batches would read the failing one back forever.
    """
    for event in await checkpoint.with_skipped(batch):
        try:
            await log_batch([event])
        except Exception as exc:
            message = event.message
            log.exception(
                "%s:%s:%s cannot be logged", message.topic, message.partition, message.offset
            )
            if message.topic != DEAD_LETTERS:  # a letter about a letter could loop forever
                await send_dead_letters([dead_letter(event, f"logging failed: {exc!r}", STAGE)])
        await checkpoint.save([event])


def _logging_agent(topic: TopicT) -> None:
    key = CheckpointKey(settings.group_id, STAGE, topic.get_topic_name())
    checkpoint = Checkpoint(database, settings, key)

    async def log_events(stream: StreamT[bytes]) -> None:
        """Consumes its topic in batches; produces ``system_logs`` documents.

        Every event is indexed, or kept in the fallback file, before the
        agent's checkpoint moves past it; batches are logged one at a time
        while the stream gathers the next, and events Faust skipped (or acked
        before a crash let them be logged) are read back from the checkpoint.
        """
        await database.wait_ready()  # the checkpoints live there
        # ``take_events`` is missing from StreamT's stubs (it is on Stream).
        batches = stream.take_events(  # type: ignore[attr-defined]
            settings.log_batch_size, within=settings.log_batch_wait_s
        )
        await checkpoint.run(batches, log_safely)

    async def log_safely(batch: Sequence[EventT]) -> None:
        try:
            await log_guarded(batch, checkpoint)
        except Exception:  # never let the agent die, or move its checkpoint past unlogged events
            log.exception("unexpected failure logging a batch; retrying event by event")
            await _log_one_by_one(batch, checkpoint)

    async def recover_stalled() -> None:
        """Feeds the agent events its stream stopped delivering (see ``Checkpoint.stalled``)."""
        partitions = assigned_partitions(app, topic.get_topic_name())
        await checkpoint.recover_stalled(partitions, log_safely, settings.log_batch_size)

    # Named for its topic, so the three agents tell themselves apart in logs and metrics.
    name = f"log_{topic.get_topic_name()}"
    log_events.__name__ = log_events.__qualname__ = name
    app.agent(topic, name=f"{__name__}.{name}")(log_events)
    recover_stalled.__name__ = recover_stalled.__qualname__ = f"recover_stalled_{name}"
    app.timer(interval=settings.stall_after_s / 3, name=f"{__name__}.{recover_stalled.__name__}")(
        recover_stalled
    )


for _topic in (user_events, response_events, dead_letters):
    _logging_agent(_topic)
app.on_before_shutdown.connect(close_offsets_reader)


@app.timer(interval=2.0)
async def replay_fallback_file() -> None:
    """Brings the fallback file's backlog into Elasticsearch once it answers again."""
    if not (event_log.degraded or event_log.fallback.has_backlog):
        return
    if not search.is_ready or not await search.ping():
        return
    try:
        replayed = await event_log.replay()
    except SearchUnavailable as exc:
        log.warning("replay of %s interrupted (%s); will retry", event_log.fallback.path, exc)
        return
    except Exception:  # the timer must survive; the file stays for the next attempt
        log.exception("replay of %s failed; will retry", event_log.fallback.path)
        return
    if replayed:
        log.info(
            "replayed %d documents from %s into Elasticsearch", replayed, event_log.fallback.path
        )
