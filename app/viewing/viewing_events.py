"""The viewing side's commands and events: heartbeats, the history, recommendation requests.

On ``viewing_events``, one event per heartbeat a player sends (the
:class:`Viewing` command in an envelope, ``registrar_visualizacao``); on
``recommendation_requests``, a client's ``gerar_recomendacoes`` or a refresh
the viewing agent asks for when a user starts or finishes a title.

Heartbeats have a topic of their own (keyed by user id, like ``user_events``):
they are the platform's largest stream by far, and a backlog of them must
delay neither sign-ups nor payments; their agent applies a whole batch in one
statement. :class:`HistoryQuery` reads what they left (``GET
/historico-visualizacao/{user_id}``), newest first, by cursor.
"""

from __future__ import annotations

import base64
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

import orjson
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
)

from app.clock import as_utc
from app.requests.envelope import SCHEMA_VERSION, Envelope, Replays, SchemaVersion
from app.requests.fields import MAX_PAGE_SIZE, Command, Query, ShortText, UserId
from app.viewing.titles import MAX_TITLE_ID, TitleKind, canonical_kind

#: A heartbeat at or past this position (percent) means the title was watched to the end.
COMPLETION_POSITION = 90
#: Longest one viewing can run, in seconds watched (a week of a series binge).
MAX_WATCHED_S = 7 * 24 * 3600
TitleId = Annotated[int, Field(ge=1, le=MAX_TITLE_ID)]
Position = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]


def position_as_number(value: Decimal) -> float:
    """A position in a JSON answer: a number, as clients send it."""
    return float(value)


class Viewing(Command):
    """``POST /historico-visualizacao``: one heartbeat of a player (body or query).

    ``posicao`` is how far in (0-100 %), ``tempo_assistido`` the seconds watched
    so far in this viewing; ``titulo`` and ``tipo`` may be sent, as the
    original's clients did, but the catalogue is what the state refers to.
    """

    user_id: UserId
    conteudo_id: TitleId
    titulo: ShortText | None = None
    tipo: Annotated[TitleKind | None, BeforeValidator(canonical_kind)] = None
    tempo_assistido: int = Field(ge=0, le=MAX_WATCHED_S)
    posicao: Annotated[Position, PlainSerializer(position_as_number, when_used="json")]

    @property
    def concluido(self) -> bool:
        """Whether this heartbeat says the title was watched to the end."""
        return self.posicao >= COMPLETION_POSITION


def history_cursor(moment: datetime, conteudo_id: int) -> str:
    """The opaque cursor of a history page ending at the viewing (``moment``, ``conteudo_id``)."""
    text = f"{as_utc(moment).isoformat()}|{conteudo_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def read_history_cursor(value: str) -> tuple[datetime, int]:
    """The (``ultimo_acesso``, ``conteudo_id``) a history cursor stands for."""
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        moment, title = text.split("|")
        return as_utc(datetime.fromisoformat(moment)), int(title)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("cursor inválido; use o proximo_cursor da página anterior") from exc


class HistoryQuery(Query):
    """``GET /historico-visualizacao/{user_id}``: filters and one page, newest first.

    ``cursor`` is the ``proximo_cursor`` of the previous page.
    """

    tipo: Annotated[TitleKind | None, BeforeValidator(canonical_kind)] = None
    concluido: bool | None = None
    limit: int = Field(10, ge=1, le=MAX_PAGE_SIZE)
    cursor: Annotated[str, Field(max_length=100)] | None = None

    @field_validator("cursor")
    @classmethod
    def _readable_cursor(cls, value: str | None) -> str | None:
        if value is not None:
            read_history_cursor(value)
        return value

    @property
    def after(self) -> tuple[datetime, int] | None:
        """The viewing the page starts after (None: from the newest)."""
        return None if self.cursor is None else read_history_cursor(self.cursor)


class RecommendationsRequest(Command):
    """``POST /recomendacoes/gerar``: whose recommendations to recompute (body or query)."""

    user_id: UserId


class ViewingRecorded(Envelope, Viewing):
    """``registrar_visualizacao``: how far a user got in a title, at the moment it was sent."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    event_type: Literal["registrar_visualizacao"] = "registrar_visualizacao"


def decode_viewing(raw: bytes) -> ViewingRecorded:
    """Parse and validate a ``viewing_events`` value; raises ``ValueError`` if unusable."""
    return ViewingRecorded.model_validate_json(raw)


class RecommendationsRequested(Envelope):
    """``gerar_recomendacoes``: a client asks for the user's recommendations to be recomputed."""

    event_type: Literal["gerar_recomendacoes"] = "gerar_recomendacoes"


class Refresh(BaseModel):
    """A refresh the viewing agent asked for: a user's list to recompute, no outcome awaited.

    It has neither ``event_type`` nor ``correlation_id``: that is how a reader
    tells it from a client's request.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    user_id: UserId
    schema_version: SchemaVersion = SCHEMA_VERSION
    replays: Replays = 0


def decode_recommendation_request(raw: bytes) -> RecommendationsRequested | Refresh:
    """A client's request, or a refresh; raises ``ValueError`` if it is neither."""
    fields = orjson.loads(raw)
    if isinstance(fields, dict) and not {"event_type", "correlation_id"} & fields.keys():
        return Refresh.model_validate(fields)
    return RecommendationsRequested.model_validate(fields)


def refresh_request(user_id: int) -> bytes:
    """The value asking for ``user_id``'s recommendations to be recomputed (no outcome)."""
    return Refresh(user_id=user_id).model_dump_json().encode()
