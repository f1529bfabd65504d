"""Recommendations: exclusions, the blend of signals, scores, motivos, and the co-viewing rule."""

from datetime import UTC, datetime, timedelta

import pytest

from app.viewing.recommending import (
    BlendWeights,
    CoViewIndex,
    Ranked,
    TrendingSnapshot,
    ViewedTitle,
    _blend,
    _Signal,
    recent_titles,
    recommend,
    seed_titles,
)
from app.viewing.titles import TitleInfo

NOW = datetime(2025, 3, 1, 20, 0, tzinfo=UTC)
GENRE = {1000: "Drama", 1001: "Comédia", 1002: "Comédia", 1003: "Comédia", 1004: "Drama"}


def info(conteudo_id: int, categoria: str = "Drama", tipo: str = "filme") -> TitleInfo:
    """A catalogue entry named after its id."""
    return TitleInfo(conteudo_id, f"Título {conteudo_id}", tipo, categoria)


def viewed(
    conteudo_id: int,
    *,
    posicao: float = 100.0,
    hours_ago: float = 1.0,
    categoria: str = "Drama",
    tipo: str = "filme",
) -> ViewedTitle:
    """The user's state on a title; finished unless ``posicao`` says otherwise."""
    return ViewedTitle(
        conteudo_id=conteudo_id,
        tipo=tipo,
        categoria=categoria,
        posicao=posicao,
        concluido=posicao >= 90,
        tempo_assistido=int(posicao * 60),
        ultimo_acesso=NOW - timedelta(hours=hours_ago),
    )


def catalogue_of(*titles: TitleInfo) -> dict[int, TitleInfo]:
    """A catalogue holding ``titles`` and the ids 2000-2099 (Drama films)."""
    entries = {t: info(t) for t in range(2000, 2100)}
    entries.update({t.conteudo_id: t for t in titles})
    return entries


def ids(items: list) -> list[int]:
    return [item.conteudo_id for item in items]


CATALOGUE = catalogue_of(*(info(t, c) for t, c in GENRE.items()))
TRENDING = TrendingSnapshot(overall=((2000, 50), (2001, 40), (2002, 30)))


def test_a_user_without_history_gets_what_is_trending_now() -> None:
    items = recommend([], {}, TRENDING, CATALOGUE)

    assert ids(items) == [2000, 2001, 2002]
    assert {item.motivo for item in items} == {"em alta agora"}


def test_finished_titles_are_never_recommended() -> None:
    history = [viewed(2000), viewed(2010)]
    neighbours = {2010: [(2000, 40), (2011, 5)]}

    items = recommend(history, neighbours, TRENDING, CATALOGUE)

    assert 2000 not in ids(items)
    assert 2010 not in ids(items)
    assert 2011 in ids(items)


def test_started_titles_are_left_to_continue_watching_unless_asked_for() -> None:
    history = [viewed(2010), viewed(2000, posicao=40.0)]
    neighbours = {2010: [(2000, 40)]}

    default = recommend(history, neighbours, TRENDING, CATALOGUE)
    kept = recommend(history, neighbours, TRENDING, CATALOGUE, exclude_started=False)

    assert 2000 not in ids(default)
    assert 2000 in ids(kept)


def test_a_co_viewed_title_ranks_above_an_unrelated_trending_one() -> None:
    history = [viewed(2010)]
    neighbours = {2010: [(2050, 3)]}

    items = recommend(history, neighbours, TRENDING, CATALOGUE, viewers={2010: 10, 2050: 10})

    assert ids(items)[0] == 2050
    assert items[0].motivo == "porque você assistiu Título 2010"
    assert ids(items).index(2050) < ids(items).index(2000)


def test_a_neighbour_everyone_watches_is_damped_below_a_specific_one() -> None:
    history = [viewed(2010)]
    neighbours = {2010: [(2050, 10), (2051, 8)]}
    viewers = {2010: 20, 2050: 1000, 2051: 10}

    items = recommend(history, neighbours, TrendingSnapshot(), CATALOGUE, viewers=viewers)

    assert ids(items) == [2051, 2050]


def test_the_latest_viewing_weighs_more_than_an_old_one() -> None:
    history = [viewed(2010, hours_ago=1), *(viewed(t, hours_ago=t) for t in range(2020, 2040))]
    neighbours = {2010: [(2091, 5)], 2039: [(2090, 5)]}

    items = recommend(history, neighbours, TrendingSnapshot(), CATALOGUE)

    assert ids(items)[:2] == [2091, 2090]


def test_a_finished_viewing_weighs_more_than_an_abandoned_start() -> None:
    history = [viewed(2010, posicao=5.0, hours_ago=1), viewed(2011, hours_ago=2)]
    neighbours = {2010: [(2090, 5)], 2011: [(2091, 5)]}

    items = recommend(history, neighbours, TrendingSnapshot(), CATALOGUE)

    assert ids(items) == [2091, 2090]


