"""bench.viewing: the heartbeat backlog and the trending lag estimate."""

from __future__ import annotations

import orjson

from app.viewing.viewing_events import decode_viewing
from bench.viewing import TrendingWatcher, ViewerTraffic, build_viewing_backlog, trending_lags_ms


def test_the_backlog_holds_valid_heartbeats_of_the_given_users() -> None:
    backlog = build_viewing_backlog(50, [7, 8, 9])
    assert len(backlog.records) == 50
    events = [decode_viewing(value) for _, value in backlog.records]
    assert {e.user_id for e in events} == {7, 8, 9}
    assert [key for key, _ in backlog.records] == [str(e.user_id).encode() for e in events]
    assert len(set(backlog.correlation_ids)) == 50


def test_viewer_traffic_sends_one_title_for_each_user_in_turn() -> None:
    traffic = ViewerTraffic(1234, [1, 2])
    bodies = [orjson.loads(traffic.next_request().body) for _ in range(3)]
    assert [b["user_id"] for b in bodies] == [1, 2, 1]
    assert {b["conteudo_id"] for b in bodies} == {1234}


def test_the_kth_answer_is_counted_when_the_count_reaches_k() -> None:
    lags = trending_lags_ms([1.2, 1.0, 1.1], {1: 1.5, 2: 1.5, 3: 2.0})
    assert [round(lag) for lag in lags] == [500, 400, 800]


def test_counts_are_read_from_published_lists() -> None:
    watcher = TrendingWatcher("topic", 1234, "1h")
    watcher._saw(2, now=5.0)
    watcher._saw(1, now=6.0)  # another partition's list: never lowers the count
    watcher._saw(4, now=7.0)
    assert watcher.reached == {1: 5.0, 2: 5.0, 3: 7.0, 4: 7.0}
