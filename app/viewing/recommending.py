"""Recommendations for one user: what they watched, what others co-watched, what is trending.

Pure: no I/O. The worker reads the inputs (the user's viewing states, the
co-viewing neighbours of those titles, distinct-viewer counts, a trending
snapshot and catalogue metadata) and calls :func:`recommend`, whose items are
the ``itens`` of ``GET /recomendacoes/{user_id}``.

:class:`CoViewIndex` is the co-viewing rule that PostgreSQL applies on every
first view, kept here in memory so the offline evaluation
(``python -m bench.recommendation_quality``) runs the rules production runs.

A score blends four signals, each in [0, 1], with weights summing to 1, so
``pontuacao`` is in [0, 1] too:

* **co-viewing**: for each candidate Y, the cosine similarity of Y to the
  user's titles X (``co(X, Y) / sqrt(viewers(X) * viewers(Y))``, so a title
  everyone watches does not top every list), weighted by how recent and how
  engaged the user's viewing of X is, then scaled so the user's best
  co-viewing candidate scores 1;
* **trending in the user's categorias** and **in the user's tipos**: a
  title's viewers relative to the top of its trending list, weighted by the
  user's share of viewing in that categoria or tipo;
* **trending overall**: a small prior, and all a user without history gets.

The item's ``motivo`` names the signal that contributed most to its score.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, TypeAlias

from app.viewing.titles import TitleInfo
from app.viewing.viewing_events import COMPLETION_POSITION

#: M: a first view is paired with this many of the user's latest other titles:
#: close enough in time to reflect one taste, and a bounded cost per view.
#: (PostgreSQL applies the same rule: record_first_viewings, migration 0006.)
RECENT_TITLES = 20
#: K: neighbours kept per title; enough for a list of 10 after exclusions, and
#: a bounded table (at most K rows per catalogue title).
NEIGHBOURS_KEPT = 50
#: Length of each trending top list (overall, per tipo, per categoria).
TRENDING_TOP = 50
#: The user's titles used as seeds, latest first; older ones weigh under 1/16
#: of the latest (see RECENCY_HALF_LIFE) and would only cost time.
SEED_TITLES = 40
#: A viewing this many titles back weighs half as much as the latest one.
RECENCY_HALF_LIFE = 10.0
#: Weight of a viewing abandoned at once: a start says a little about taste,
#: finishing says the most (weights grow linearly up to COMPLETION_POSITION).
ENGAGEMENT_FLOOR = 0.2
#: Exponent of a candidate's viewer count in the co-viewing similarity; 0.5 is
#: the cosine: popular titles are damped, not banned (measured: same hit rate
#: as no damping, half the slots on blockbusters).
POPULARITY_DAMPING = 0.5
#: Decimals of ``pontuacao``: finer differences mean nothing to a person.
SCORE_DECIMALS = 3
DEFAULT_LIMIT = 10

#: ``(conteudo_id, count)``: a neighbour with its co-viewing count, or a
#: trending title with its distinct viewers.
Ranked: TypeAlias = tuple[int, int]


@dataclass(frozen=True, slots=True)
class BlendWeights:
    """How much each signal counts; non-negative and summing to 1, so scores stay in [0, 1]."""

    coview: float
    categoria: float
    tipo: float
    trending: float

    def __post_init__(self) -> None:
        parts = (self.coview, self.categoria, self.tipo, self.trending)
        if min(parts) < 0 or not math.isclose(sum(parts), 1.0):
            raise ValueError(f"pesos devem ser >= 0 e somar 1, não {parts}")


#: Measured (docs/benchmarks.md, "Recommendation quality"): co-viewing carries
#: the signal and the hit rate drops once it weighs 0.5; trending in the
#: user's categorias fills the lists of users co-viewing knows little about;
#: tipo and the global prior mostly break near-ties.
DEFAULT_WEIGHTS = BlendWeights(coview=0.7, categoria=0.2, tipo=0.05, trending=0.05)


@dataclass(frozen=True, slots=True)
class ViewedTitle:
    """A user's state on one title: all their heartbeats on it, collapsed."""

    conteudo_id: int
    tipo: str
    categoria: str
    posicao: float
    concluido: bool
    tempo_assistido: int
    ultimo_acesso: datetime


