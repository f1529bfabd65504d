"""The events on ``session_events``: viewing sessions opened, kept alive and ended.

Each is an :class:`app.events.Envelope` in the contract's flat JSON form,
keyed by user id like ``user_events``: one user's session commands stay in
order on one partition, the partition of the session table that holds the
user's sessions. The command's fields are :class:`app.models.NewSession`'s.

A session id is ``{user_id}-{correlation_id}``, the correlation id of the
request that opened it: it names its user, so later commands on the session
are keyed and routed by user, and a request sent again with the same
``Idempotency-Key`` (same correlation id) names the same session, opened once.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeAlias

from pydantic import ConfigDict, Field, TypeAdapter, model_validator

from app.events import Envelope
from app.models import NewSession, SessionId, session_user_id


def session_id_of(user_id: int, correlation_id: str) -> str:
    """The id of the session opened by request ``correlation_id`` for ``user_id``."""
    return f"{user_id}-{correlation_id}"


class SessionOpened(Envelope, NewSession):
    """``iniciar_sessao``: a session to open, if the user's plan has a screen free."""

    # Every field is present on the event: the API filled in the demo values.
    model_config = ConfigDict(extra="ignore", frozen=True, json_schema_extra=None)
    event_type: Literal["iniciar_sessao"] = "iniciar_sessao"
    session_id: SessionId

    @model_validator(mode="after")
    def _named_after_its_request(self) -> SessionOpened:
        if self.session_id != session_id_of(self.user_id, self.correlation_id):
            raise ValueError("session_id deve ser {user_id}-{correlation_id}")
        return self


class SessionCommand(Envelope):
    """A command on an open session, keyed by the user the session id names."""

    session_id: SessionId

    @model_validator(mode="after")
    def _keyed_by_its_user(self) -> SessionCommand:
        if session_user_id(self.session_id) != self.user_id:
            raise ValueError("session_id deve começar pelo user_id do evento")
        return self


class SessionActivity(SessionCommand):
    """``registrar_atividade``: the session is in use at the event's ``timestamp``."""

    event_type: Literal["registrar_atividade"] = "registrar_atividade"


class SessionEnded(SessionCommand):
    """``encerrar_sessao``: the session ends at the event's ``timestamp`` (if still open)."""

    event_type: Literal["encerrar_sessao"] = "encerrar_sessao"


SessionEvent: TypeAlias = Annotated[
    SessionOpened | SessionActivity | SessionEnded, Field(discriminator="event_type")
]
_session_event_adapter: TypeAdapter[SessionEvent] = TypeAdapter(SessionEvent)


def decode_session_event(raw: bytes) -> SessionEvent:
    """Parse and validate a ``session_events`` value; raises ``ValueError`` if unusable."""
    return _session_event_adapter.validate_json(raw)
