"""The event log in time-based indices behind its alias: placed by event time, pruned whole.

Against the running Elasticsearch, on indices, an alias and a template of the
test's own name (``system_logs`` itself is shared by every run).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from unittest.mock import Mock

import pytest
from elasticsearch import Elasticsearch

from app.clock import iso_utc, utc_now
from app.eventlog.fallback_file import FallbackFile
from app.eventlog.indices import INDEX_SETTINGS, MAPPINGS, LogIndices
from app.eventlog.search_index import Document, SearchIndex
from app.eventlog.sink import LogSink
from harness.services import ES_URL
from harness.workers import RUN_PREFIX

pytestmark = pytest.mark.integration

DAY = timedelta(days=1)


@pytest.fixture
def indices(es: Elasticsearch) -> LogIndices:
    """Index names of this test alone; everything under them is removed afterwards."""
    own = LogIndices(f"{RUN_PREFIX}logs-{uuid.uuid4().hex[:6]}")
    yield own  # type: ignore[misc]
    es.indices.delete(index=f"{own.name},{own.pattern}", ignore_unavailable=True)
    es.options(ignore_status=404).indices.delete_index_template(name=own.template_name)


@pytest.fixture
async def search(indices: LogIndices) -> AsyncIterator[SearchIndex]:
    """A started :class:`SearchIndex` on the test's own indices."""
    service = SearchIndex(ES_URL, request_timeout=30, indices=indices)
    await service.start()
    await service.wait_ready()
    yield service
    await service.stop()


def _document(days_ago: float, key: str) -> Document:
    moment = utc_now() - days_ago * DAY
    return Document(f"user_events:{key}", {"timestamp": iso_utc(moment), "topic": "user_events"})


def _placed(es: Elasticsearch, indices: LogIndices) -> dict[str, str]:
    """Each document read through the alias, by ``_id``: the index holding it."""
    es.indices.refresh(index=indices.name)
    hits = es.search(index=indices.name, size=100)["hits"]["hits"]
    return {hit["_id"]: hit["_index"] for hit in hits}


async def test_a_document_goes_to_the_index_of_its_own_time_and_a_replay_overwrites_it(
    es: Elasticsearch, search: SearchIndex, indices: LogIndices
) -> None:
    documents = [_document(0, "today"), _document(2, "two-days"), _document(40, "old")]
    await search.bulk_index(documents)
    await search.bulk_index(documents)  # delivered again, later: the same index, the same id

    assert _placed(es, indices) == {
        d.id: indices.index_for(datetime.fromisoformat(d.source["timestamp"])) for d in documents
    }


async def test_indices_past_the_retention_go_and_current_ones_stay(
    es: Elasticsearch, search: SearchIndex, indices: LogIndices
) -> None:
    kept = [_document(0, "today"), _document(28, "four-weeks")]
    old = [_document(32, "past"), _document(60, "long-past")]
    await search.bulk_index(kept + old)

    gone = await search.prune_indices(retention=timedelta(days=30))

    assert gone == sorted(indices.of_document(d.source) for d in old)
    assert set(_placed(es, indices)) == {d.id for d in kept}
    assert await search.prune_indices(retention=timedelta(days=30)) == []


async def test_the_fallback_files_backlog_goes_to_the_index_of_each_documents_time(
    es: Elasticsearch, search: SearchIndex, indices: LogIndices, tmp_path: Path
) -> None:
    dead_letters = Mock()  # nothing here is refused: no dead letter may be sent
    sink = LogSink(search, FallbackFile(tmp_path / "fallback.jsonl"), dead_letters)
    documents = [_document(1, "yesterday"), _document(3, "three-days")]
    await sink.fallback.append(documents)  # kept while Elasticsearch was down
    await sink.fallback.append(documents)  # and again: replayed twice

    assert await sink.flush() == 4

    assert _placed(es, indices) == {d.id: indices.of_document(d.source) for d in documents}
    assert dead_letters.mock_calls == []


async def test_the_single_index_of_earlier_versions_becomes_a_dated_index_of_the_alias(
    es: Elasticsearch, indices: LogIndices
) -> None:
    # As an earlier version made it.
    es.indices.create(index=indices.name, mappings=MAPPINGS, settings=INDEX_SETTINGS)
    earlier = [_document(1, "yesterday"), _document(5, "five-days")]
    for document in earlier:
        es.index(index=indices.name, id=document.id, document=document.source, refresh=True)

    service = SearchIndex(ES_URL, request_timeout=30, indices=indices)
    await service.start()
    try:
        await service.wait_ready()
        await service.bulk_index([_document(0, "today")])
    finally:
        await service.stop()

    yesterday = indices.of_document(earlier[0].source)
    aliases = es.indices.get_alias(name=indices.name).body
    assert aliases[yesterday]["aliases"][indices.name] == {"is_write_index": True}
    health = es.cluster.health(index=yesterday, wait_for_status="green", timeout="10s")
    assert health["status"] == "green"  # no replica left that one node cannot assign
    assert _placed(es, indices) == {
        earlier[0].id: yesterday,
        earlier[1].id: yesterday,  # kept with the newest of the index it was in
        "user_events:today": indices.index_for(utc_now()),
    }