def test_trending_in_the_favourite_categoria_beats_trending_in_another() -> None:
    history = [
        viewed(1001, categoria="Comédia"),
        viewed(1002, categoria="Comédia"),
        viewed(1004, categoria="Drama"),
    ]
    trending = TrendingSnapshot(
        by_categoria={"Comédia": ((1003, 10),), "Drama": ((1000, 10),)},
    )

    items = recommend(history, {}, trending, CATALOGUE)

    assert ids(items) == [1003, 1000]
    assert [item.motivo for item in items] == ["em alta em Comédia", "em alta em Drama"]


def test_trending_in_a_watched_tipo_names_the_tipo_in_plural() -> None:
    catalogue = catalogue_of(info(3001, tipo="série"), info(3002, tipo="série"))
    trending = TrendingSnapshot(by_tipo={"série": ((3002, 7),)})

    items = recommend([viewed(3001, tipo="série")], {}, trending, catalogue)

    assert [(item.conteudo_id, item.motivo) for item in items] == [(3002, "em alta em séries")]


def test_scores_are_in_the_unit_interval_rounded_and_sorted_best_first() -> None:
    history = [viewed(t, hours_ago=t - 2000, posicao=(t * 7) % 100) for t in range(2000, 2030)]
    neighbours = {t: [(2030 + (t * k) % 70, 1 + k) for k in range(12)] for t in range(2000, 2030)}
    trending = TrendingSnapshot.from_viewers({t: t % 17 for t in range(2000, 2100)}, CATALOGUE)
    weights = BlendWeights(coview=0.25, categoria=0.25, tipo=0.25, trending=0.25)

    items = recommend(history, neighbours, trending, CATALOGUE, 20, weights=weights)
    scores = [item.pontuacao for item in items]

    assert len(items) == 20
    assert all(0.0 <= s <= 1.0 and s == round(s, 3) for s in scores)
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > scores[-1]


def test_equal_scores_are_ordered_by_the_lower_id() -> None:
    trending = TrendingSnapshot(overall=((2005, 9), (2003, 9), (2004, 9)))

    assert ids(recommend([], {}, trending, CATALOGUE)) == [2003, 2004, 2005]


def test_the_order_of_the_inputs_does_not_change_the_list() -> None:
    history = [viewed(t, hours_ago=5) for t in range(2000, 2010)]
    neighbours: dict[int, list[Ranked]] = {t: [(t + 50, 3), (t + 60, 3)] for t in range(2000, 2010)}
    shuffled = {t: list(reversed(pairs)) for t, pairs in reversed(neighbours.items())}

    forward = recommend(history, neighbours, TRENDING, CATALOGUE)
    backward = recommend(list(reversed(history)), shuffled, TRENDING, CATALOGUE)

    assert forward == backward


def test_the_list_holds_at_most_limit_catalogue_titles() -> None:
    trending = TrendingSnapshot(overall=tuple((t, 100 - t % 100) for t in range(2000, 2200)))

    items = recommend([], {}, trending, CATALOGUE, 5)

    assert ids(items) == [2000, 2001, 2002, 2003, 2004]
    assert ids(recommend([], {}, trending, CATALOGUE, 500)) == list(range(2000, 2100))


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        recommend([], {}, TRENDING, CATALOGUE, 0)


def test_weights_must_be_non_negative_and_sum_to_one() -> None:
    with pytest.raises(ValueError, match="somar 1"):
        BlendWeights(coview=0.5, categoria=0.5, tipo=0.5, trending=0.0)
    with pytest.raises(ValueError):
        BlendWeights(coview=1.5, categoria=-0.5, tipo=0.0, trending=0.0)


def test_trending_snapshot_ranks_catalogue_titles_overall_and_per_group() -> None:
    catalogue = catalogue_of(info(1001, "Comédia"), info(1002, "Comédia", "série"))
    viewers = {1001: 5, 1002: 9, 2000: 5, 9999: 50, 2001: 0}

    snapshot = TrendingSnapshot.from_viewers(viewers, catalogue, top=2)

    assert list(snapshot.overall) == [(1002, 9), (1001, 5)]
    assert snapshot.by_categoria == {"Comédia": ((1002, 9), (1001, 5)), "Drama": ((2000, 5),)}
    assert snapshot.by_tipo == {"série": ((1002, 9),), "filme": ((1001, 5), (2000, 5))}


