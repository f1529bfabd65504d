"""How Elasticsearch's per-document answers to ``_bulk`` are split: indexed, refused, or later."""

from __future__ import annotations

from typing import Any

import pytest

from app.eventlog.search_index import Document, SearchUnavailable, _bulk_outcome

DOCUMENTS = [Document("a", {"n": 1}), Document("b", {"n": 2})]


def _item(status: int, error_type: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"status": status}
    if error_type is not None:
        result["error"] = {"type": error_type, "reason": "why"}
    return {"index": result}


def test_a_mapping_conflict_is_a_rejection_of_that_document_only() -> None:
    indexed, rejected = _bulk_outcome(
        DOCUMENTS, [_item(201), _item(400, "mapper_parsing_exception")]
    )
    assert indexed == 1
    assert [r.document.id for r in rejected] == ["b"]


def test_the_flood_stage_read_only_block_is_waited_out() -> None:
    with pytest.raises(SearchUnavailable, match="status 429"):
        _bulk_outcome(DOCUMENTS, [_item(429, "cluster_block_exception")] * 2)


def test_a_write_block_answered_403_is_waited_out_not_rejected() -> None:
    with pytest.raises(SearchUnavailable, match="status 403"):
        _bulk_outcome(DOCUMENTS, [_item(201), _item(403, "cluster_block_exception")])
