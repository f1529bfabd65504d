"""Trending counts derived from last-seen times: exact, and unmoved by replays."""

from __future__ import annotations

from app.trending_windows import Window
from app.viewing.titles import TitleInfo
from app.viewing.trending import Move, PartitionIndex, ViewerShard, merge_tops, shard_key

HOUR = Window("1h", 3600, 300)
DAY = Window("24h", 86400, 3600)
FILM = TitleInfo(1000, "O Último Verão em Paraty", "filme", "Drama")
DOC = TitleInfo(1001, "Amazônia: Rios Voadores", "documentário", "Natureza")
NOW = 1_800_000_000


def index() -> PartitionIndex:
    built = PartitionIndex([HOUR, DAY])
    built.learn(FILM)
    built.learn(DOC)
    return built


def test_a_viewer_seen_again_counts_once_per_window() -> None:
    shard, built = ViewerShard(FILM), index()
    for seen in (NOW - 100, NOW - 50, NOW):
        move = shard.see(7, seen)
        assert move is not None
        built.move(move, NOW)
    assert built.count("1h", FILM.conteudo_id) == 1
    assert built.count("24h", FILM.conteudo_id) == 1


def test_a_replayed_or_late_update_changes_nothing() -> None:
    shard = ViewerShard(FILM)
    assert shard.see(7, NOW) is not None
    assert shard.see(7, NOW) is None
    assert shard.see(7, NOW - 600) is None
    assert shard.last_seen == {7: NOW}


def test_a_viewer_leaves_the_hour_window_but_stays_in_the_day() -> None:
    shard, built = ViewerShard(FILM), index()
    move = shard.see(7, NOW)
    assert move is not None
    built.move(move, NOW)
    built.expire(NOW + 2 * 3600)
    assert built.count("1h", FILM.conteudo_id) == 0
    assert built.count("24h", FILM.conteudo_id) == 1


def test_an_index_rebuilt_from_the_shards_counts_what_the_moves_counted() -> None:
    live, shard = index(), ViewerShard(FILM)
    for user, seen in [(1, NOW - 4000), (2, NOW - 100), (3, NOW - 10), (1, NOW - 5)]:
        move = shard.see(user, seen)
        if move:
            live.move(move, NOW)
    rebuilt = index()
    stored = ViewerShard.from_json(shard.as_json())
    for user, seen in stored.last_seen.items():
        rebuilt.move(Move(FILM.conteudo_id, user, None, seen), NOW)
    assert rebuilt.count("1h", FILM.conteudo_id) == live.count("1h", FILM.conteudo_id) == 3


def test_forgotten_viewers_leave_every_count() -> None:
    shard, built = ViewerShard(FILM), index()
    for move in (shard.see(1, NOW - 90_000), shard.see(2, NOW)):
        assert move is not None
        built.move(move, NOW - 90_000 if move.user_id == 1 else NOW)
    for move in shard.forget_before(NOW - DAY.size_s):
        built.move(move, NOW)
    assert shard.last_seen == {2: NOW}
    assert built.count("24h", FILM.conteudo_id) == 1


def test_an_erased_viewer_is_forgotten_at_once_and_only_once() -> None:
    shard, built = ViewerShard(FILM), index()
    for user in (1, 2):
        move = shard.see(user, NOW)
        assert move is not None
        built.move(move, NOW)
    forgotten = shard.forget(1)
    assert forgotten == Move(FILM.conteudo_id, 1, NOW, None)
    built.move(forgotten, NOW)
    assert shard.last_seen == {2: NOW}
    assert built.count("1h", FILM.conteudo_id) == built.count("24h", FILM.conteudo_id) == 1
    assert shard.forget(1) is None  # a replay of the erasure moves nothing


def test_tops_rank_by_viewers_and_break_down_by_tipo_and_categoria() -> None:
    built = index()
    for user in range(3):
        built.move(Move(DOC.conteudo_id, user, None, NOW), NOW)
    built.move(Move(FILM.conteudo_id, 9, None, NOW), NOW)
    tops = built.tops("1h", top=10)
    assert tops["geral"] == [[DOC.conteudo_id, 3], [FILM.conteudo_id, 1]]
    assert tops["tipo"]["filme"] == [[FILM.conteudo_id, 1]]
    assert tops["categoria"]["Natureza"] == [[DOC.conteudo_id, 3]]


def test_partition_tops_merge_into_one_list() -> None:
    merged = merge_tops([[[1, 5], [2, 1]], [[3, 4], [4, 5]]], top=3)
    assert merged == [[1, 5], [4, 5], [3, 4]]


def test_a_viewer_always_falls_in_the_same_shard_of_a_title() -> None:
    assert shard_key(1000, 17) == shard_key(1000, 17 + 8) == "1000:1"


def test_what_trending_keeps_is_bounded_by_the_last_day_of_viewers() -> None:
    # Three days of a title watched by 5 new viewers every 10 minutes, each batch
    # handled as the agent does: see the viewers, forget those outside 24 h.
    shard, built = ViewerShard(FILM), index()
    sizes, hops = [], []
    for step in range(3 * 144):
        now = NOW + step * 600
        moves = [shard.see(step * 5 + i, now) for i in range(5)]
        moves += shard.forget_before(now - DAY.size_s)
        for move in moves:
            assert move is not None
            built.move(move, now)
        sizes.append(len(shard.last_seen))
        hops.append({name: len(w.by_hop) for name, w in built.windows.items()})
    # After the first day the stored viewers stop growing: one day of them.
    assert max(sizes) == sizes[-1] == 5 * 145  # the viewers of the last 24 h, both ends included
    assert 0 < built.count("24h", FILM.conteudo_id) <= sizes[-1]
    # The counts' histograms hold one entry per hop of each window, never more.
    assert max(h["1h"] for h in hops) <= 13 and max(h["24h"] for h in hops) <= 25
