"""``python -m bench.recommendation_quality``: are the recommendations useful? Hit rate at 10.

On a synthetic population (:mod:`bench.viewing_population`):

1. each user's last HELD_OUT distinct titles (by first view) are held out,
   with everything the user did from the first of them on;
2. the remaining (training) viewings are fed in time order through
   :class:`app.viewing.recommending.CoViewIndex`, as production would feed them
   (pruned every PRUNE_EVERY of viewing time), and folded into one state per
   (user, title); trending is the distinct viewers per title over the
   training data's last TRENDING_WINDOW;
3. each method recommends TOP_N titles per user, and a user is a hit when at
   least one held-out title is among them.

Methods: ``recommend`` as shipped; global trending minus finished titles
(the baseline); the all-time most viewed titles the user has not seen (a
stronger popularity baseline); and variants that explain the choices
(keeping started titles; co-viewing alone; trending in the user's taste
alone). The
population's parameters and seed are printed with the table; ``--json``
also writes the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from app.viewing.recommending import (
    DEFAULT_WEIGHTS,
    BlendWeights,
    CoViewIndex,
    Ranked,
    TrendingSnapshot,
    ViewedTitle,
    recent_titles,
    recommend,
)
from app.viewing.titles import TitleInfo
from app.viewing.viewing_events import COMPLETION_POSITION
from bench.viewing_population import PopulationParams, Viewing, generate

HELD_OUT = 3
#: Users with fewer training titles are not evaluated (none, with the default population).
MIN_TRAINING = 2
TOP_N = 10
TRENDING_WINDOW = timedelta(hours=24)
PRUNE_EVERY = timedelta(hours=1)
BASELINE = "trending only"
#: Length of the all-time most viewed list: enough for 10 unseen titles for any user.
MOST_VIEWED = 200
#: The head of the popularity curve, to see whether a method only shows blockbusters.
POPULAR_TOP = 50


@dataclass(frozen=True, slots=True)
class UserSplit:
    """What is hidden from one user's training data."""

    held_out: frozenset[int]
    #: Titles started before the held-out period and resumed during it.
    resumed: frozenset[int]


@dataclass(frozen=True, slots=True)
class Trained:
    """What production would hold when the held-out period begins."""

    histories: dict[int, list[ViewedTitle]]
    neighbours: dict[int, list[Ranked]]
    viewers: Mapping[int, int]
    trending: TrendingSnapshot
    catalogue: dict[int, TitleInfo]
    #: Titles by distinct viewers over the whole training data, most first.
    most_viewed: tuple[int, ...]


Recommender = Callable[[list[ViewedTitle], Trained], list[int]]


@dataclass(frozen=True, slots=True)
class MethodResult:
    """One method's figures over the evaluated users."""

    method: str
    #: Share of users with at least one held-out title in their TOP_N.
    users_hit: float
    #: Share of all held-out titles found in their user's TOP_N.
    titles_hit: float
    #: Started, unfinished titles per list (the app already shows them in "continue watching").
    started_per_list: float
    #: Among users who resumed a started title, share whose list shows one of those.
    resumed_hit: float
    #: Share of the recommended slots that go to the POPULAR_TOP most viewed titles.
    popular_share: float


@dataclass(frozen=True, slots=True)
class QualityReport:
    """The whole evaluation: population, sizes, figures per method, run time."""

    params: PopulationParams
    users_evaluated: int
    held_out_titles: int
    results: tuple[MethodResult, ...]
    seconds: float

    def result(self, method: str) -> MethodResult:
        """The figures of ``method``."""
        return next(r for r in self.results if r.method == method)


def split_users(viewings: Iterable[Viewing]) -> tuple[list[Viewing], dict[int, UserSplit]]:
    """The training viewings, and what each evaluated user has held out."""
    by_user: dict[int, list[Viewing]] = defaultdict(list)
    for viewing in viewings:
        by_user[viewing.user].append(viewing)
    training: list[Viewing] = []
    splits: dict[int, UserSplit] = {}
    for user, mine in by_user.items():
        cutoff, split = _split_one(mine)
        training.extend(v for v in mine if cutoff is None or v.instant < cutoff)
        if split is not None:
            splits[user] = split
    return training, splits


