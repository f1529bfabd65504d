"""Choosing dead letters to replay, and the event a replay re-sends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from app.dead_letter_cli import age, by_reason
from app.dead_letter_replay import (
    StoredLetter,
    chosen,
    describe_replay,
    parse_since,
    with_replays,
)
from app.guard.dead_letters import DeadLetter
from app.storage.dead_letter_replays import DeadLetterReplay

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def stored(reason: str, minutes_ago: int, replayed: bool = False) -> StoredLetter:
    letter = DeadLetter(
        timestamp=NOW - timedelta(minutes=minutes_ago),
        stage="processing",
        reason=reason,
        topic="user_events",
        partition=0,
        offset=minutes_ago,
        payload_bytes=2,
        payload="{}",
    )
    replay = DeadLetterReplay(1, "user_events", 0, 99, NOW) if replayed else None
    return StoredLetter("dead_letters", 0, minutes_ago, b"7", letter, replay)


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("90s", NOW - timedelta(seconds=90)),
        ("30m", NOW - timedelta(minutes=30)),
        ("2h", NOW - timedelta(hours=2)),
        ("7d", NOW - timedelta(days=7)),
        ("2026-12-01T08:00:00Z", datetime(2026, 12, 1, 8, tzinfo=UTC)),
        ("2026-12-01T08:00:00", datetime(2026, 12, 1, 8, tzinfo=UTC)),
    ],
)
def test_since_takes_an_age_or_an_instant(text: str, moment: datetime) -> None:
    assert parse_since(text, NOW) == moment


def test_since_refuses_anything_else_saying_what_it_takes() -> None:
    with pytest.raises(ValueError, match="ISO 8601 instant or an age"):
        parse_since("yesterday", NOW)


def test_letters_are_chosen_by_part_of_their_reason_in_any_case_and_by_age() -> None:
    letters = [stored("PostgreSQL refused: boleto", 90), stored("invalid event: nome", 10)]
    assert chosen(letters, "BOLETO", None) == letters[:1]
    assert chosen(letters, None, NOW - timedelta(minutes=30)) == letters[1:]
    assert chosen(letters, "boleto", NOW - timedelta(minutes=30)) == []
    assert chosen(letters, None, None) == letters


def test_a_replay_sets_the_count_in_the_event_and_keeps_every_other_field() -> None:
    raw = orjson.dumps({"event_type": "x", "replays": 1, "valor": 49.9})
    value = with_replays(raw, 2)
    assert value is not None
    assert orjson.loads(value) == {"event_type": "x", "replays": 2, "valor": 49.9}


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_a_payload_that_is_not_a_json_object_cannot_be_replayed(raw: bytes) -> None:
    assert with_replays(raw, 1) is None


def test_the_listing_groups_by_the_first_line_of_the_reason_most_frequent_first() -> None:
    letters = [
        stored("refused: boleto\nCONTEXT: line 3", 50, replayed=True),
        stored("invalid event: nome", 40),
        stored("refused: boleto\nCONTEXT: line 4", 20),
    ]
    assert by_reason(letters, NOW) == [
        {
            "reason": "refused: boleto",
            "count": 2,
            "not_replayed": 1,
            "oldest": "50m",
            "newest": "20m",
        },
        {
            "reason": "invalid event: nome",
            "count": 1,
            "not_replayed": 1,
            "oldest": "40m",
            "newest": "40m",
        },
    ]


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0s"), (59, "59s"), (60, "1m"), (3599, "59m"), (3660, "1h01m"), (90000, "1d01h")],
)
def test_ages_read_as_an_operator_reads_them(seconds: int, shown: str) -> None:
    assert age(NOW, NOW - timedelta(seconds=seconds)) == shown


def test_a_replay_is_described_by_its_count_time_and_where_the_event_went() -> None:
    replay = DeadLetterReplay(2, "user_events", 3, 41, NOW)
    assert describe_replay(replay) == "#2 at 2026-12-05T12:00:00+00:00 to user_events:3:41"