@dataclass(frozen=True, slots=True)
class TrendingSnapshot:
    """Top lists of ``(conteudo_id, distinct viewers)`` over one trailing window, most first."""

    overall: Sequence[Ranked] = ()
    by_tipo: Mapping[str, Sequence[Ranked]] = field(default_factory=dict)
    by_categoria: Mapping[str, Sequence[Ranked]] = field(default_factory=dict)

    @classmethod
    def from_viewers(
        cls, viewers: Mapping[int, int], catalogue: Mapping[int, TitleInfo], top: int = TRENDING_TOP
    ) -> TrendingSnapshot:
        """The snapshot of a window's distinct viewers per title (titles outside the catalogue
        are left out: nothing could be shown for them)."""
        ranked = _ranked((t, n) for t, n in viewers.items() if n > 0 and t in catalogue)
        return cls(
            overall=tuple(ranked[:top]),
            by_tipo=_top_lists(ranked, lambda t: catalogue[t].tipo, top),
            by_categoria=_top_lists(ranked, lambda t: catalogue[t].categoria, top),
        )


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One item of ``GET /recomendacoes/{user_id}``."""

    conteudo_id: int
    titulo: str
    tipo: str
    categoria: str
    pontuacao: float
    motivo: str


def _ranked(pairs: Iterable[Ranked]) -> list[Ranked]:
    """Most first; equal counts by the lower id, so every list is deterministic."""
    return sorted(pairs, key=lambda pair: (-pair[1], pair[0]))


def _top_lists(
    ranked: Sequence[Ranked], group_of: Callable[[int], str], top: int
) -> dict[str, tuple[Ranked, ...]]:
    """``ranked`` split by group, each group's list cut at ``top``."""
    groups: dict[str, list[Ranked]] = defaultdict(list)
    for pair in ranked:
        group = groups[group_of(pair[0])]
        if len(group) < top:
            group.append(pair)
    return {name: tuple(pairs) for name, pairs in groups.items()}


class CoViewIndex:
    """Co-viewing counts, updated as PostgreSQL updates them (the evaluation's stand-in).

    ``co(X, Y)`` counts the users who watched Y for the first time while X was
    among their RECENT_TITLES latest titles, or the other way round; it is
    symmetric. Each title keeps at most NEIGHBOURS_KEPT neighbours once
    :meth:`prune` has run (periodically, as in production); a pruned pair
    that comes back starts again from 1, as a deleted row would.
    """

    def __init__(
        self, recent_limit: int = RECENT_TITLES, neighbour_limit: int = NEIGHBOURS_KEPT
    ) -> None:
        self.recent_limit = recent_limit
        self.neighbour_limit = neighbour_limit
        self._counts: dict[int, dict[int, int]] = defaultdict(dict)
        self._viewers: dict[int, int] = {}

    def record_first_view(self, recent_titles: Sequence[int], new_title: int) -> None:
        """A user watched ``new_title`` for the first time; ``recent_titles`` are their
        titles, latest first. Call it exactly once per (user, title)."""
        self._viewers[new_title] = self._viewers.get(new_title, 0) + 1
        for title in _first_distinct(recent_titles, new_title, self.recent_limit):
            self._increment(title, new_title)
            self._increment(new_title, title)

    def _increment(self, title: int, neighbour: int) -> None:
        row = self._counts[title]
        row[neighbour] = row.get(neighbour, 0) + 1

    def prune(self) -> int:
        """Keep each title's NEIGHBOURS_KEPT highest counts (equal counts: lower id kept);
        return how many pairs were deleted."""
        deleted = 0
        for title, row in self._counts.items():
            if len(row) > self.neighbour_limit:
                kept = _ranked(row.items())[: self.neighbour_limit]
                deleted += len(row) - len(kept)
                self._counts[title] = dict(kept)
        return deleted

    def neighbours(self, title: int) -> list[Ranked]:
        """The title's neighbours with their counts, highest first (lower id first on ties)."""
        return _ranked(self._counts.get(title, {}).items())

    def count(self, title: int, neighbour: int) -> int:
        """``co(title, neighbour)``; 0 for a pair never seen or pruned."""
        return self._counts.get(title, {}).get(neighbour, 0)

    @property
    def viewers(self) -> Mapping[int, int]:
        """Distinct viewers per title: one per :meth:`record_first_view`."""
        return MappingProxyType(self._viewers)


def _first_distinct(titles: Sequence[int], excluded: int, limit: int) -> list[int]:
    """The first ``limit`` distinct titles other than ``excluded``, in order."""
    chosen: list[int] = []
    for title in titles:
        if title != excluded and title not in chosen:
            chosen.append(title)
            if len(chosen) == limit:
                break
    return chosen


def latest_first(history: Iterable[ViewedTitle]) -> list[ViewedTitle]:
    """The user's titles by ``ultimo_acesso``, latest first (equal instants: higher id first,
    as ``ORDER BY ultimo_acesso DESC, conteudo_id DESC``)."""
    return sorted(history, key=lambda v: (v.ultimo_acesso, v.conteudo_id), reverse=True)


def recent_titles(history: Iterable[ViewedTitle], limit: int = RECENT_TITLES) -> list[int]:
    """The ids of the user's ``limit`` latest titles: what a first view is paired with."""
    return [v.conteudo_id for v in latest_first(history)[:limit]]