def test_recent_titles_are_the_latest_first_with_ties_to_the_higher_id() -> None:
    history = [viewed(2001, hours_ago=3), viewed(2002, hours_ago=1), viewed(2003, hours_ago=3)]

    assert recent_titles(history) == [2002, 2003, 2001]
    assert recent_titles(history, limit=1) == [2002]


def test_a_first_view_pairs_both_ways_with_the_m_latest_other_titles() -> None:
    index = CoViewIndex(recent_limit=20)
    recent = [5000, *range(3000, 3030)]  # latest first; the new title itself is skipped

    index.record_first_view(recent, 5000)

    paired = [t for t in range(3000, 3030) if index.count(5000, t)]
    assert paired == list(range(3000, 3020))
    assert all(index.count(t, 5000) == 1 for t in paired)
    assert index.count(5000, 5000) == 0
    assert index.viewers[5000] == 1


def test_each_viewer_adds_one_to_a_pair() -> None:
    index = CoViewIndex()
    index.record_first_view([3000], 5000)
    index.record_first_view([3000, 3000], 5000)

    assert index.count(3000, 5000) == index.count(5000, 3000) == 2
    assert index.viewers == {5000: 2}


def test_prune_keeps_the_k_highest_counts_ties_to_the_lower_id() -> None:
    index = CoViewIndex(neighbour_limit=3)
    for neighbour, viewers in {3001: 1, 3002: 4, 3003: 2, 3004: 2, 3005: 2}.items():
        for _ in range(viewers):
            index.record_first_view([neighbour], 5000)

    deleted = index.prune()

    assert index.neighbours(5000) == [(3002, 4), (3003, 2), (3004, 2)]
    assert deleted == 2


def test_no_title_keeps_more_than_k_neighbours_after_a_prune() -> None:
    index = CoViewIndex(recent_limit=6, neighbour_limit=5)
    history: dict[int, list[int]] = {user: [] for user in range(40)}
    for step in range(400):
        user, title = step % 40, 3000 + (step * 37) % 90
        if title not in history[user]:
            index.record_first_view(list(reversed(history[user])), title)
            history[user].append(title)

    assert max(len(index.neighbours(t)) for t in range(3000, 3090)) > 5
    index.prune()
    assert max(len(index.neighbours(t)) for t in range(3000, 3090)) <= 5


def test_a_pruned_pair_that_comes_back_starts_again_from_one() -> None:
    index = CoViewIndex(neighbour_limit=1)
    index.record_first_view([3001], 5000)
    index.record_first_view([3002], 5000)
    index.record_first_view([3002], 5000)
    index.prune()

    index.record_first_view([3001], 5000)

    assert index.count(5000, 3001) == 1
    assert index.count(5000, 3002) == 2


def worded(blended: dict[int, tuple[float, _Signal, object]]) -> dict[int, tuple[float, str]]:
    """Each candidate's score and the motivo of its largest contribution."""
    return {
        title: (score, signal.reason(source)) for title, (score, signal, source) in blended.items()
    }


def test_blend_sums_the_weighted_parts_and_keeps_the_motivo_of_the_largest() -> None:
    first = _Signal({1: 0.5, 2: 1.0}, {1: "first on 1", 2: "first on 2"}, str)
    second = _Signal({1: 1.0, 3: 0.2}, {1: "second on 1", 3: "second on 3"}, str)

    blended = _blend([(0.4, first), (0.6, second)], excluded={3})

    assert worded(blended) == {
        1: (pytest.approx(0.4 * 0.5 + 0.6 * 1.0), "second on 1"),
        2: (pytest.approx(0.4), "first on 2"),
    }


def test_blend_gives_an_equal_contribution_the_earlier_signals_motivo() -> None:
    earlier = _Signal({7: 1.0}, {7: "earlier"}, str)
    later = _Signal({7: 1.0}, {7: "later"}, str)

    assert worded(_blend([(0.5, earlier), (0.5, later)], excluded=set()))[7][1] == "earlier"


def test_a_list_needs_only_its_seeds_neighbours_however_long_the_history() -> None:
    # 60 titles watched, more than SEED_TITLES: the older ones' neighbours change nothing.
    history = [viewed(2000 + n, posicao=50.0 + n % 50, hours_ago=n) for n in range(60)]
    neighbours = {2000 + n: [(2060 + (n + k) % 40, 40 - k) for k in range(8)] for n in range(60)}
    catalogue = catalogue_of()
    viewers = {title: 100 for title in range(2000, 2100)}
    seeds = seed_titles(history)

    every = recommend(history, neighbours, TRENDING, catalogue, viewers=viewers)
    seeds_only = {title: neighbours[title] for title in seeds}

    assert len(seeds) < len(history)
    assert any(item.motivo.startswith("porque você assistiu") for item in every)
    assert recommend(history, seeds_only, TRENDING, catalogue, viewers=viewers) == every
