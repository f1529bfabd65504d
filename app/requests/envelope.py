"""What every request event carries, whatever its type, and its wire format.

A request event is the contract's flat JSON object: an envelope (``event_type``,
``correlation_id``, ``timestamp``, ``source``, ``target``, ``user_id``,
``schema_version``, ``replays``) followed by the command's fields. Each
concept's events extend :class:`Envelope` with its command
(:mod:`app.accounts.commands`, :mod:`app.viewing.viewing_events`,
:mod:`app.viewing.session_commands`), so an event is valid exactly when its
command would be.

Versions: every event and outcome this code writes carries ``schema_version``
(:data:`SCHEMA_VERSION`). Topics outlive code, so readers take an event
without it as version 1 (everything published before the field existed) and
refuse one newer than they know: it is dead-lettered with that reason, and can
be replayed once the reader is upgraded (``faust -A app dead-letters replay``).
The JSON Schemas of every version are published under ``docs/events/``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
)

from app.clock import utc_now
from app.requests.fields import UserId, UtcDateTime
from app.sealing import seal_fields

EVENT_SOURCE = "api"
EVENT_TARGET = "processor"
RESPONSE_SOURCE = "processor"
RESPONSE_TARGET = "api"

#: The version of the event formats this code writes (one for every topic).
SCHEMA_VERSION = 1
SchemaVersion = Annotated[
    int,
    Field(
        ge=1,
        le=SCHEMA_VERSION,
        description="Versão do formato do evento; ausente nos eventos da versão 1",
    ),
]
#: How many times an operator re-sent the event from the dead letters.
Replays = Annotated[
    int, Field(ge=0, description="Quantas vezes o evento foi reenviado das dead letters")
]


def replays_in(fields: object) -> int:
    """The ``replays`` count of a parsed event, 0 when it has none (or a malformed one)."""
    value = fields.get("replays") if isinstance(fields, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return 0


def check_uuid(value: str) -> str:
    """A correlation id must be a UUID in its canonical text form."""
    if str(uuid.UUID(value)) != value:
        raise ValueError("correlation_id deve ser um UUID canônico")
    return value


CorrelationId = Annotated[
    str, Field(max_length=36, json_schema_extra={"format": "uuid"}), AfterValidator(check_uuid)
]


class Envelope(BaseModel):
    """Fields every request event carries, whatever its type (each type fixes ``event_type``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: str
    correlation_id: CorrelationId
    timestamp: UtcDateTime = Field(default_factory=utc_now)
    source: str = EVENT_SOURCE
    target: str = EVENT_TARGET
    user_id: UserId
    #: Name of the API key that made the request (never the key itself): only
    #: that caller, or an admin, may read the request's status and trail.
    requested_by: str | None = Field(None, max_length=64)
    schema_version: SchemaVersion = SCHEMA_VERSION
    #: Raised by each replay of a dead letter: the outcome of a later replay
    #: supersedes an earlier final status (:meth:`app.requests.outcomes.StatusRecord.may_replace`).
    replays: Replays = 0


#: The envelope's field names: what an event adds around its command's fields.
ENVELOPE_FIELDS = frozenset(Envelope.model_fields)


def encode_event(event: Envelope) -> bytes:
    """The event as the contract's flat JSON object, ``event_type`` first."""
    return orjson.dumps({"event_type": event.event_type, **event.model_dump(mode="json")})


def encode_sealed_event(event: Envelope, key: bytes) -> bytes:
    """The event as :func:`encode_event` writes it, its personal fields sealed with ``key``.

    The person's key (:mod:`app.sealing`): only a reader holding it sees them.
    """
    fields = seal_fields(key, event.user_id, event.model_dump(mode="json"))
    return orjson.dumps({"event_type": event.event_type, **fields})


def command_fields(event: Envelope) -> dict[str, Any]:
    """The command's fields of ``event``, as JSON values, without the envelope."""
    return event.model_dump(mode="json", exclude=set(ENVELOPE_FIELDS))