def _split_one(mine: Sequence[Viewing]) -> tuple[datetime | None, UserSplit | None]:
    """The instant one user's held-out period begins, and what it hides (``None``: too short)."""
    first_view: dict[int, datetime] = {}
    for v in sorted(mine, key=lambda v: v.instant):
        first_view.setdefault(v.title, v.instant)
    order = sorted(first_view, key=lambda t: (first_view[t], t))
    if len(order) < HELD_OUT + MIN_TRAINING:
        return None, None
    held_out = frozenset(order[-HELD_OUT:])
    cutoff = first_view[order[-HELD_OUT]]
    resumed = frozenset(v.title for v in mine if v.instant >= cutoff and v.title not in held_out)
    return cutoff, UserSplit(held_out, resumed)


def fold(state: ViewedTitle | None, viewing: Viewing, info: TitleInfo) -> ViewedTitle:
    """A (user, title) state after one more sitting, as PostgreSQL folds heartbeats."""
    return ViewedTitle(
        conteudo_id=info.conteudo_id,
        tipo=info.tipo,
        categoria=info.categoria,
        posicao=viewing.posicao,
        concluido=viewing.posicao >= COMPLETION_POSITION,
        tempo_assistido=(state.tempo_assistido if state else 0) + viewing.seconds,
        ultimo_acesso=viewing.instant,
    )


def feed(
    ordered: Sequence[Viewing], catalogue: Mapping[int, TitleInfo]
) -> tuple[CoViewIndex, dict[int, dict[int, ViewedTitle]]]:
    """Time-ordered viewings through the co-viewing index (pruned every PRUNE_EVERY of viewing
    time) and into one state per (user, title), as production applies them."""
    index = CoViewIndex()
    states: dict[int, dict[int, ViewedTitle]] = defaultdict(dict)
    next_prune = ordered[0].instant + PRUNE_EVERY if ordered else None
    for viewing in ordered:
        if next_prune is not None and viewing.instant >= next_prune:
            index.prune()
            next_prune = viewing.instant + PRUNE_EVERY
        mine = states[viewing.user]
        if viewing.title not in mine:
            index.record_first_view(recent_titles(mine.values()), viewing.title)
        mine[viewing.title] = fold(mine.get(viewing.title), viewing, catalogue[viewing.title])
    index.prune()
    return index, states


def train(training: Sequence[Viewing], catalogue: dict[int, TitleInfo]) -> Trained:
    """What production would hold after the training viewings."""
    ordered = sorted(training, key=lambda v: (v.instant, v.user, v.title))
    index, states = feed(ordered, catalogue)
    all_time = TrendingSnapshot.from_viewers(index.viewers, catalogue, MOST_VIEWED)
    return Trained(
        histories={user: list(mine.values()) for user, mine in states.items()},
        neighbours={title: index.neighbours(title) for title in catalogue},
        viewers=index.viewers,
        trending=TrendingSnapshot.from_viewers(window_viewers(ordered), catalogue),
        catalogue=catalogue,
        most_viewed=tuple(t for t, _ in all_time.overall),
    )


def window_viewers(ordered: Sequence[Viewing]) -> Counter[int]:
    """Distinct viewers per title over the last TRENDING_WINDOW of time-ordered viewings."""
    if not ordered:
        return Counter()
    since = ordered[-1].instant - TRENDING_WINDOW
    pairs = {(v.user, v.title) for v in ordered if v.instant > since}
    return Counter(title for _, title in pairs)


def ours(weights: BlendWeights = DEFAULT_WEIGHTS, exclude_started: bool = True) -> Recommender:
    """``recommend`` with the given weights and exclusion rule."""

    def run(history: list[ViewedTitle], trained: Trained) -> list[int]:
        items = recommend(
            history,
            trained.neighbours,
            trained.trending,
            trained.catalogue,
            TOP_N,
            viewers=trained.viewers,
            weights=weights,
            exclude_started=exclude_started,
        )
        return [item.conteudo_id for item in items]

    return run


def trending_only(history: list[ViewedTitle], trained: Trained) -> list[int]:
    """The baseline: the global trending list minus the user's finished titles."""
    finished = {v.conteudo_id for v in history if v.concluido}
    return [t for t, _ in trained.trending.overall if t not in finished][:TOP_N]


def most_viewed_unseen(history: list[ViewedTitle], trained: Trained) -> list[int]:
    """A stronger popularity baseline: the most viewed titles of all time the user has not seen."""
    seen = {v.conteudo_id for v in history}
    return [t for t in trained.most_viewed if t not in seen][:TOP_N]


def _without_coview(weights: BlendWeights) -> BlendWeights:
    """``weights`` with co-viewing dropped and the others scaled back to a sum of 1."""
    rest = weights.categoria + weights.tipo + weights.trending
    return BlendWeights(0.0, weights.categoria / rest, weights.tipo / rest, weights.trending / rest)


