"""The log explorer's searches over ``system_logs``: pure request bodies and answers.

What :meth:`app.eventlog.search_index.SearchIndex.search_logs` sends and how it reads the
answer: the caller's filters (a key without ``admin`` sees only its own
requests), the histogram's interval over the time range, the facets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from app.clock import iso_utc
from app.requests.fields import MAX_PAGE_SIZE, Query, UserId, UtcDateTime, check_printable

#: The log explorer's histogram has at most this many bars ...
MAX_LOG_WINDOW = 10_000
_UUID_TEXT = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

Keyword = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=256),
    AfterValidator(check_printable),
]


class LogQuery(Query):
    """``GET /logs``: the log explorer's filters and page; blank parameters are absent.

    Every filter is an exact match (``correlation_id``, ``user_id``,
    ``event_type``, ``topic``, ``requested_by``: the API key's name), ``desde``
    and ``ate`` bound the event's time (ISO 8601; without a zone, UTC).
    """

    correlation_id: Annotated[str, Field(pattern=_UUID_TEXT)] | None = None
    user_id: UserId | None = None
    event_type: Keyword | None = None
    topic: Keyword | None = None
    requested_by: Keyword | None = None
    desde: UtcDateTime | None = None
    ate: UtcDateTime | None = None
    pagina: int = Field(1, ge=1)
    limit: int = Field(20, ge=1, le=MAX_PAGE_SIZE)

    @model_validator(mode="after")
    def _check_range_and_window(self) -> LogQuery:
        if self.desde is not None and self.ate is not None and self.ate < self.desde:
            raise ValueError("ate deve ser igual ou posterior a desde")
        if self.pagina * self.limit > MAX_LOG_WINDOW:
            raise ValueError(f"só os {MAX_LOG_WINDOW} eventos mais recentes são paginados")
        return self

    @property
    def offset(self) -> int:
        """How many hits come before this page."""
        return (self.pagina - 1) * self.limit


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
        "query": all_of(filters),
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


def all_of(filters: list[dict[str, Any]]) -> dict[str, Any]:
    """A query matching what every filter matches (everything without filters)."""
    return {"bool": {"filter": filters}} if filters else {"match_all": {}}


def millis_time(aggregation: dict[str, Any] | None) -> datetime | None:
    """The moment a ``min``/``max`` aggregation of a date answered, if any."""
    value = (aggregation or {}).get("value")
    return datetime.fromtimestamp(value / 1000, UTC) if value is not None else None
