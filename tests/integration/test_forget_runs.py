"""What a failed run keeps as evidence goes when the next run of its kind starts.

Against the running Elasticsearch and Kafka, on names of the test's own: a kind of run
(like ``soak``) and a neighbour whose names do not start with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from chaos.stage import WORK_DIR, forget_runs
from harness import broker
from harness.workers import RUN_PREFIX

pytestmark = pytest.mark.integration


def _leave_evidence(es: Elasticsearch, run: str) -> list[Path]:
    """What a failed run of that name leaves: an event log behind its alias, a template, files."""
    es.indices.put_index_template(
        name=f"{run}-log-by-time", index_patterns=[f"{run}-log-*"], template={}
    )
    es.indices.create(index=f"{run}-log-2026.12.07-02", aliases={f"{run}-log": {}})
    data_dir = WORK_DIR / f"{run}-s0"
    (data_dir / "tables").mkdir(parents=True)
    (data_dir / "tables" / "LOG").write_text("rocksdb")
    log = WORK_DIR / f"{run}-s0-a.log"
    log.write_text("worker log\n")
    return [data_dir, log]


@pytest.fixture
def kinds(es: Elasticsearch) -> Iterator[tuple[str, str]]:
    """A kind of run to forget and a neighbour to keep; both cleared afterwards."""
    suffix = uuid.uuid4().hex[:6]
    forgotten, kept = f"{RUN_PREFIX}forget{suffix}", f"{RUN_PREFIX}keep{suffix}"
    yield forgotten, kept
    broker.run(forget_runs(forgotten))
    broker.run(forget_runs(kept))


async def test_forgetting_a_kind_of_run_deletes_its_logs_topics_and_files_and_nothing_else(
    es: Elasticsearch, kinds: tuple[str, str]
) -> None:
    forgotten, kept = kinds
    files = _leave_evidence(es, f"{forgotten}1") + _leave_evidence(es, f"{forgotten}2")
    kept_files = _leave_evidence(es, f"{kept}1")
    await broker.create_topics({f"{forgotten}1-s0-user_events": 2, f"{kept}1-s0-user_events": 2})

    gone = await forget_runs(forgotten)

    assert {f"{forgotten}1-log-2026.12.07-02", f"{forgotten}2-log-by-time"} <= set(gone)
    assert es.indices.get(index=f"{forgotten}*", expand_wildcards="all").body == {}
    templates = es.options(ignore_status=404).indices.get_index_template(name=f"{forgotten}*")
    assert templates.body.get("index_templates", []) == []
    assert not any(path.exists() for path in files)
    assert es.indices.exists_alias(name=f"{kept}1-log")
    assert es.indices.exists_index_template(name=f"{kept}1-log-by-time")
    assert all(path.exists() for path in kept_files)
    topics = await broker.delete_topics([f"{forgotten}1-", f"{kept}1-"])
    assert topics == [f"{kept}1-s0-user_events"]  # the forgotten run's topic was already gone
