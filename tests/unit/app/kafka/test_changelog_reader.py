"""Decoding a fetched changelog message set into a span's raw entries (no broker needed)."""

from __future__ import annotations

import struct

from aiokafka.record.default_records import DefaultRecordBatchBuilder

from app.kafka.changelog_reader import decode_message_set

Record = tuple[int, bytes, bytes | None]


def batch(base_offset: int, records: list[Record]) -> bytes:
    """A record batch as a broker returns it: ``records`` as (offset delta, key, value)."""
    builder = DefaultRecordBatchBuilder(
        magic=2,
        compression_type=0,
        is_transactional=0,
        producer_id=-1,
        producer_epoch=-1,
        base_sequence=-1,
        batch_size=1024**2,
    )
    for delta, key, value in records:
        builder.append(delta, timestamp=0, key=key, value=value, headers=[])
    built = builder.build()
    struct.pack_into(">q", built, 0, base_offset)  # the broker sets it; the CRC does not cover it
    return bytes(built)


def test_only_the_spans_offsets_are_taken_tombstones_as_none_and_reading_goes_on_past_the_batch() -> (
    None
):
    message_set = batch(10, [(0, b"a", b"1"), (1, b"b", None), (2, b"c", b"3")]) + batch(
        13, [(0, b"d", b"4"), (1, b"e", b"5")]
    )

    decoded = decode_message_set(message_set, position=11, last=13)

    assert decoded.entries == [(b"b", None), (b"c", b"3"), (b"d", b"4")]
    assert decoded.position == 15  # the whole last batch was read: it is not fetched again
    assert not decoded.corrupt


def test_offsets_compaction_removed_are_skipped_to_the_batchs_end() -> None:
    decoded = decode_message_set(batch(0, [(0, b"a", b"1"), (6, b"a", b"2")]), 0, 100)

    assert decoded.entries == [(b"a", b"1"), (b"a", b"2")]
    assert decoded.position == 7


def test_a_batch_failing_its_checksum_ends_the_read_before_it() -> None:
    damaged = bytearray(batch(2, [(0, b"b", b"value-two")]))
    damaged[-3] ^= 0xFF  # a byte of the value
    message_set = batch(0, [(0, b"a", b"1"), (1, b"z", b"2")]) + bytes(damaged)

    decoded = decode_message_set(message_set, 0, 10)

    assert decoded.corrupt
    assert decoded.entries == [(b"a", b"1"), (b"z", b"2")]
    assert decoded.position == 2


def test_a_batch_cut_off_by_the_fetch_size_is_left_for_the_next_fetch() -> None:
    whole = batch(0, [(0, b"a", b"1")])
    cut = batch(1, [(0, b"b", b"2")])[:-5]

    decoded = decode_message_set(whole + cut, 0, 10)

    assert decoded.entries == [(b"a", b"1")]
    assert decoded.position == 1
