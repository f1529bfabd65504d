"""A synthetic viewing population for the offline recommendation evaluation.

What it assumes about people, each a parameter of :class:`PopulationParams`:

* popularity is skewed: the title of popularity rank r is chosen with a
  weight of 1 / r^s (Zipf-like), within whatever set the choice is from;
* users come in groups, one per categoria, and a share of their first views
  (``favourite_share``) is in their group's categoria, the rest anywhere;
* titles are related in small themes within a categoria (a saga, a
  director, a subject): a first view continues the theme of one of the
  user's last titles with probability ``theme_follow``; this is the
  structure co-viewing can learn and trending cannot;
* people finish more of what they like: ``finish_in_taste`` for titles in
  their categoria or theme, ``finish_outside`` otherwise; some unfinished
  titles are resumed later (``resume``);
* first views are spread uniformly over ``days``.

Everything derives from one ``random.Random(seed)``: the same parameters give
the same population.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from app.viewing.titles import TitleInfo

CATEGORIAS = (
    "Ação",
    "Comédia",
    "Drama",
    "Suspense",
    "Terror",
    "Romance",
    "Ficção científica",
    "Animação",
    "Natureza",
    "História",
)
TIPOS = ("filme", "série", "documentário")
TIPO_WEIGHTS = (0.5, 0.35, 0.15)
#: Minutes of a whole title (a série: one episode), to turn a position into seconds.
MINUTES = {"filme": 110, "série": 45, "documentário": 60}
FIRST_ID, LAST_ID = 1000, 9999
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
#: A resumed title comes back between 1 hour and 3 days after it was left.
RESUME_AFTER_H = (1.0, 72.0)
#: The last titles a theme can be continued from.
THEME_MEMORY = 3
#: Draws of an already seen title before a choice falls back to a full scan.
REDRAWS = 30


@dataclass(frozen=True, slots=True)
class PopulationParams:
    """The synthetic population's shape (see the module docstring)."""

    users: int = 2000
    titles: int = 3000
    seed: int = 7
    zipf_exponent: float = 1.0
    favourite_share: float = 0.75
    theme_size: int = 10
    theme_follow: float = 0.3
    min_viewings: int = 6
    max_viewings: int = 48
    days: int = 28
    finish_in_taste: float = 0.75
    finish_outside: float = 0.35
    resume: float = 0.3

    def __post_init__(self) -> None:
        if not 0 < self.titles <= LAST_ID - FIRST_ID + 1:
            raise ValueError(f"titles must be in 1..{LAST_ID - FIRST_ID + 1}")
        if not 0 < self.min_viewings <= self.max_viewings:
            raise ValueError("need 0 < min_viewings <= max_viewings")


@dataclass(frozen=True, slots=True)
class Viewing:
    """One sitting of a user on a title: the heartbeats of a session, as PostgreSQL folds them."""

    instant: datetime
    user: int
    title: int
    posicao: float
    seconds: int


@dataclass(frozen=True, slots=True)
class Population:
    """The catalogue and every user's viewings."""

    catalogue: dict[int, TitleInfo]
    viewings: list[Viewing]


class _Weighted:
    """Titles drawn by popularity, never one the user has already seen."""

    def __init__(self, titles: Sequence[int], weight: dict[int, float]) -> None:
        self.titles = list(titles)
        self.cumulative = list(accumulate(weight[t] for t in self.titles))

    def draw(self, rng: random.Random, seen: set[int]) -> int | None:
        """A title not in ``seen``; ``None`` when all are seen."""
        for _ in range(REDRAWS):
            point = rng.random() * self.cumulative[-1]
            title = self.titles[bisect_left(self.cumulative, point)]
            if title not in seen:
                return title
        unseen = [t for t in self.titles if t not in seen]
        return rng.choice(unseen) if unseen else None


@dataclass(frozen=True, slots=True)
class _World:
    """The catalogue with what choices draw from."""

    catalogue: dict[int, TitleInfo]
    everything: _Weighted
    by_categoria: dict[str, _Weighted]
    theme_of: dict[int, _Weighted]


