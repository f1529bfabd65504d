"""Viewing sessions (``/sessoes``): the commands, and their events on ``session_events``.

Each event is an :class:`app.requests.envelope.Envelope` in the contract's
flat JSON form, keyed by user id like ``user_events``: one user's session
commands stay in order on one partition, the partition of the session table
that holds the user's sessions. The rules that apply them are in
:mod:`app.viewing.sessions`.

A session id is ``{user_id}-{correlation_id}``, the correlation id of the
request that opened it: it names its user, so later commands on the session
are keyed and routed by user, and a request sent again with the same
``Idempotency-Key`` (same correlation id) names the same session, opened once.

One event is not a client's: :class:`SessionsErased`, sent by the accounts
agent when it erases a person (``docs/privacy.md``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    model_validator,
)

from app.requests.envelope import Envelope
from app.requests.fields import MAX_USER_ID, Command, ShortText, UserId

Device = Literal["Android", "iOS", "Web", "Smart TV", "Console"]
#: ``{user_id}-{uuid}``: the user id first, so that every command on a session
#: can be keyed and routed by its user; the UUID in canonical (lower-case) form.
SESSION_ID_PATTERN = (
    r"^([1-9][0-9]{0,15})-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
_SESSION_ID = re.compile(SESSION_ID_PATTERN)
MAX_SESSION_ID_LENGTH = len(str(MAX_USER_ID)) + 1 + 36
#: Filled in with demo values by the API when a request leaves them out.
DEMO_SESSION_FIELDS = ("dispositivo", "localizacao")


def session_user_id(session_id: str) -> int:
    """The user a session id belongs to; ``ValueError`` if it is not a session id."""
    match = _SESSION_ID.fullmatch(session_id)
    if match is None or int(match.group(1)) > MAX_USER_ID:
        raise ValueError("session_id deve ter a forma {user_id}-{uuid}")
    return int(match.group(1))


def check_session_id(value: str) -> str:
    """A well-formed session id (see :func:`session_user_id`)."""
    session_user_id(value)
    return value


SessionId = Annotated[
    str,
    Field(max_length=MAX_SESSION_ID_LENGTH, pattern=SESSION_ID_PATTERN),
    AfterValidator(check_session_id),
]


def _demo_fields_optional(schema: dict[str, Any]) -> None:
    # The API fills them in, so a client may leave them out (the spec says so).
    schema["required"] = [name for name in schema["required"] if name not in DEMO_SESSION_FIELDS]


class NewSession(Command):
    """``POST /sessoes``: a viewing session to open for ``user_id`` on ``dispositivo``.

    ``dispositivo`` and ``localizacao`` get demo values when the request leaves them out.
    """

    model_config = ConfigDict(json_schema_extra=_demo_fields_optional)

    user_id: UserId
    dispositivo: Device
    localizacao: ShortText


class SessionQuery(Command):
    """``GET /sessoes/usuario/{user_id}``: only the active sessions (default), or all kept."""

    ativas_apenas: bool = True


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


class SessionsErased(Envelope):
    """``apagar_sessoes``: forget every session of the user, who was erased (no outcome).

    Sent by the accounts agent under the erasure's correlation id; the
    erasure's own outcome is the request's final status.
    """

    event_type: Literal["apagar_sessoes"] = "apagar_sessoes"


SessionEvent: TypeAlias = Annotated[
    SessionOpened | SessionActivity | SessionEnded, Field(discriminator="event_type")
]
#: Every event on ``session_events``: the clients' commands and the erasures' forgetting.
SessionTopicEvent: TypeAlias = Annotated[
    SessionOpened | SessionActivity | SessionEnded | SessionsErased,
    Field(discriminator="event_type"),
]
_session_event_adapter: TypeAdapter[SessionTopicEvent] = TypeAdapter(SessionTopicEvent)


def decode_session_event(raw: bytes) -> SessionTopicEvent:
    """Parse and validate a ``session_events`` value; raises ``ValueError`` if unusable."""
    return _session_event_adapter.validate_json(raw)
