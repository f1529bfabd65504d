"""agents.trending_agent: one shard's activities against the table (a dict stands in for it)."""

from __future__ import annotations

from typing import Any

import pytest

from agents import trending_agent as agent
from app.viewing.titles import TitleInfo
from app.viewing.trending import ViewerShard, shard_key

INFO = TitleInfo(9200, "Título", "filme", "Drama")
NOW = 1_800_000_000
HORIZON = NOW - 86_400


class Table(dict[str, Any]):
    """The table's reads and writes, each write counted (a changelog entry each)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def __setitem__(self, key: str, value: Any) -> None:
        self.writes.append(f"set {key}")
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.writes.append(f"tombstone {key}")
        self.pop(key, None)


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Table:
    faked = Table()
    monkeypatch.setattr(agent, "trending_viewers", faked)
    return faked


def seen(user_id: int, at: int = NOW, forget: bool = False) -> agent.Activity:
    return agent.Activity(INFO, user_id, at, forget)


KEY = shard_key(INFO.conteudo_id, 1)


def test_a_redelivered_activity_moves_nothing_but_writes_its_shard_again(table: Table) -> None:
    assert len(agent._see(KEY, [seen(1)], HORIZON)) == 1
    stored = table[KEY]

    assert agent._see(KEY, [seen(1)], HORIZON) == []  # counted once ...

    assert table[KEY] == stored
    assert table.writes == [f"set {KEY}"] * 2  # ... but the changelog hears of it again


def test_forgetting_a_viewer_this_copy_already_lost_still_sends_the_tombstone(
    table: Table,
) -> None:
    assert agent._see(KEY, [seen(1, forget=True)], HORIZON) == []

    assert KEY not in table
    assert table.writes == [f"tombstone {KEY}"]


def test_a_later_activity_moves_the_viewer_and_is_stored(table: Table) -> None:
    agent._see(KEY, [seen(1, NOW - 600)], HORIZON)

    (move,) = agent._see(KEY, [seen(1, NOW)], HORIZON)

    assert (move.before, move.after) == (NOW - 600, NOW)
    assert ViewerShard.from_json(table[KEY]).last_seen == {1: NOW}