def engagement(viewed: ViewedTitle) -> float:
    """How much a viewing says about taste, in [ENGAGEMENT_FLOOR, 1]: 1 once finished."""
    if viewed.concluido:
        return 1.0
    progress = min(max(viewed.posicao, 0.0), COMPLETION_POSITION) / COMPLETION_POSITION
    return ENGAGEMENT_FLOOR + (1.0 - ENGAGEMENT_FLOOR) * progress


def seed_weights(history: Iterable[ViewedTitle]) -> dict[ViewedTitle, float]:
    """The user's SEED_TITLES latest titles, each weighted by recency times engagement."""
    latest = latest_first(history)[:SEED_TITLES]
    return {v: 0.5 ** (rank / RECENCY_HALF_LIFE) * engagement(v) for rank, v in enumerate(latest)}


def seed_titles(history: Iterable[ViewedTitle]) -> list[int]:
    """The ids of the titles :func:`seed_weights` weighs: only their neighbours are read."""
    return recent_titles(history, SEED_TITLES)


def viewing_shares(
    seeds: Mapping[ViewedTitle, float], group_of: Callable[[ViewedTitle], str]
) -> dict[str, float]:
    """The user's share of (weighted) viewing in each group, e.g. each categoria; sums to 1."""
    totals: dict[str, float] = defaultdict(float)
    for viewed, weight in seeds.items():
        totals[group_of(viewed)] += weight
    whole = sum(totals.values())
    return {group: total / whole for group, total in totals.items()} if whole else {}


@dataclass(frozen=True, slots=True)
class _Signal:
    """One signal's scores in [0, 1] per candidate, and what gave each its score.

    ``sources[title]`` is what contributed most (a seed title, a group), and
    ``reason`` words it as the ``motivo``: only for the items shown, since a
    list shows 10 of a user's hundreds of candidates.
    """

    scores: dict[int, float]
    sources: Mapping[int, Any]
    reason: Callable[[Any], str]


def _scaled_to_best(scores: dict[int, float]) -> dict[int, float]:
    """Scores divided by the best one, so the strongest candidate scores 1."""
    best = max(scores.values(), default=0.0)
    return {title: score / best for title, score in scores.items()} if best > 0 else {}


def _coview_signal(
    seeds: Mapping[ViewedTitle, float],
    neighbours: Mapping[int, Sequence[Ranked]],
    viewers: Mapping[int, int],
    catalogue: Mapping[int, TitleInfo],
) -> _Signal:
    """Who watched X also watched Y: Y's similarity to the user's titles X, summed."""
    # The hottest loop of the worker (a user's seeds times their neighbours, for every title a
    # user starts): names bound once, conditional expressions where max() would be a call, and
    # the best seed kept only when beaten.
    scores: dict[int, float] = defaultdict(float)
    best_part: dict[int, float] = {}
    best_seed: dict[int, int] = {}
    viewers_of = viewers.get
    for seed, weight in seeds.items():
        x = seed.conteudo_id
        viewers_x = viewers_of(x, 0)
        for y, count in neighbours.get(x, ()):
            # At least `count` people watched each title of the pair, so this stays in [0, 1].
            seen_x = viewers_x if viewers_x > count else count  # noqa: FURB136
            viewers_y = viewers_of(y, 0)
            seen_y = viewers_y if viewers_y > count else count  # noqa: FURB136
            part = weight * count / (math.sqrt(seen_x) * seen_y**POPULARITY_DAMPING)
            scores[y] += part
            if part > best_part.get(y, 0.0):
                best_part[y] = part
                best_seed[y] = x
    return _Signal(
        _scaled_to_best(scores),
        best_seed,
        lambda seed: _because_watched(_titulo(catalogue, seed)),
    )


def _titulo(catalogue: Mapping[int, TitleInfo], conteudo_id: int) -> str | None:
    info = catalogue.get(conteudo_id)
    return info.titulo if info else None


def _because_watched(titulo: str | None) -> str:
    """The co-viewing ``motivo``; generic when the seed's title is not in the catalogue."""
    return f"porque você assistiu {titulo}" if titulo else "porque combina com o que você assistiu"


def _relative(ranked: Sequence[Ranked]) -> dict[int, float]:
    """Each title's viewers relative to the list's top title."""
    top = max((n for _, n in ranked), default=0)
    return {title: n / top for title, n in ranked} if top > 0 else {}


def _taste_signal(
    shares: Mapping[str, float],
    lists: Mapping[str, Sequence[Ranked]],
    reason: Callable[[str], str],
) -> _Signal:
    """Trending in the user's groups (categorias or tipos), weighted by the user's share in each."""
    scores: dict[int, float] = defaultdict(float)
    best_group: dict[int, tuple[float, str]] = {}
    for group, share in sorted(shares.items()):
        for title, relative in _relative(lists.get(group, ())).items():
            part = share * relative
            scores[title] += part
            if part > best_group.get(title, (0.0, ""))[0]:
                best_group[title] = (part, group)
    return _Signal(dict(scores), {t: group for t, (_, group) in best_group.items()}, reason)


