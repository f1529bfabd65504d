"""The events of the viewing side: heartbeats, and requests for recommendations.

On ``viewing_events``, one event per heartbeat a player sends; on
``recommendation_requests``, a client's ``gerar_recomendacoes`` or a refresh
the viewing agent asks for when a user starts or finishes a title.

``registrar_visualizacao`` carries the envelope of every request event
(:class:`app.events.Envelope`) and the fields of the :class:`app.models.Viewing`
command, so an event is valid exactly when its command would be. Heartbeats
have a topic of their own (keyed by user id, like ``user_events``): they are
the platform's largest stream by far, and a backlog of them must delay neither
sign-ups nor payments; their agent applies a whole batch in one statement.
"""

from __future__ import annotations

from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict

from app.events import SCHEMA_VERSION, Envelope, Replays, SchemaVersion
from app.models import UserId, Viewing


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
