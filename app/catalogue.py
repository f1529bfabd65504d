"""A catalogue title (``conteudos``): every field of the contract, and what lists show of it."""

from __future__ import annotations

from dataclasses import dataclass

from app.models import AgeRating, TitleKind


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
