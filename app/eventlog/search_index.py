"""Elasticsearch: the ``system_logs`` indices, and every request to them.

No other module talks to Elasticsearch. The service connects in the background
with backoff, so the worker comes up while Elasticsearch is down; it installs
the index template (and creates the current index) before anything is indexed,
so a document can never reach an index built by dynamic mapping. Documents go
to time-based indices read through the alias ``system_logs``
(:mod:`app.eventlog.indices`); :meth:`SearchIndex.prune_indices` deletes old ones.

Errors are split the way a caller must act on them:

* :class:`SearchUnavailable` -- unreachable, timed out, 429 or 5xx, or the index
  blocked (``cluster_block_exception``: a full disk's flood-stage watermark
  makes it read-only with 429, an operator's write block answers 403): nothing
  is wrong with the documents, try again later (or keep them elsewhere meanwhile);
* :class:`Rejection` (returned, not raised) -- Elasticsearch refused one
  document (mapping conflict, 400): retrying can never succeed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from elastic_transport import TransportError
from elasticsearch import ApiError, AsyncElasticsearch
from elasticsearch.serializer import OrjsonSerializer
from mode import Service

from app.clock import utc_now
from app.eventlog.indices import INDEX_SETTINGS, MAPPINGS, LogIndices
from app.eventlog.log_queries import (
    LogPage,
    LogQuery,
    all_of,
    histogram_interval,
    log_filters,
    log_page,
    log_search_body,
    millis_time,
)
from app.retry import retrying

log = logging.getLogger(__name__)
# The client logs every request at INFO: one line per bulk, too chatty for a log stream.
logging.getLogger("elastic_transport.transport").setLevel(logging.WARNING)

#: Trail of one request: its request, outcome and dead letters, never more than this.
MAX_TRAIL = 100
#: One user's documents read (an export) or deleted (an erasure) per search.
MAX_USER_DOCUMENTS = 1000
#: Upper bound of one ``_bulk`` body; Elasticsearch refuses bodies over 100 MB.
MAX_BULK_BYTES = 8 * 1024 * 1024
#: One batch goes out as this many concurrent ``_bulk`` requests (measured: 1.5x
#: the throughput of one request on a two-core node) ...
PARALLEL_REQUESTS = 2
#: ... unless that would make requests smaller than this.
MIN_PARALLEL_DOCS = 250
_PING_TIMEOUT_S = 1.0

_BULK_FILTER = "errors,items.*.status,items.*.error.type,items.*.error.reason"


class SearchUnavailable(Exception):
    """Elasticsearch cannot take requests now (down, hung, overloaded): retry later."""


@dataclass(frozen=True, slots=True)
class Document:
    """One ``system_logs`` document and its deterministic ``_id``."""

    id: str
    source: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rejection:
    """A document Elasticsearch refused for good, and why."""

    document: Document
    reason: str


class SearchIndex(Service):
    """Owns the Elasticsearch client; prepares ``system_logs``; indexes and searches it."""

    def __init__(
        self,
        host: str,
        request_timeout: float = 5.0,
        indices: LogIndices | None = None,
        **kwargs: Any,
    ) -> None:
        #: The dated indices, and the alias (``system_logs``) they are read through.
        self.indices = indices or LogIndices()
        self._client = AsyncElasticsearch(
            host,
            request_timeout=request_timeout,
            # Retries are ours (backoff, fallback file): fail fast instead.
            max_retries=0,
            retry_on_timeout=False,
            serializer=OrjsonSerializer(),
        )
        self._ready = asyncio.Event()
        super().__init__(**kwargs)

    @Service.task
    async def _prepare_index(self) -> None:
        await retrying(
            self._install_mappings,
            on=(TransportError, ApiError, SearchUnavailable),
            what=f"preparing the Elasticsearch indices {self.indices.pattern}",
        )
        self._ready.set()
        log.info("Elasticsearch ready: indices %s prepared", self.indices.pattern)

    async def _install_mappings(self) -> None:
        indices, alias = self._client.indices, self.indices.name
        # First, as the template's alias may not name an existing index.
        if await indices.exists(index=alias) and not await indices.exists_alias(name=alias):
            await self._date_single_index()
        # The template of the single index of earlier versions, then ours.
        await self._client.options(ignore_status=404).indices.delete_index_template(name=alias)
        await indices.put_index_template(name=self.indices.template_name, **self.indices.template())
        # Adds fields new in this version; never changes an existing one.
        await indices.put_mapping(index=self.indices.pattern, allow_no_indices=True, **MAPPINGS)
        await self._create_index(self.indices.index_for(utc_now()))

    async def _date_single_index(self) -> None:
        """Make the single ``system_logs`` index of earlier versions a dated one, under the alias.

        Write-blocked, cloned (segments are hard-linked: seconds, whatever its
        size) to the index of its newest document, then swapped for the alias
        in one step. The clone is the alias's write index: workers of the
        earlier version, still writing ``system_logs`` during a rolling
        restart, write there (blocked meanwhile, they keep their documents in
        the fallback file).
        """
        indices, alias = self._client.indices, self.indices.name
        if not (await self._client.count(index=alias))["count"]:
            await indices.delete(index=alias)
            return
        newest = await self._newest(alias)
        target = self.indices.index_for(min(newest or utc_now(), utc_now()))
        log.info("Elasticsearch: the single index %s becomes %s", alias, target)
        await indices.put_settings(index=alias, settings={"index.blocks.write": True})
        if not await indices.exists(index=target):
            # (A clone's replicas default to 1, which one node can never assign.)
            replicas = INDEX_SETTINGS["number_of_replicas"]
            settings = {"index.blocks.write": False, "index.number_of_replicas": replicas}
            await indices.clone(index=alias, target=target, settings=settings)
        # Its primary active: the copy is complete (replicas may follow later).
        health = await self._client.cluster.health(
            index=target, wait_for_status="yellow", timeout="20s"
        )
        if health.get("timed_out"):
            raise SearchUnavailable(f"{target} not active after cloning {alias}")
        await indices.update_aliases(
            actions=[
                {"remove_index": {"index": alias}},
                {"add": {"index": target, "alias": alias, "is_write_index": True}},
            ]
        )

    async def _newest(self, index: str) -> datetime | None:
        aggs = {"newest": {"max": {"field": "timestamp"}}}
        response = await self._client.search(index=index, size=0, aggs=aggs)
        return millis_time(response.get("aggregations", {}).get("newest"))

    async def _create_index(self, index: str) -> None:
        """Create ``index`` (mapped and aliased by the template) unless it exists."""
        try:
            await self._client.indices.create(index=index)
        except ApiError as exc:
            if _error_type(exc) != "resource_already_exists_exception":
                raise

    async def prune_indices(self, retention: timedelta) -> list[str]:
        """Delete the indices whose period is older than ``retention``; return their names.

        Also creates the current period's index, so that the alias always
        names one (readers refresh and search ``system_logs`` by name).
        """
        now = utc_now()
        try:
            await self._create_index(self.indices.index_for(now))
            found = await self._client.indices.get_alias(index=self.indices.pattern)
            gone = self.indices.expired(found.body, now, retention)
            if gone:
                await self._client.indices.delete(index=",".join(gone), ignore_unavailable=True)
        except (TransportError, ApiError) as exc:
            raise SearchUnavailable(_describe(exc)) from exc
        return gone

    async def on_stop(self) -> None:
        """Close the client's connections."""
        await self._client.close()

    @property
    def is_ready(self) -> bool:
        """True once the index and its mapping are in place."""
        return self._ready.is_set()

    async def wait_ready(self) -> None:
        """Return once the index and its mapping are in place."""
        await self._ready.wait()

    async def ping(self) -> bool:
        """True when the cluster answers its health within a second.

        (``GET /`` is not served by this distribution, so the client's own
        ``ping()`` would always say no.)
        """
        try:
            health = await self._client.options(request_timeout=_PING_TIMEOUT_S).cluster.health()
        except (TransportError, ApiError):
            return False
        return health.get("status") in ("green", "yellow")

    async def bulk_index(self, documents: Sequence[Document]) -> tuple[int, list[Rejection]]:
        """Index (create or overwrite by ``_id``) ``documents``; return (indexed, rejected).

        Raises :class:`SearchUnavailable` when any part failed for a transient
        reason; indexing again is harmless, the ids make it an overwrite.
        """
        if not self.is_ready:
            raise SearchUnavailable(f"indices {self.indices.pattern} not prepared yet")
        # Split in parallel requests: the node indexes them on several threads.
        per_request = max(MIN_PARALLEL_DOCS, -(-len(documents) // PARALLEL_REQUESTS))
        outcomes = await asyncio.gather(
            *(
                self._bulk(chunk, body)
                for chunk, body in _bulk_bodies(documents, per_request, self.indices)
            )
        )
        return sum(ok for ok, _ in outcomes), [r for _, refused in outcomes for r in refused]

    async def _bulk(self, chunk: Sequence[Document], body: bytes) -> tuple[int, list[Rejection]]:
        try:
            # Pre-encoded NDJSON (orjson) is passed through as is; the stubs only know dicts.
            response = await self._client.bulk(operations=body, filter_path=_BULK_FILTER)  # type: ignore[arg-type]
        except TransportError as exc:
            raise SearchUnavailable(_describe(exc)) from exc
        except ApiError as exc:
            if _is_transient(exc.meta.status, _error_type(exc)):
                raise SearchUnavailable(_describe(exc)) from exc
            reason = _describe(exc)
            return 0, [Rejection(document, reason) for document in chunk]
        if not response.get("errors"):
            return len(chunk), []
        return _bulk_outcome(chunk, response["items"])

    async def trail(self, correlation_id: str) -> list[dict[str, Any]]:
        """The documents of one correlation id, oldest first (at most :data:`MAX_TRAIL`)."""
        try:
            response = await self._client.search(
                index=self.indices.name,
                query={"term": {"correlation_id": correlation_id}},
                sort=[{"timestamp": {"order": "asc"}}],
                size=MAX_TRAIL,
                ignore_unavailable=True,
            )
        except (TransportError, ApiError) as exc:
            raise SearchUnavailable(_describe(exc)) from exc
        return [hit["_source"] for hit in response["hits"]["hits"]]

    async def user_documents(self, user_id: int) -> list[dict[str, Any]]:
        """The documents of one user's events, oldest first (at most :data:`MAX_USER_DOCUMENTS`)."""
        body = {"query": {"term": {"user_id": user_id}}, "size": MAX_USER_DOCUMENTS}
        response = await self._search({**body, "sort": [{"timestamp": {"order": "asc"}}]})
        return [hit["_source"] for hit in response["hits"]["hits"]]

    async def delete_user_documents(self, user_id: int) -> int:
        """Delete every document of one user's events; return how many went.

        This Elasticsearch has no delete-by-query: search (after a refresh, so
        documents indexed a moment ago are found too), then ``_bulk`` delete,
        until a search finds none. Deleting again deletes nothing more.
        """
        deleted = 0
        while True:
            try:
                await self._client.indices.refresh(index=self.indices.name, ignore_unavailable=True)
            except (TransportError, ApiError) as exc:
                raise SearchUnavailable(_describe(exc)) from exc
            found = await self._search(
                {
                    "query": {"term": {"user_id": user_id}},
                    "size": MAX_USER_DOCUMENTS,
                    "_source": False,
                }
            )
            hits = found["hits"]["hits"]
            gone = await self._bulk_delete(hits) if hits else 0
            deleted += gone
            if gone == 0:
                return deleted

    async def _bulk_delete(self, hits: list[dict[str, Any]]) -> int:
        body = b"".join(
            orjson.dumps({"delete": {"_index": hit["_index"], "_id": hit["_id"]}}) + b"\n"
            for hit in hits
        )
        try:
            response = await self._client.bulk(operations=body, refresh=True)  # type: ignore[arg-type]
        except (TransportError, ApiError) as exc:
            raise SearchUnavailable(_describe(exc)) from exc
        return sum(1 for item in response["items"] if item["delete"].get("result") == "deleted")

    async def search_logs(self, query: LogQuery, owner: str | None) -> LogPage:
        """One page of the documents matching ``query``, newest first, with a histogram.

        ``owner`` (an API key's name) restricts the search to the documents of
        that key's requests; ``None`` (an admin) searches everything. The
        histogram spans ``desde``-``ate``, or the matching documents' own span
        where a bound is not given, in at most :data:`MAX_BUCKETS` bars.
        """
        filters = log_filters(query, owner)
        start, end = query.desde, query.ate
        if start is None or end is None:
            first, last = await self._time_span(filters)
            start, end = start or first, end or last
        interval = histogram_interval(start, end) if start and end else None
        body = log_search_body(query, filters, interval, start, end)
        response = await self._search(body)
        return log_page(response, interval)

    async def _time_span(self, filters: list[dict[str, Any]]) -> tuple[datetime | None, ...]:
        """The first and last ``timestamp`` among the documents matching ``filters``."""
        aggs = {"first": {"min": {"field": "timestamp"}}, "last": {"max": {"field": "timestamp"}}}
        response = await self._search({"query": all_of(filters), "size": 0, "aggs": aggs})
        found = response.get("aggregations", {})
        return millis_time(found.get("first")), millis_time(found.get("last"))

    async def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self._client.search(
                index=self.indices.name, ignore_unavailable=True, **body
            )
        except (TransportError, ApiError) as exc:
            raise SearchUnavailable(_describe(exc)) from exc
        return dict(response.body)


def _bulk_bodies(
    documents: Sequence[Document], max_docs: int, indices: LogIndices
) -> Iterator[tuple[list[Document], bytes]]:
    """``_bulk`` NDJSON bodies of at most ``max_docs`` documents and :data:`MAX_BULK_BYTES`,
    each document into the index of its own time."""
    chunk: list[Document] = []
    lines: list[bytes] = []
    size = 0
    for document in documents:
        index = indices.of_document(document.source)
        action = orjson.dumps({"index": {"_index": index, "_id": document.id}})
        source = orjson.dumps(document.source)
        if chunk and (
            len(chunk) >= max_docs or size + len(action) + len(source) + 2 > MAX_BULK_BYTES
        ):
            yield chunk, b"\n".join(lines) + b"\n"
            chunk, lines, size = [], [], 0
        chunk.append(document)
        lines += (action, source)
        size += len(action) + len(source) + 2
    if chunk:
        yield chunk, b"\n".join(lines) + b"\n"


def _bulk_outcome(
    chunk: Sequence[Document], items: list[dict[str, Any]]
) -> tuple[int, list[Rejection]]:
    """Count what was indexed; collect rejections; raise if anything failed transiently."""
    rejected: list[Rejection] = []
    transient: list[int] = []
    for document, item in zip(chunk, items, strict=True):
        result = item["index"]
        status = result["status"]
        if status < 300:
            continue
        error = result.get("error", {})
        if _is_transient(status, error.get("type")):
            transient.append(status)
            continue
        rejected.append(Rejection(document, f"{error.get('type')}: {error.get('reason')}"))
    if transient:
        raise SearchUnavailable(
            f"{len(transient)} documents refused for now (status {transient[0]})"
        )
    return len(chunk) - len(rejected), rejected


#: Refusals that say nothing about the document: the index takes no writes for now.
_BLOCKED = "cluster_block_exception"


def _is_transient(status: int, error_type: str | None = None) -> bool:
    """Whether the same request may succeed later (overloaded, failing, or blocked)."""
    return status == 429 or status >= 500 or error_type == _BLOCKED


def _error(exc: ApiError) -> dict[str, Any]:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error")
    return error if isinstance(error, dict) else {}


def _error_type(exc: ApiError) -> str | None:
    return _error(exc).get("type")


def _describe(exc: Exception) -> str:
    if isinstance(exc, ApiError):
        error = _error(exc)
        cause = error.get("caused_by", {}).get("reason") or error.get("reason") or exc.message
        return f"HTTP {exc.meta.status} {error.get('type')}: {cause}"
    return f"{type(exc).__name__}: {exc}"
