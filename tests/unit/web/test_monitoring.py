"""What /metrics adds to Faust's sensor: the lag read at each scrape, and the worker's role."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from app.settings import get_settings
from web import monitoring


def test_consumer_lag_is_read_from_the_consumer_at_each_scrape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lags = iter([{"user_events": 7, "viewing_events": 0}, {"user_events": 2}])

    def lag() -> dict[str, int]:
        return next(lags)

    monkeypatch.setattr(monitoring, "consumer_lag", lag)
    assert REGISTRY.get_sample_value("consumer_lag_messages", {"topic": "user_events"}) == 7
    assert REGISTRY.get_sample_value("consumer_lag_messages", {"topic": "user_events"}) == 2


def test_the_worker_names_its_role_and_group() -> None:
    labels = {
        "role": get_settings().worker_role,
        "app_id": get_settings().app_id,
        "group": get_settings().group_id,
    }
    assert REGISTRY.get_sample_value("worker_info", labels) == 1


def test_pythons_live_blocks_are_counted_at_each_scrape() -> None:
    before = REGISTRY.get_sample_value("python_allocated_blocks")
    kept = [object() for _ in range(10_000)]
    after = REGISTRY.get_sample_value("python_allocated_blocks")

    assert before is not None and after is not None
    assert after - before >= len(kept)


def test_the_resident_memory_is_split_into_files_and_anonymous_at_each_scrape() -> None:
    files = REGISTRY.get_sample_value("process_resident_split_bytes", {"backing": "files"})
    before = REGISTRY.get_sample_value("process_resident_split_bytes", {"backing": "anonymous"})
    kept = bytearray(64 * 1024**2)  # zeroed: its pages are touched, so resident
    after = REGISTRY.get_sample_value("process_resident_split_bytes", {"backing": "anonymous"})

    assert files is not None and files > 0
    assert before is not None and after is not None
    assert after - before >= len(kept) * 0.9
