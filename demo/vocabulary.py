"""The words the demo catalogue is made of, read from ``vocabulary.json`` beside this module.

Curated pt_BR vocabulary: places, people, and each genre's recipes, kept apart
from the drawing (:mod:`demo.title_maker`). Every list keeps the file's order:
changing, adding or reordering a word changes which title each demo id names.

In the file a place is ``"Name/article"`` (no slash: no article); a recipe's
``tails`` name a list (``places``, ``biomes``, ``people``, ``surnames``) or
list their own words; a genre's ``protagonists`` name a list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

from app.viewing.titles import AgeRating, TitleKind

VOCABULARY_FILE = Path(__file__).with_name("vocabulary.json")

_IN = {"": "em", "o": "no", "a": "na", "os": "nos", "as": "nas"}
_OF = {"": "de", "o": "do", "a": "da", "os": "dos", "as": "das"}


@dataclass(frozen=True, slots=True)
class Place:
    """A Brazilian place and the article Portuguese puts before it ("no Recife")."""

    nome: str
    article: str = ""

    @property
    def em(self) -> str:
        """Where: "em Paraty", "no Recife", "na Bahia"."""
        return f"{_IN[self.article]} {self.nome}"

    @property
    def de(self) -> str:
        """Whose: "de Paraty", "do Sertão", "da Amazônia"."""
        return f"{_OF[self.article]} {self.nome}"


@dataclass(frozen=True, slots=True)
class Recipe:
    """Titles ``form.format(head=h, tail=t)`` for each head ``h`` and tail ``t``.

    A tail is a :class:`Place` (``{tail.em}``, ``{tail.de}``, ``{tail.nome}``),
    which then sets the story, or a plain string.
    """

    form: str
    heads: tuple[str, ...]
    tails: tuple[Place | str, ...]

    def title(self, head: str, tail: Place | str) -> str:
        """The title made of ``head`` and ``tail``."""
        return self.form.format(head=head, tail=tail)


@dataclass(frozen=True, slots=True)
class Genre:
    """How to make a title of one genre of one ``tipo``.

    ``stories`` are the second half of a synopsis ("... volta para casa e ...");
    for documentaries they are whole sentences. ``minutes`` bounds a film's or
    an episode's length; ``ratings`` weighs the age ratings that fit.
    """

    name: str
    weight: int
    recipes: tuple[Recipe, ...]
    stories: tuple[str, ...]
    ratings: tuple[tuple[AgeRating, int], ...]
    minutes: tuple[int, int]
    companions: tuple[str, ...]
    protagonists: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Every word list of the file, and the genres of each ``tipo``."""

    places: tuple[Place, ...]
    doc_closings: tuple[str, ...]
    genres: dict[TitleKind, tuple[Genre, ...]]


def _place(spec: str) -> Place:
    name, _, article = spec.partition("/")
    return Place(name, article)


@cache
def vocabulary() -> Vocabulary:
    """The vocabulary of :data:`VOCABULARY_FILE` (read once)."""
    data = json.loads(VOCABULARY_FILE.read_text(encoding="utf-8"))
    lists: dict[str, tuple[Any, ...]] = {
        "places": tuple(_place(p) for p in data["places"]),
        "biomes": tuple(_place(p) for p in data["biomes"]),
        **{name: tuple(data[name]) for name in ("people", "surnames")},
        **{name: tuple(data[name]) for name in ("protagonists", "creatures")},
    }

    def recipe(fields: dict[str, Any]) -> Recipe:
        tails = fields["tails"]
        named = lists[tails] if isinstance(tails, str) else tuple(tails)
        return Recipe(fields["form"], tuple(fields["heads"]), named)

    def genre(fields: dict[str, Any]) -> Genre:
        return Genre(
            name=fields["name"],
            weight=fields["weight"],
            recipes=tuple(recipe(r) for r in fields["recipes"]),
            stories=tuple(fields["stories"]),
            ratings=tuple((rating, weight) for rating, weight in fields["ratings"]),
            minutes=(fields["minutes"][0], fields["minutes"][1]),
            companions=tuple(fields["companions"]),
            protagonists=lists[fields["protagonists"]],
        )

    genres = {
        cast(TitleKind, kind): tuple(genre(g) for g in kind_genres)
        for kind, kind_genres in data["genres"].items()
    }
    return Vocabulary(lists["places"], tuple(data["doc_closings"]), genres)
