"""The ledger's outcome records: one row per request, however often a batch holds it."""

from __future__ import annotations

from app.storage.ledger import latest_per_request


def test_a_request_answered_twice_in_one_batch_is_recorded_once() -> None:
    first = ("c1", {"status": "success"}, 0)
    again = ("c1", {"status": "success"}, 0)
    other = ("c2", {"status": "error"}, 0)
    assert latest_per_request([first, other, again]) == [first, other]


def test_a_replays_later_outcome_wins_over_the_earlier_one() -> None:
    earlier = ("c1", {"status": "error"}, 0)
    replayed = ("c1", {"status": "success"}, 1)
    assert latest_per_request([replayed, earlier]) == [replayed]
    assert latest_per_request([earlier, replayed]) == [replayed]
