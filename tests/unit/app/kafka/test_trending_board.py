"""The trending board's snapshot for recommendations: merged once per change of its lists."""

from __future__ import annotations

from typing import Any

from app.kafka.trending_board import TrendingBoard


def published(partition: int, *entries: tuple[int, int]) -> dict[str, Any]:
    """A partition owner's 1h list of films in Drama, as the trending agent publishes it."""
    ranked = [list(entry) for entry in entries]
    return {
        "janela": "1h",
        "particao": partition,
        "em": "2026-12-07T12:00:00Z",
        "geral": ranked,
        "tipo": {"filme": ranked},
        "categoria": {"Drama": ranked},
        "titulos": {
            str(title): {
                "conteudo_id": title,
                "titulo": f"T{title}",
                "tipo": "filme",
                "categoria": "Drama",
            }
            for title, _ in entries
        },
    }


def a_board() -> TrendingBoard:
    return TrendingBoard("127.0.0.1:9", "trending_tops")  # never started: no broker needed


def test_a_snapshot_merges_every_partitions_list_of_the_window() -> None:
    board = a_board()
    board.keep("1h|0", published(0, (1, 5), (2, 1)))
    board.keep("1h|1", published(1, (3, 4)))
    board.keep("24h|0", published(0, (9, 99)))

    snapshot, titles = board.snapshot("1h", 2)

    assert list(snapshot.overall) == [(1, 5), (3, 4)]
    assert list(snapshot.by_tipo["filme"]) == [(1, 5), (3, 4)]
    assert set(titles) == {1, 2, 3}


def test_a_snapshot_is_reused_until_a_list_changes_and_then_made_again() -> None:
    board = a_board()
    board.keep("1h|0", published(0, (1, 5)))
    first = board.snapshot("1h", 10)
    assert board.snapshot("1h", 10) is first

    board.keep("1h|1", published(1, (3, 7)))
    second = board.snapshot("1h", 10)

    assert second is not first
    assert list(second[0].overall) == [(3, 7), (1, 5)]


def test_snapshots_of_different_sizes_are_kept_apart() -> None:
    board = a_board()
    board.keep("1h|0", published(0, (1, 5), (2, 4), (3, 3)))

    assert len(board.snapshot("1h", 1)[0].overall) == 1
    assert len(board.snapshot("1h", 3)[0].overall) == 3
