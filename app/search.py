"""Elasticsearch: the ``system_logs`` index, its mapping, and every request to it.

No other module talks to Elasticsearch. The service connects in the background
with backoff, so the worker comes up while Elasticsearch is down; it installs
the index template (and creates the index) before anything is indexed, so a
document can never reach an index built by dynamic mapping.

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
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from elastic_transport import TransportError
from elasticsearch import ApiError, AsyncElasticsearch
from elasticsearch.serializer import OrjsonSerializer
from mode import Service

from app.clock import iso_utc
from app.models import LogQuery
from app.retry import retrying

log = logging.getLogger(__name__)
# The client logs every request at INFO: one line per bulk, too chatty for a log stream.
logging.getLogger("elastic_transport.transport").setLevel(logging.WARNING)

SYSTEM_LOGS = "system_logs"
#: Trail of one request: its request, outcome and dead letters, never more than this.
MAX_TRAIL = 100
#: Upper bound of one ``_bulk`` body; Elasticsearch refuses bodies over 100 MB.
MAX_BULK_BYTES = 8 * 1024 * 1024
#: One batch goes out as this many concurrent ``_bulk`` requests (measured: 1.5x
#: the throughput of one request on a two-core node) ...
PARALLEL_REQUESTS = 2
#: ... unless that would make requests smaller than this.
MIN_PARALLEL_DOCS = 250
_PING_TIMEOUT_S = 1.0

_KEYWORD = {"type": "keyword", "ignore_above": 1024}
# A sane, fixed subset of the event: business fields worth charting. Everything
# else stays in ``_source`` unindexed, so no event can add or break a mapping.
_EVENT_FIELDS: dict[str, Any] = {
    "plano": _KEYWORD,
    "forma_pagamento": _KEYWORD,
    "status": _KEYWORD,
    # (``scaled_float`` lives in the mapper-extras module, absent from this distribution.)
    "valor": {"type": "double"},
    # The viewing side: what was watched, how far, on which device.
    "conteudo_id": {"type": "integer"},
    "tipo": _KEYWORD,
    "posicao": {"type": "float"},
    "tempo_assistido": {"type": "integer"},
    "dispositivo": _KEYWORD,
}
MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "timestamp": {"type": "date"},
        "logged_at": {"type": "date"},
        "topic": _KEYWORD,
        "partition": {"type": "integer"},
        "offset": {"type": "long"},
        "correlation_id": _KEYWORD,
        "event_type": _KEYWORD,
        "original_event_type": _KEYWORD,
        "source": _KEYWORD,
        "target": _KEYWORD,
        "status": _KEYWORD,
        "stage": _KEYWORD,
        "user_id": {"type": "long"},
        # The API key's name that made the request: the log explorer shows a
        # non-admin caller only its own documents (``event`` is not indexed).
        "requested_by": _KEYWORD,
        "latency_ms": {"type": "float"},
        "event": {
            "type": "object",
            "dynamic": False,
            "properties": {
                **_EVENT_FIELDS,
                "dados": {"type": "object", "dynamic": False, "properties": _EVENT_FIELDS},
            },
        },
    },
}
INDEX_SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    # One node: a replica could never be assigned (the index would stay yellow).
    "number_of_replicas": 0,
    # A malformed number or date inside ``event`` is skipped, not a rejection.
    "mapping.ignore_malformed": True,
}
_BULK_FILTER = "errors,items.*.status,items.*.error.type,items.*.error.reason"
#: The log explorer's histogram has at most this many bars ...
MAX_BUCKETS = 60
#: ... each as wide as the first of these (Elasticsearch's ``fixed_interval``) that fits.
HISTOGRAM_INTERVALS: tuple[tuple[str, timedelta], ...] = tuple(
    (name, timedelta(seconds=seconds))
    for name, seconds in (
        # One request's documents lie milliseconds apart: its bars show the latency.
        ("10ms", 0.01),
        ("50ms", 0.05),
        ("100ms", 0.1),
        ("500ms", 0.5),
        ("1s", 1),
        ("2s", 2),
        ("5s", 5),
        ("10s", 10),
        ("30s", 30),
        ("1m", 60),
        ("2m", 120),
        ("5m", 300),
        ("10m", 600),
        ("30m", 1800),
        ("1h", 3600),
        ("3h", 3 * 3600),
        ("6h", 6 * 3600),
        ("12h", 12 * 3600),
        ("1d", 86400),
        ("7d", 7 * 86400),
        ("30d", 30 * 86400),
        ("365d", 365 * 86400),
    )
)
#: Values of a facet listed (event types, topics), most frequent first.
FACET_SIZE = 20
FACETS = ("event_type", "topic")


class SearchUnavailable(Exception):
    """Elasticsearch cannot take requests now (down, hung, overloaded): retry later."""


@dataclass(frozen=True, slots=True)
class Document:
    """One ``system_logs`` document and its deterministic ``_id``."""

    id: str
    source: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Bucket:
    """One bar of the log explorer's histogram: documents from ``start`` on."""

    start: str
    count: int


