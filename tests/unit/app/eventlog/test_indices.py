"""app.eventlog.indices: which dated index a document goes to, and which indices have expired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.clock import iso_utc
from app.eventlog.indices import SYSTEM_LOGS, LogIndices

NOON = datetime(2026, 3, 9, 12, 30, tzinfo=UTC)
DAY = timedelta(days=1)


def test_a_document_goes_to_the_day_of_its_own_timestamp() -> None:
    daily = LogIndices()
    assert daily.index_for(NOON) == "system_logs-2026.03.09"
    # Written again any time later (a replay, the fallback file): the same index.
    assert daily.of_document({"timestamp": iso_utc(NOON - 3 * DAY)}) == "system_logs-2026.03.06"


def test_a_timestamp_with_an_offset_is_placed_by_its_utc_day() -> None:
    late_evening_in_brazil = "2026-03-09T22:00:00-03:00"  # 01:00 on the 10th, UTC
    assert LogIndices().of_document({"timestamp": late_evening_in_brazil}).endswith("03.10")


@pytest.mark.parametrize(
    ("hours", "name"), [(1, "2026.03.09-12"), (6, "2026.03.09-12"), (8, "2026.03.09-08")]
)
def test_shorter_periods_name_their_first_hour(hours: int, name: str) -> None:
    assert LogIndices(hours=hours).index_for(NOON) == f"{SYSTEM_LOGS}-{name}"


def test_an_index_expires_once_its_whole_period_is_past_the_retention() -> None:
    names = [
        "system_logs-2026.03.09",  # today
        "system_logs-2026.02.08",  # ends 02.09 00:00, 28.5 days ago
        "system_logs-2026.02.07",  # ends 02.08 00:00, 29.5 days ago: past 29 days
        "system_logs-2025.12.31",
    ]
    assert LogIndices().expired(names, NOON, 29 * DAY) == [
        "system_logs-2025.12.31",
        "system_logs-2026.02.07",
    ]


def test_an_hourly_index_expires_by_its_own_hours() -> None:
    hourly = LogIndices(hours=1)
    names = ["system_logs-2026.03.09-10", "system_logs-2026.03.09-11", "system_logs-2026.03.09-12"]
    assert hourly.expired(names, NOON, timedelta(hours=1)) == ["system_logs-2026.03.09-10"]


def test_names_that_are_not_dated_indices_of_the_alias_are_never_expired() -> None:
    names = ["system_logs", "system_logs-legacy", "system_logs-2026.13.40", "other-2020.01.01"]
    assert LogIndices().expired(names, NOON, DAY) == []
    assert LogIndices("other").expired(names, NOON, DAY) == ["other-2020.01.01"]


def test_every_dated_index_is_mapped_and_read_through_the_alias() -> None:
    template = LogIndices("test_logs").template()
    assert template["index_patterns"] == ["test_logs-*"]
    assert template["template"]["aliases"] == {"test_logs": {}}
    assert template["template"]["mappings"]["properties"]["timestamp"] == {"type": "date"}
