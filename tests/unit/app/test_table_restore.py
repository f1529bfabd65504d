"""Which table partitions the recovery copies in bulk, and which offsets the copy covers."""

from __future__ import annotations

from faust.types import TP

from app.table_restore import Span, spans_to_copy

BEHIND, CAUGHT_UP, NEW, EMPTY = (TP("statuses-changelog", p) for p in range(4))


def test_only_partitions_trailing_by_the_threshold_are_copied_from_after_their_stored_offset() -> (
    None
):
    stored = {BEHIND: 99, CAUGHT_UP: 5_000, NEW: None, EMPTY: None}
    highwaters = {BEHIND: 10_099, CAUGHT_UP: 5_100, NEW: 9_999, EMPTY: -1}

    assert spans_to_copy(stored, highwaters, 10_000) == {
        BEHIND: Span(100, 10_099),
        NEW: Span(0, 9_999),
    }


def test_a_store_that_applied_nothing_reads_minus_one_as_faust_writes_it() -> None:
    assert spans_to_copy({NEW: -1}, {NEW: 2}, 3) == {NEW: Span(0, 2)}
    assert spans_to_copy({NEW: -1}, {NEW: 1}, 3) == {}


def test_a_threshold_of_zero_turns_the_copy_off() -> None:
    assert spans_to_copy({NEW: None}, {NEW: 1_000_000}, 0) == {}


def test_a_partition_without_a_known_highwater_is_left_to_faust() -> None:
    assert spans_to_copy({NEW: None}, {NEW: None}, 1) == {}
