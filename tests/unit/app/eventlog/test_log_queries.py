"""app.eventlog.log_queries: the log explorer's filters, ownership, histogram interval and answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.eventlog.indices import MAPPINGS
from app.eventlog.log_queries import (
    MAX_BUCKETS,
    Bucket,
    Facet,
    LogQuery,
    histogram_interval,
    log_filters,
    log_page,
    log_search_body,
)

CID = "01a222cc-d2dd-7673-9115-162d98e7896f"
START = datetime(2025, 1, 2, 3, 0, tzinfo=UTC)


def test_requested_by_is_an_indexed_keyword() -> None:
    assert MAPPINGS["properties"]["requested_by"]["type"] == "keyword"


def test_every_filter_is_an_exact_term_and_the_range_is_on_the_event_time() -> None:
    query = LogQuery(
        correlation_id=CID,
        user_id=42,
        event_type="criar_usuario",
        topic="user_events",
        desde=START,
        ate=START + timedelta(hours=1),
    )
    assert log_filters(query, owner=None) == [
        {"term": {"correlation_id": CID}},
        {"term": {"user_id": 42}},
        {"term": {"event_type": "criar_usuario"}},
        {"term": {"topic": "user_events"}},
        {
            "range": {
                "timestamp": {
                    "gte": "2025-01-02T03:00:00.000000Z",
                    "lte": "2025-01-02T04:00:00.000000Z",
                }
            }
        },
    ]


def test_a_non_admin_owner_only_matches_its_own_documents() -> None:
    assert log_filters(LogQuery(), owner="alice") == [{"term": {"requested_by": "alice"}}]
    # Asking for someone else's requests still keeps the owner's filter: nothing matches.
    filters = log_filters(LogQuery(requested_by="bob"), owner="alice")
    assert {"term": {"requested_by": "alice"}} in filters


def test_no_filter_matches_everything() -> None:
    body = log_search_body(LogQuery(), [], None, None, None)
    assert body["query"] == {"match_all": {}}
    assert "histogram" not in body["aggs"]


def test_pages_and_order() -> None:
    body = log_search_body(LogQuery(pagina=3, limit=10), [], None, None, None)
    assert (body["from_"], body["size"]) == (20, 10)
    assert body["sort"][0] == {"timestamp": "desc"}


@pytest.mark.parametrize(
    ("span", "interval"),
    [
        (timedelta(0), "10ms"),
        (timedelta(milliseconds=54), "10ms"),
        (timedelta(seconds=2), "50ms"),
        (timedelta(seconds=59), "1s"),
        (timedelta(minutes=15), "30s"),
        (timedelta(hours=1), "2m"),
        (timedelta(days=1), "30m"),
        (timedelta(days=3650), "365d"),
    ],
)
def test_the_interval_draws_the_span_in_few_bars(span: timedelta, interval: str) -> None:
    assert histogram_interval(START, START + span) == interval


def test_the_histogram_spans_the_range_asked_for() -> None:
    end = START + timedelta(hours=1)
    body = log_search_body(LogQuery(), [], "2m", START, end)
    histogram = body["aggs"]["histogram"]["date_histogram"]
    assert histogram["fixed_interval"] == "2m" and histogram["min_doc_count"] == 0
    assert histogram["extended_bounds"] == {
        "min": "2025-01-02T03:00:00.000000Z",
        "max": "2025-01-02T04:00:00.000000Z",
    }
    assert 60 * 60 / 120 <= MAX_BUCKETS


def test_an_answer_becomes_a_page() -> None:
    response: dict[str, Any] = {
        "hits": {"total": {"value": 2}, "hits": [{"_source": {"topic": "user_events"}}]},
        "aggregations": {
            "histogram": {"buckets": [{"key_as_string": "2025-01-02T03:00:00Z", "doc_count": 2}]},
            "event_type": {"buckets": [{"key": "criar_usuario", "doc_count": 1}]},
            "topic": {"buckets": []},
        },
    }
    page = log_page(response, "1s")
    assert page.total == 2 and page.documents == [{"topic": "user_events"}]
    assert page.histogram == [Bucket("2025-01-02T03:00:00Z", 2)] and page.interval == "1s"
    assert page.facets == {"event_type": [Facet("criar_usuario", 1)], "topic": []}


def test_range_and_page_window_are_checked() -> None:
    with pytest.raises(ValueError, match="ate"):
        LogQuery(desde=START, ate=START - timedelta(seconds=1))
    with pytest.raises(ValueError, match="10000"):
        LogQuery(pagina=200, limit=100)
    assert LogQuery.model_validate({"topic": " ", "pagina": "2"}).topic is None
