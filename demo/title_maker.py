"""The demo catalogue: 9,000 pt_BR titles with the ids 1000-9999, the same everywhere.

The original drew title ids at random from 1000-9999, so old clients hold ids in
that range; every one of them names a title here. The catalogue is built from
curated Portuguese word lists and templates per genre ("O Último Verão em
Paraty", "Crônicas do Sertão", "Amazônia: Rios Voadores"), drawn from one
seeded generator through ``random()`` only: Python guarantees that sequence for
a given seed across versions (unlike ``choice`` or ``randrange``), and nothing
here depends on Faker or on set ordering. The same id is the same title on every
machine, now and later. The words are in ``demo/vocabulary.json``
(:mod:`demo.vocabulary`). Pure: no I/O but reading that file; the database
seeds ``conteudos`` from it (``app.application`` hands it to the Database).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

from app.storage.catalogue import CatalogueSeed
from app.viewing.titles import Title, TitleKind
from demo.vocabulary import Genre, Place, vocabulary

DEMO_IDS = range(1000, 10_000)
#: Changing it (or any word list) changes every demo title: ids would then name
#: other titles than in databases seeded before. Don't.
SEED = 2_024_09_01
#: The demo catalogue is dated as of this year, not of the machine's clock.
LATEST_YEAR = 2025

T = TypeVar("T")


GENRES = vocabulary().genres
PLACES = vocabulary().places
#: About 55 % films, 30 % series, 15 % documentaries.
KIND_SHARES: tuple[tuple[TitleKind, int], ...] = (
    ("filme", 55),
    ("série", 30),
    ("documentário", 15),
)
#: Oldest release year per ``tipo``: streaming catalogues lean recent.
FIRST_YEAR: dict[TitleKind, int] = {"filme": 1970, "série": 1990, "documentário": 1985}
SEASONS = ((1, 35), (2, 25), (3, 15), (4, 10), (5, 6), (6, 4), (7, 2), (8, 2), (10, 1))
EXTRA_GENRES = ((0, 40), (1, 45), (2, 15))
#: Draws tried for a title not yet used in its ``tipo`` before giving up.
MAX_ATTEMPTS = 500


# ---------- drawing ----------


class Dice:
    """Deterministic draws built on ``random.Random(seed).random()`` alone."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def unit(self) -> float:
        """A float in [0, 1)."""
        return self._rng.random()

    def below(self, n: int) -> int:
        """An int in [0, n)."""
        return min(int(self.unit() * n), n - 1)

    def pick(self, items: Sequence[T]) -> T:
        """One of ``items``, uniformly."""
        return items[self.below(len(items))]

    def weighted(self, choices: Sequence[tuple[T, int]]) -> T:
        """One of ``choices``' values, in proportion to its weight."""
        point = self.unit() * sum(weight for _, weight in choices)
        for value, weight in choices:
            point -= weight
            if point < 0:
                return value
        return choices[-1][0]

    def chance(self, probability: float) -> bool:
        """True with ``probability``."""
        return self.unit() < probability

    def bell(self, low: float, high: float, draws: int = 2) -> float:
        """A value in [low, high], most often near the middle (mean of uniforms)."""
        mean = sum(self.unit() for _ in range(draws)) / draws
        return low + (high - low) * mean


def rating(dice: Dice) -> float:
    """An ``avaliacao`` from 0 to 5, one decimal, skewed like real catalogues.

    Most titles land between 3.0 and 4.5; a few flops fall below 3.
    """
    value = dice.bell(1.0, 3.0) if dice.chance(0.06) else dice.bell(2.4, 5.2, draws=3)
    return round(min(value, 5.0), 1)


def release_year(dice: Dice, first: int) -> int:
    """A year from ``first`` to :data:`LATEST_YEAR`, most of them recent."""
    return LATEST_YEAR - int((LATEST_YEAR - first + 1) * dice.unit() ** 2.5)


@dataclass(frozen=True, slots=True)
class Naming:
    """A drawn title and the place its story is set in, if the title names one."""

    titulo: str
    place: Place | None


def draw_naming(dice: Dice, genre: Genre) -> Naming:
    """A title of ``genre``: one head and one tail of one of its recipes."""
    recipe = dice.weighted([(r, len(r.heads) * len(r.tails)) for r in genre.recipes])
    tail = dice.pick(recipe.tails)
    titulo = recipe.title(dice.pick(recipe.heads), tail)
    return Naming(titulo, tail if isinstance(tail, Place) else None)


def synopsis(dice: Dice, kind: TitleKind, genre: Genre, place: Place | None) -> str:
    """A ``descricao``: where, who and what for fiction; two sentences for documentaries."""
    if kind == "documentário":
        return f"{dice.pick(genre.stories)} {dice.pick(vocabulary().doc_closings)}"
    setting = (place or dice.pick(PLACES)).em
    who = dice.pick(genre.protagonists)
    return f"{setting[0].upper()}{setting[1:]}, {who} {dice.pick(genre.stories)}."


def genres_of(dice: Dice, genre: Genre) -> tuple[str, ...]:
    """The main genre followed by up to two of its usual companions."""
    extras = list(genre.companions)
    chosen = [genre.name]
    for _ in range(dice.weighted(EXTRA_GENRES)):
        chosen.append(extras.pop(dice.below(len(extras))))
    return tuple(chosen)


def draw_title(dice: Dice, conteudo_id: int, used: dict[TitleKind, set[str]]) -> Title:
    """The title ``conteudo_id``, named differently from every title in ``used``."""
    kind = dice.weighted(KIND_SHARES)
    genre = dice.weighted([(g, g.weight) for g in GENRES[kind]])
    naming = unused_naming(dice, genre, used[kind])
    low, high = genre.minutes
    return Title(
        conteudo_id=conteudo_id,
        titulo=naming.titulo,
        tipo=kind,
        categoria=genre.name,
        generos=genres_of(dice, genre),
        descricao=synopsis(dice, kind, genre, naming.place),
        duracao_minutos=round(dice.bell(low, high)),
        ano_lancamento=release_year(dice, FIRST_YEAR[kind]),
        classificacao=dice.weighted(genre.ratings),
        avaliacao=rating(dice),
        disponivel=dice.chance(0.96),
        temporadas=dice.weighted(SEASONS) if kind == "série" else None,
    )


def unused_naming(dice: Dice, genre: Genre, used: set[str]) -> Naming:
    """A naming of ``genre`` whose title is not in ``used`` (then added to it)."""
    for _ in range(MAX_ATTEMPTS):
        naming = draw_naming(dice, genre)
        if naming.titulo.casefold() not in used:
            used.add(naming.titulo.casefold())
            return naming
    raise RuntimeError(f"word lists of {genre.name} exhausted: add heads or tails")


@cache
def _catalogue() -> tuple[Title, ...]:
    dice = Dice(SEED)
    used: dict[TitleKind, set[str]] = {kind: set() for kind in GENRES}
    return tuple(draw_title(dice, conteudo_id, used) for conteudo_id in DEMO_IDS)


def demo_catalogue() -> list[Title]:
    """The 9,000 demo titles, ids 1000 to 9999 in order; the same on every call and machine."""
    return list(_catalogue())


def catalogue_seed() -> CatalogueSeed:
    """The demo catalogue as the database seeds ``conteudos`` with it at its first start."""
    return CatalogueSeed(len(DEMO_IDS), demo_catalogue)