def _trending_signal(overall: Sequence[Ranked]) -> _Signal:
    """The global prior: what many people watch right now."""
    scores = _relative(overall)
    return _Signal(scores, scores, _trending_now)  # one motivo for all: no source to keep


def _trending_now(_: object) -> str:
    return "em alta agora"


def _excluded_titles(history: Iterable[ViewedTitle], exclude_started: bool) -> set[int]:
    """Titles not to recommend: finished ones, and started ones unless asked to keep them."""
    return {v.conteudo_id for v in history if v.concluido or exclude_started}


def _blend(
    weighted: Sequence[tuple[float, _Signal]], excluded: set[int]
) -> dict[int, tuple[float, _Signal, Any]]:
    """Each candidate's weighted score, with the signal and source of its largest contribution
    (equal contributions: the earlier signal's)."""
    # title -> (score so far, signal and source of the largest part so far, that part): summed
    # as the signals come, since this runs for every candidate of every user in a batch.
    blended: dict[int, tuple[float, _Signal, Any, float]] = {}
    for weight, signal in weighted:
        for title, score in signal.scores.items():
            if title in excluded:
                continue
            part = weight * score
            found = blended.get(title)
            if found is None:
                blended[title] = (part, signal, signal.sources[title], part)
                continue
            total, best, source, largest = found
            if part > largest:
                best, source, largest = signal, signal.sources[title], part
            blended[title] = (total + part, best, source, largest)
    return {title: (total, best, source) for title, (total, best, source, _) in blended.items()}


def recommend(
    history: Sequence[ViewedTitle],
    neighbours: Mapping[int, Sequence[Ranked]],
    trending: TrendingSnapshot,
    catalogue: Mapping[int, TitleInfo],
    limit: int = DEFAULT_LIMIT,
    *,
    viewers: Mapping[int, int] | None = None,
    weights: BlendWeights = DEFAULT_WEIGHTS,
    exclude_started: bool = True,
) -> list[Recommendation]:
    """The user's ``limit`` best titles, best first (equal scores: lower id first).

    ``neighbours`` maps (at least) the user's titles to their co-viewing
    lists; ``viewers`` holds distinct viewers per title for the co-viewing
    normalisation (a title missing from it counts as many viewers as its
    co-viewing count, a lower bound). Finished titles are never recommended;
    started ones neither, unless ``exclude_started`` is false: the app shows
    them in "continue watching". Only catalogue titles are recommended.
    """
    if limit < 1:
        raise ValueError(f"limit deve ser >= 1, não {limit}")
    seeds = seed_weights(history)
    # The catalogue is the whole batch's: looked up, never copied per user.
    weighted = (
        (weights.coview, _coview_signal(seeds, neighbours, viewers or {}, catalogue)),
        (weights.categoria, _taste_categoria(seeds, trending)),
        (weights.tipo, _taste_tipo(seeds, trending)),
        (weights.trending, _trending_signal(trending.overall)),
    )
    blended = _blend(weighted, _excluded_titles(history, exclude_started))
    shown = (t for t in blended if t in catalogue)
    ranked = sorted(shown, key=lambda t: (-blended[t][0], t))[:limit]
    return [_item(catalogue[t], *_worded(*blended[t])) for t in ranked]


def _worded(score: float, signal: _Signal, source: Any) -> tuple[float, str]:
    """The score and the ``motivo`` its largest contribution gives it."""
    return score, signal.reason(source)


def _taste_categoria(seeds: Mapping[ViewedTitle, float], trending: TrendingSnapshot) -> _Signal:
    """Trending in the categorias the user watches."""
    shares = viewing_shares(seeds, lambda v: v.categoria)
    return _taste_signal(shares, trending.by_categoria, lambda c: f"em alta em {c}")


def _taste_tipo(seeds: Mapping[ViewedTitle, float], trending: TrendingSnapshot) -> _Signal:
    """Trending in the tipos the user watches ("em alta em séries")."""
    shares = viewing_shares(seeds, lambda v: v.tipo)
    return _taste_signal(shares, trending.by_tipo, lambda t: f"em alta em {t}s")


def _item(info: TitleInfo, score: float, motivo: str) -> Recommendation:
    """The public item; the score clamped against float rounding and rounded."""
    pontuacao = round(min(max(score, 0.0), 1.0), SCORE_DECIMALS)
    return Recommendation(
        info.conteudo_id, info.titulo, info.tipo, info.categoria, pontuacao, motivo
    )