def _build_world(params: PopulationParams, rng: random.Random) -> _World:
    """Titles with random ids, categorias, tipos and Zipf popularity; themes within categorias."""
    ids = rng.sample(range(FIRST_ID, LAST_ID + 1), params.titles)
    weight = {t: 1.0 / (rank + 1) ** params.zipf_exponent for rank, t in enumerate(ids)}
    catalogue = {t: _title(t, rng) for t in sorted(ids)}
    members = {c: [t for t in ids if catalogue[t].categoria == c] for c in CATEGORIAS}
    theme_of: dict[int, _Weighted] = {}
    for titles in members.values():
        shuffled = rng.sample(titles, len(titles))
        for start in range(0, len(shuffled), params.theme_size):
            theme = _Weighted(shuffled[start : start + params.theme_size], weight)
            theme_of.update(dict.fromkeys(theme.titles, theme))
    by_categoria = {c: _Weighted(ts, weight) for c, ts in members.items() if ts}
    return _World(catalogue, _Weighted(ids, weight), by_categoria, theme_of)


def _title(conteudo_id: int, rng: random.Random) -> TitleInfo:
    """A catalogue entry with a random categoria and tipo."""
    tipo = rng.choices(TIPOS, TIPO_WEIGHTS)[0]
    return TitleInfo(conteudo_id, f"Título {conteudo_id}", tipo, rng.choice(CATEGORIAS))


def _next_title(
    world: _World, favourite: str, watched: list[int], params: PopulationParams, rng: random.Random
) -> tuple[int, bool]:
    """The user's next first view, and whether it is to their taste (categoria or theme)."""
    seen = set(watched)
    if watched and rng.random() < params.theme_follow:
        origin = rng.choice(watched[-THEME_MEMORY:])
        title = world.theme_of[origin].draw(rng, seen)
        if title is not None:
            return title, True
    if favourite in world.by_categoria and rng.random() < params.favourite_share:
        title = world.by_categoria[favourite].draw(rng, seen)
        if title is not None:
            return title, True
    title = world.everything.draw(rng, seen)
    if title is None:
        raise ValueError("a user would need more titles than the catalogue has")
    return title, world.catalogue[title].categoria == favourite


def _sitting(user: int, info: TitleInfo, hours: float, start: float, stop: float) -> Viewing:
    """A sitting ``hours`` after the epoch, from position ``start`` to ``stop`` (%)."""
    seconds = round(MINUTES[info.tipo] * 60 * (stop - start) / 100)
    return Viewing(EPOCH + timedelta(hours=hours), user, info.conteudo_id, stop, seconds)


def _sittings_of(
    user: int,
    info: TitleInfo,
    hours: float,
    liked: bool,
    params: PopulationParams,
    rng: random.Random,
) -> list[Viewing]:
    """A first view at ``hours``, finished or not, and maybe its resumption later."""
    finished = rng.random() < (params.finish_in_taste if liked else params.finish_outside)
    posicao = 100.0 if finished else round(rng.uniform(3, 85), 1)
    sittings = [_sitting(user, info, hours, 0.0, posicao)]
    later = hours + rng.uniform(*RESUME_AFTER_H)
    if not finished and rng.random() < params.resume and later < params.days * 24.0:
        sittings.append(_sitting(user, info, later, posicao, round(rng.uniform(posicao, 100), 1)))
    return sittings


def _user_viewings(
    user: int, world: _World, params: PopulationParams, rng: random.Random
) -> list[Viewing]:
    """One user's sittings: first views spread over the period, and the resumptions of some."""
    favourite = CATEGORIAS[user % len(CATEGORIAS)]
    count = rng.randint(params.min_viewings, params.max_viewings)
    watched: list[int] = []
    sittings: list[Viewing] = []
    for hours in sorted(rng.uniform(0, params.days * 24.0) for _ in range(count)):
        title, liked = _next_title(world, favourite, watched, params, rng)
        watched.append(title)
        sittings += _sittings_of(user, world.catalogue[title], hours, liked, params, rng)
    return sittings


def generate(params: PopulationParams) -> Population:
    """The population for ``params``: deterministic given ``params.seed``."""
    rng = random.Random(params.seed)
    world = _build_world(params, rng)
    viewings = [
        v for user in range(1, params.users + 1) for v in _user_viewings(user, world, params, rng)
    ]
    return Population(world.catalogue, viewings)
