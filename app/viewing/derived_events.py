"""The values of the derived topics, ``title_activity`` and ``trending_tops``, described.

The viewing agent writes ``title_activity`` (``agents/viewing_agent.py``) and the
trending agent ``trending_tops`` (``agents/trending_agent.py``); the trending agent
and every worker's board (:mod:`app.kafka.trending_board`) read them. These models
are what the published schemas (``docs/events/``) are generated from, and the
tests check that what the agents write, and every version they wrote, is
what the models say.
"""

from __future__ import annotations

import orjson
from pydantic import BaseModel, ConfigDict, Field

from app.requests.envelope import SCHEMA_VERSION, Replays, SchemaVersion
from app.requests.fields import UserId, UtcDateTime
from app.viewing.titles import TitleInfo, TitleKind
from app.viewing.viewing_events import TitleId

#: ``[conteudo_id, espectadores]``: one title of a top list and its distinct viewers.
RankedTitle = tuple[TitleId, int]


class TitleActivity(BaseModel):
    """A viewer's latest time on a title (keyed by ``conteudo_id``): what trending counts."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    conteudo_id: TitleId
    user_id: UserId
    titulo: str
    tipo: TitleKind
    categoria: str
    visto_em: UtcDateTime = Field(description="O último heartbeat do usuário neste título")
    esquecer: bool = Field(
        False, description="O usuário foi excluído: o em-alta esquece este espectador do título"
    )
    schema_version: SchemaVersion = SCHEMA_VERSION
    replays: Replays = 0


class ListedTitle(BaseModel):
    """What a top list shows of a title."""

    conteudo_id: TitleId
    titulo: str
    tipo: TitleKind
    categoria: str


class TrendingTops(BaseModel):
    """One partition's top lists of one window (keyed ``{janela}|{particao}``, compacted)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    geral: list[RankedTitle] = Field(description="Os títulos com mais espectadores distintos")
    tipo: dict[str, list[RankedTitle]] = Field(description="A mesma lista, por tipo")
    categoria: dict[str, list[RankedTitle]] = Field(description="A mesma lista, por categoria")
    titulos: dict[str, ListedTitle] = Field(description="Os títulos listados, por conteudo_id")
    janela: str = Field(description="A janela: 1h, 24h")
    particao: int = Field(ge=0, description="A partição de title_activity que a lista cobre")
    em: UtcDateTime = Field(description="Quando a lista foi calculada")
    schema_version: SchemaVersion = SCHEMA_VERSION


def forgotten_viewer(info: TitleInfo, user_id: int, at: str) -> tuple[bytes, bytes]:
    """The ``title_activity`` message making trending forget ``user_id`` on a title (erasure)."""
    value = {
        "schema_version": SCHEMA_VERSION,
        "conteudo_id": info.conteudo_id,
        "user_id": user_id,
        "titulo": info.titulo,
        "tipo": info.tipo,
        "categoria": info.categoria,
        "visto_em": at,
        "esquecer": True,
    }
    return str(info.conteudo_id).encode(), orjson.dumps(value)
