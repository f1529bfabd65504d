"""Finding the offsets a stream skipped, from the processing checkpoint."""

from agents.gaps import first_offsets, gaps, next_offsets

BATCH = [(0, 14), (1, 3), (0, 15), (1, 4)]


def test_first_and_next_offsets_are_taken_per_partition() -> None:
    assert first_offsets(BATCH) == {0: 14, 1: 3}
    assert next_offsets(BATCH) == {0: 16, 1: 5}


def test_a_batch_starting_beyond_its_checkpoint_has_a_gap() -> None:
    assert gaps({0: 14, 1: 3}, {0: 13, 1: 3}) == {0: range(13, 14)}


def test_redelivered_or_unknown_partitions_have_no_gap() -> None:
    assert gaps({0: 10, 1: 3}, {0: 13}) == {}