@dataclass(frozen=True, slots=True)
class Facet:
    """One value of a field among the matching documents, and how many hold it."""

    value: str
    count: int


@dataclass(frozen=True, slots=True)
class LogPage:
    """A page of matching documents (newest first), their total and their spread in time."""

    total: int
    documents: list[dict[str, Any]]
    interval: str | None
    histogram: list[Bucket]
    facets: dict[str, list[Facet]]


@dataclass(frozen=True, slots=True)
class Rejection:
    """A document Elasticsearch refused for good, and why."""

    document: Document
    reason: str


class SearchIndex(Service):
    """Owns the Elasticsearch client; prepares ``system_logs``; indexes and searches it."""

    def __init__(self, host: str, request_timeout: float = 5.0, **kwargs: Any) -> None:
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
            on=(TransportError, ApiError),
            what=f"preparing the Elasticsearch index {SYSTEM_LOGS}",
        )
        self._ready.set()
        log.info("Elasticsearch ready: index %s prepared", SYSTEM_LOGS)

    async def _install_mappings(self) -> None:
        await self._client.indices.put_index_template(
            name=SYSTEM_LOGS,
            index_patterns=[SYSTEM_LOGS],
            template={"settings": INDEX_SETTINGS, "mappings": MAPPINGS},
            priority=100,
        )
        if await self._client.indices.exists(index=SYSTEM_LOGS):
            # Adds fields new in this version; never changes an existing one.
            await self._client.indices.put_mapping(index=SYSTEM_LOGS, **MAPPINGS)
            return
        try:
            await self._client.indices.create(index=SYSTEM_LOGS)
        except ApiError as exc:
            if _error_type(exc) != "resource_already_exists_exception":
                raise

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
            raise SearchUnavailable("index system_logs not prepared yet")
        # Split in parallel requests: the node indexes them on several threads.
        per_request = max(MIN_PARALLEL_DOCS, -(-len(documents) // PARALLEL_REQUESTS))
        outcomes = await asyncio.gather(
            *(self._bulk(chunk, body) for chunk, body in _bulk_bodies(documents, per_request))
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
                index=SYSTEM_LOGS,
                query={"term": {"correlation_id": correlation_id}},
                sort=[{"timestamp": {"order": "asc"}}],
                size=MAX_TRAIL,
                ignore_unavailable=True,
            )
        except (TransportError, ApiError) as exc:
            raise SearchUnavailable(_describe(exc)) from exc
        return [hit["_source"] for hit in response["hits"]["hits"]]

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
        response = await self._search({"query": _all_of(filters), "size": 0, "aggs": aggs})
        found = response.get("aggregations", {})
        return _millis_time(found.get("first")), _millis_time(found.get("last"))

    async def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self._client.search(index=SYSTEM_LOGS, ignore_unavailable=True, **body)
        except (TransportError, ApiError) as exc:
            raise SearchUnavailable(_describe(exc)) from exc
        return dict(response.body)


def log_filters(query: LogQuery, owner: str | None) -> list[dict[str, Any]]:
    """The ``bool`` filters of ``query``; ``owner`` (if any) sees its own documents only.

    Documents indexed before ``requested_by`` was (they lack the field) match
    no owner: only admins see them.
    """
    terms = {
        "correlation_id": query.correlation_id,
        "user_id": query.user_id,
        "event_type": query.event_type,
        "topic": query.topic,
        "requested_by": query.requested_by,
    }
    filters: list[dict[str, Any]] = [
        {"term": {field: value}} for field, value in terms.items() if value is not None
    ]
    if owner is not None:
        filters.append({"term": {"requested_by": owner}})
    bounds = {"gte": query.desde, "lte": query.ate}
    if any(bounds.values()):
        moments = {k: iso_utc(v) for k, v in bounds.items() if v is not None}
        filters.append({"range": {"timestamp": moments}})
    return filters


def histogram_interval(start: datetime, end: datetime) -> str:
    """The narrowest interval that draws ``start``-``end`` in at most :data:`MAX_BUCKETS` bars."""
    span = end - start
    for name, width in HISTOGRAM_INTERVALS:
        if span < width * MAX_BUCKETS:
            return name
    return HISTOGRAM_INTERVALS[-1][0]


def log_search_body(
    query: LogQuery,
    filters: list[dict[str, Any]],
    interval: str | None,
    start: datetime | None,
    end: datetime | None,
) -> dict[str, Any]:
    """The ``_search`` body: the page's hits, the histogram and the facets."""
    aggs: dict[str, Any] = {
        facet: {"terms": {"field": facet, "size": FACET_SIZE}} for facet in FACETS
    }
    if interval is not None and start is not None and end is not None:
        aggs["histogram"] = _histogram(interval, start, end)
    return {
        "query": _all_of(filters),
        # Ties (one request's documents can share a millisecond) in a fixed order,
        # so a page never repeats or skips a document of the previous one.
        "sort": [{"timestamp": "desc"}, {"topic": "asc"}, {"offset": "desc"}],
        "from_": query.offset,
        "size": query.limit,
        "track_total_hits": True,
        "aggs": aggs,
    }


def log_page(response: dict[str, Any], interval: str | None) -> LogPage:
    """The :class:`LogPage` of a ``_search`` answer built by :func:`log_search_body`."""
    hits = response.get("hits", {})
    aggs = response.get("aggregations", {})
    buckets = aggs.get("histogram", {}).get("buckets", [])
    return LogPage(
        total=hits.get("total", {}).get("value", 0),
        documents=[hit["_source"] for hit in hits.get("hits", [])],
        interval=interval if buckets else None,
        histogram=[Bucket(b["key_as_string"], b["doc_count"]) for b in buckets],
        facets={
            facet: [Facet(b["key"], b["doc_count"]) for b in aggs.get(facet, {}).get("buckets", [])]
            for facet in FACETS
        },
    )


def _histogram(interval: str, start: datetime, end: datetime) -> dict[str, Any]:
    bounds = {"min": iso_utc(start), "max": iso_utc(end)}
    return {
        "date_histogram": {
            "field": "timestamp",
            "fixed_interval": interval,
            "min_doc_count": 0,
            # Empty bars at both ends too: the chart spans the whole range asked for.
            "extended_bounds": bounds,
            "format": "strict_date_optional_time",
        }
    }


def _all_of(filters: list[dict[str, Any]]) -> dict[str, Any]:
    return {"bool": {"filter": filters}} if filters else {"match_all": {}}


def _millis_time(aggregation: dict[str, Any] | None) -> datetime | None:
    value = (aggregation or {}).get("value")
    return datetime.fromtimestamp(value / 1000, UTC) if value is not None else None


def _bulk_bodies(
    documents: Sequence[Document], max_docs: int
) -> Iterator[tuple[list[Document], bytes]]:
    """``_bulk`` NDJSON bodies of at most ``max_docs`` documents and :data:`MAX_BULK_BYTES`."""
    chunk: list[Document] = []
    lines: list[bytes] = []
    size = 0
    for document in documents:
        action = orjson.dumps({"index": {"_index": SYSTEM_LOGS, "_id": document.id}})
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