METHODS: dict[str, Recommender] = {
    "ours": ours(),
    BASELINE: trending_only,
    "most viewed, minus seen": most_viewed_unseen,
    "ours, keeping started titles": ours(exclude_started=False),
    "co-viewing only": ours(BlendWeights(coview=1.0, categoria=0.0, tipo=0.0, trending=0.0)),
    "trending in taste only": ours(_without_coview(DEFAULT_WEIGHTS)),
}


def measure(
    method: str, recommender: Recommender, splits: Mapping[int, UserSplit], trained: Trained
) -> MethodResult:
    """One method's figures over the users in ``splits``."""
    head = frozenset(trained.most_viewed[:POPULAR_TOP])
    total: Counter[str] = Counter()
    for user, split in sorted(splits.items()):
        history = trained.histories.get(user, [])
        total.update(_tally(set(recommender(history, trained)), split, history, head))
    users = max(len(splits), 1)
    return MethodResult(
        method,
        users_hit=total["users_hit"] / users,
        titles_hit=total["titles_hit"] / max(HELD_OUT * len(splits), 1),
        started_per_list=total["started"] / users,
        resumed_hit=total["resumed_hit"] / max(total["resumers"], 1),
        popular_share=total["popular"] / max(total["slots"], 1),
    )


def _tally(
    shown: set[int], split: UserSplit, history: list[ViewedTitle], head: frozenset[int]
) -> Counter[str]:
    """One user's counts towards the figures of :class:`MethodResult`."""
    found = len(shown & split.held_out)
    unfinished = {v.conteudo_id for v in history if not v.concluido}
    return Counter(
        users_hit=found > 0,
        titles_hit=found,
        started=len(shown & unfinished),
        resumers=bool(split.resumed),
        resumed_hit=bool(shown & split.resumed),
        slots=len(shown),
        popular=len(shown & head),
    )


def evaluate(params: PopulationParams, methods: Sequence[str] = tuple(METHODS)) -> QualityReport:
    """Generate the population, train, and measure each of ``methods``."""
    began = time.perf_counter()
    population = generate(params)
    training, splits = split_users(population.viewings)
    trained = train(training, population.catalogue)
    results = tuple(measure(name, METHODS[name], splits, trained) for name in methods)
    held_out = sum(len(split.held_out) for split in splits.values())
    return QualityReport(params, len(splits), held_out, results, time.perf_counter() - began)


COLUMNS = ("users hit@10", "titles hit", "started/list", "resumed hit", "top-50 share")


def _row(method: str, cells: Sequence[str]) -> str:
    """One line of the table: the method, then each column right-aligned."""
    return f"{method:<30}" + "".join(f" {cell:>{len(name)}}" for cell, name in zip(cells, COLUMNS))


def render(report: QualityReport) -> str:
    """The printed table, with the population it was measured on."""
    baseline = report.result(BASELINE).users_hit
    ratio = report.result("ours").users_hit / baseline if baseline else float("inf")
    lines = [
        f"population: {_describe(report.params)}",
        (
            f"evaluated: {report.users_evaluated} users, {report.held_out_titles} held-out"
            f" titles (last {HELD_OUT} per user), top {TOP_N},"
            f" trending window {TRENDING_WINDOW.total_seconds() / 3600:.0f} h"
        ),
        "",
        _row("method", COLUMNS),
    ]
    for r in report.results:
        cells = (f"{r.users_hit:.3f}", f"{r.titles_hit:.3f}", f"{r.started_per_list:.2f}")
        shares = (f"{r.resumed_hit:.3f}", f"{r.popular_share:.3f}")
        lines.append(_row(r.method, (*cells, *shares)))
    lines += ["", f"ours / {BASELINE}: {ratio:.2f}x; run time {report.seconds:.1f} s"]
    return "\n".join(lines)


def _describe(params: PopulationParams) -> str:
    """``name=value`` pairs of the parameters."""
    return ", ".join(f"{name}={value}" for name, value in asdict(params).items())


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    defaults = PopulationParams()
    parser = argparse.ArgumentParser(
        prog="python -m bench.recommendation_quality", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--users", type=int, default=defaults.users)
    parser.add_argument("--titles", type=int, default=defaults.titles)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation, print the table, optionally write JSON."""
    args = _parse(argv)
    params = PopulationParams(users=args.users, titles=args.titles, seed=args.seed)
    report = evaluate(params)
    print(render(report))
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
