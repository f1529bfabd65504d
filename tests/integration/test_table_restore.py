"""A worker whose table trails its changelog copies the changelog in bulk, then serves it.

The statuses are written straight into the status table's changelog (none of
them is in PostgreSQL), so a final answer can only come from the restored table.
"""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest

from harness.broker import produce, run
from harness.workers import ADMIN, Worker, correlation_ids, own_names

pytestmark = pytest.mark.integration

NAME = "table-restore"
MESSAGE = "Restaurado do changelog"
STATUSES = 40


def final_status(correlation_id: str) -> bytes:
    """A status table value: the final outcome of ``correlation_id``."""
    return orjson.dumps(
        {
            "correlation_id": correlation_id,
            "status": "success",
            "message": MESSAGE,
            "original_event_type": "atualizar_config",
            "user_id": 7,
            "requested_at": "2026-12-06T03:00:00.000000Z",
            "processed_at": "2026-12-06T03:00:00.050000Z",
            "requested_by": ADMIN,
        }
    )


def worker(data_dir: Path) -> Worker:
    """A worker copying in bulk any table partition one entry or more behind its changelog."""
    return Worker(data_dir, **own_names(NAME), TABLE_BULK_RESTORE_FROM="1")


def test_a_fresh_worker_copies_the_status_changelog_in_bulk_tombstones_included(
    tmp_path: Path,
) -> None:
    first = worker(tmp_path / "first").start()  # creates the topics, then leaves an empty group
    first.wait_ready()
    first.stop()
    ids = [correlation_ids.issue(ADMIN) for _ in range(STATUSES)]
    gone = ids[-1]
    records: list[tuple[bytes | None, bytes | None]] = [
        (cid.encode(), final_status(cid)) for cid in ids
    ]
    records.append((gone.encode(), None))  # the last status expired: a tombstone
    run(produce(first.topic("correlation_status-changelog"), records))

    fresh = worker(tmp_path / "fresh").start()  # an empty data directory
    try:
        fresh.wait_ready()
        with fresh.client() as client:
            answers = {cid: client.get(f"/status/{cid}").json() for cid in ids}
    finally:
        fresh.stop()

    assert all(answers[cid]["status"] == "success" for cid in ids[:-1]), answers
    assert {answers[cid]["message"] for cid in ids[:-1]} == {MESSAGE}
    assert answers[gone]["status"] == "pendente"  # deleted from the table, and never in PostgreSQL
    copied = re.findall(r"copied (\d+) changelog offsets", fresh.log_path.read_text())
    assert copied == [str(len(records))]
