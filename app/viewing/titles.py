"""The catalogue (``conteudos``): a title with every field of the contract, and how to list them.

:class:`Title` is a row of ``conteudos``; :class:`TitleInfo` what lists
(trending, recommendations) show of a title; :class:`CatalogueQuery` the
filters and page of ``GET /conteudos``. ``tipo`` is matched whatever its case
or accents (:func:`canonical_kind`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Annotated, Literal, get_args

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StringConstraints,
)

from app.requests.fields import MAX_PAGE_SIZE, Query, ShortText, check_printable

TitleKind = Literal["filme", "série", "documentário"]
AgeRating = Literal["Livre", "10", "12", "14", "16", "18"]
#: ``conteudo_id`` is a PostgreSQL INTEGER.
MAX_TITLE_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class TitleInfo:
    """What lists (trending, recommendations) show of a title."""

    conteudo_id: int
    titulo: str
    tipo: str
    categoria: str


@dataclass(frozen=True, slots=True)
class Title:
    """One title of the catalogue, with the contract's fields.

    ``duracao_minutos`` is a film's or documentary's length, or a series'
    typical episode; ``temporadas`` is set for series only. ``generos`` holds
    every genre, the main one (``categoria``) first.
    """

    conteudo_id: int
    titulo: str
    tipo: TitleKind
    categoria: str
    generos: tuple[str, ...]
    descricao: str
    duracao_minutos: int
    ano_lancamento: int
    classificacao: AgeRating
    avaliacao: float
    disponivel: bool
    temporadas: int | None = None


def _without_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# Typed by hand in URLs and forms: "Filme", "SERIE" and "documentario" are meant too.
_KIND_SPELLINGS = {
    spelling: kind for kind in get_args(TitleKind) for spelling in (kind, _without_accents(kind))
}


def canonical_kind(value: object) -> object:
    """A ``tipo`` in any case, with or without accents, as the contract spells it."""
    if isinstance(value, str):
        return _KIND_SPELLINGS.get(value.strip().lower(), value)
    return value


def check_cursor(value: str) -> str:
    """A page cursor: the decimal ``conteudo_id`` the previous page ended with."""
    if int(value) > MAX_TITLE_ID:
        raise ValueError("cursor fora do intervalo; use o proximo_cursor da página anterior")
    return value


GenreName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=60),
    AfterValidator(check_printable),
]
Cursor = Annotated[str, Field(pattern=r"^[0-9]{1,10}$"), AfterValidator(check_cursor)]


class CatalogueQuery(Query):
    """``GET /conteudos``: filters and the position of one page; blank parameters are absent.

    ``tipo`` is matched whatever its case or accents; ``categoria`` exactly;
    ``q`` is a case-insensitive substring of ``titulo``. ``cursor`` is the
    ``proximo_cursor`` of the previous page.
    """

    tipo: Annotated[TitleKind | None, BeforeValidator(canonical_kind)] = None
    categoria: GenreName | None = None
    q: ShortText | None = None
    limit: int = Field(20, ge=1, le=MAX_PAGE_SIZE)
    cursor: Cursor | None = None

    @property
    def after_id(self) -> int:
        """The ``conteudo_id`` the page starts after (0: from the first title)."""
        return int(self.cursor) if self.cursor is not None else 0
