"""The event log's sink: documents into Elasticsearch, or into the fallback file meanwhile.

A sink with a clear lifecycle: :meth:`LogSink.setup` waits for the index,
:meth:`LogSink.write` takes a batch and returns only once it is durable
somewhere, :meth:`LogSink.flush` brings what waits in the fallback file into
the index once Elasticsearch answers again.

Failures:

* Elasticsearch unreachable, hung, 429 or 5xx -> the batch is appended to the
  fallback file (fsync'd before :meth:`write` returns); later batches go
  straight there until :meth:`flush` has replayed the backlog (idempotent:
  documents have deterministic ids).
* A document Elasticsearch refuses (mapping conflict) -> a dead letter with the
  reason, and a minimal document (the event as unindexed text) so the log keeps
  it. Documents of dead letters are never dead-lettered again (no loop).
* The fallback file cannot be written (disk full) -> :class:`OSError` is raised
  for the caller's retry: nothing is acknowledged that is not durable.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import cast

import orjson
from faust.types import EventT, TopicT

from app.eventlog.documents import unindexed_copy
from app.eventlog.fallback_file import FallbackFile
from app.eventlog.search_index import Document, Rejection, SearchIndex, SearchUnavailable
from app.guard import dead_letter, send_dead_letters
from app.kafka.publishing import Message
from app.kafka.readers import Record

log = logging.getLogger(__name__)

#: Documents read from the fallback file per ``_bulk`` request when replaying.
REPLAY_CHUNK = 5000
STAGE = "event_log"


class LogSink:
    """Writes ``system_logs`` documents to Elasticsearch, or to the fallback file while it is down."""

    def __init__(self, index: SearchIndex, fallback: FallbackFile, dead_letters: TopicT) -> None:
        self.index = index
        self.fallback = fallback
        #: Where documents Elasticsearch refuses go, with the reason.
        self.dead_letters = dead_letters
        #: Set on a failure; cleared once the backlog is replayed. Meanwhile
        #: batches go straight to the file instead of waiting out timeouts.
        self.degraded = False

    def setup(self) -> None:
        """Make sure the fallback file can be written, before it is ever needed.

        Raises :class:`OSError` naming the path when its directory cannot be
        created: a worker that could not keep documents through an outage
        must not start.
        """
        self.fallback.path.parent.mkdir(parents=True, exist_ok=True)

    async def write(self, documents: Sequence[Document]) -> None:
        """Index ``documents``, or keep them in the fallback file; returns once durable."""
        if not self.degraded and self.index.is_ready:
            try:
                _, rejected = await self.index.bulk_index(documents)
            except SearchUnavailable as exc:
                log.warning("Elasticsearch unavailable (%s); using %s", exc, self.fallback.path)
                self.degraded = True
            else:
                await self._handle_rejections(rejected)
                return
        await self.fallback.append(documents)

    @property
    def has_backlog(self) -> bool:
        """Whether documents wait for :meth:`flush`."""
        return self.degraded or self.fallback.has_backlog

    async def flush(self) -> int:
        """Index the fallback file's backlog; return how many documents it held.

        Raises :class:`SearchUnavailable` if Elasticsearch fails meanwhile; the
        file stays for the next attempt.
        """
        replayed = 0
        while (path := await self.fallback.take_backlog()) is not None:
            for chunk in self.fallback.read(path, REPLAY_CHUNK):
                _, rejected = await self.index.bulk_index(chunk)
                await self._handle_rejections(rejected)
                replayed += len(chunk)
            path.unlink()
        self.degraded = False
        return replayed

    async def _handle_rejections(self, rejected: Sequence[Rejection]) -> None:
        """Dead-letter refused documents and keep a minimal copy of each in the index."""
        if not rejected:
            return
        letters = [_dead_letter(r) for r in rejected if not _is_dead_letter(r.document)]
        await send_dead_letters(self.dead_letters, letters)
        copies = [unindexed_copy(r.document) for r in rejected]
        try:
            _, refused_again = await self.index.bulk_index(copies)
        except SearchUnavailable:
            await self.fallback.append(copies)
            return
        for rejection in refused_again:
            log.error("dropping document %s: %s", rejection.document.id, rejection.reason)


def _is_dead_letter(document: Document) -> bool:
    return document.source.get("event_type") == "dead_letter"


def _dead_letter(rejection: Rejection) -> Message:
    """The dead letter of a refused document, naming the record it was built from."""
    source = rejection.document.source
    key = source["correlation_id"].encode() if source.get("correlation_id") else None
    record = Record(
        source["topic"], source["partition"], source["offset"], key, orjson.dumps(source), None
    )
    reason = f"Elasticsearch refused the log document: {rejection.reason}"
    return dead_letter(cast(EventT, record), reason, STAGE)  # a Record is event-shaped
