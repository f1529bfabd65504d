"""The fallback file's size is exported for the alert on documents waiting for Elasticsearch."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import REGISTRY

from app.eventlog.fallback_file import FallbackFile
from app.eventlog.search_index import Document


def exported_bytes() -> float | None:
    return REGISTRY.get_sample_value("es_fallback_file_bytes")


async def test_the_exported_size_follows_the_backlog_until_it_is_replayed(tmp_path: Path) -> None:
    fallback = FallbackFile(tmp_path / "fallback.jsonl")
    assert exported_bytes() == 0
    await fallback.append([Document("user_events:c1", {"event_type": "criar_usuario"})])
    written = fallback.path.stat().st_size
    assert written > 0 and exported_bytes() == written

    backlog = await fallback.take_backlog()  # being replayed still counts
    assert backlog is not None and exported_bytes() == written
    backlog.unlink()
    assert exported_bytes() == 0
