"""The events on ``user_events`` and ``response_events``, and their wire format.

A request event is the contract's flat JSON object: an envelope (``event_type``,
``correlation_id``, ``timestamp``, ``source``, ``target``, ``user_id``,
``schema_version``, ``replays``) followed by the command's fields. The models
below reuse the command models of :mod:`app.models`, so an event is valid
exactly when its command would be.

Versions: every event and outcome this code writes carries ``schema_version``
(:data:`SCHEMA_VERSION`). Topics outlive code, so readers take an event
without it as version 1 (everything published before the field existed) and
refuse one newer than they know: it is dead-lettered with that reason, and can
be replayed once the reader is upgraded (``faust -A app dead-letters replay``).
The JSON Schemas of every version are published under ``docs/events/``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal, TypeAlias

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter

from app.clock import iso_now, iso_utc, utc_now
from app.models import (
    NewUser,
    Payment,
    Preferences,
    SubscriptionChange,
    UserId,
    UtcDateTime,
)

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
    #: supersedes an earlier final status (:meth:`app.status_record.StatusRecord.may_replace`).
    replays: Replays = 0


class UserCreated(Envelope, NewUser):
    """``criar_usuario``: a new account with its server-assigned ``user_id``."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    event_type: Literal["criar_usuario"] = "criar_usuario"
    data_criacao: UtcDateTime = Field(default_factory=utc_now)


class SubscriptionUpdated(Envelope, SubscriptionChange):
    """``atualizar_assinatura``: the user's current subscription, created or replaced."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    event_type: Literal["atualizar_assinatura"] = "atualizar_assinatura"


class PaymentMade(Envelope, Payment):
    """``pagamento_realizado``: one payment, applied exactly once."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    event_type: Literal["pagamento_realizado"] = "pagamento_realizado"


class PreferencesUpdated(Envelope):
    """``atualizar_config``: the user's preferences, created or replaced."""

    event_type: Literal["atualizar_config"] = "atualizar_config"
    preferencias: Preferences


#: The envelope's field names: what an event adds around its command's fields.
ENVELOPE_FIELDS = frozenset(Envelope.model_fields)

UserEvent: TypeAlias = Annotated[
    UserCreated | SubscriptionUpdated | PaymentMade | PreferencesUpdated,
    Field(discriminator="event_type"),
]
_user_event_adapter: TypeAdapter[UserEvent] = TypeAdapter(UserEvent)


class Outcome(BaseModel):
    """``response``: the outcome of one request event, keyed by its correlation id.

    Built as a plain dict on the hot path (:func:`response_event`,
    :func:`refusal_response`); this model describes it for the published
    schema, and the tests hold the two together.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: Literal["response"] = "response"
    schema_version: SchemaVersion = SCHEMA_VERSION
    correlation_id: CorrelationId
    original_event_type: str | None = Field(description="O event_type da requisição")
    timestamp: UtcDateTime = Field(description="Quando o resultado foi produzido")
    request_timestamp: str | None = Field(description="O timestamp da requisição (ISO 8601)")
    source: str = RESPONSE_SOURCE
    target: str = RESPONSE_TARGET
    status: Literal["success", "error"]
    message: str = Field(description="O resultado, em português")
    user_id: int | None
    requested_by: str | None = Field(None, description="O nome da chave de API que pediu")
    replays: Replays = 0
    dados: dict[str, Any] | None = Field(
        None, description="Os campos do comando (ausente quando o evento era inválido)"
    )


def encode_event(event: Envelope) -> bytes:
    """The event as the contract's flat JSON object, ``event_type`` first."""
    return orjson.dumps({"event_type": event.event_type, **event.model_dump(mode="json")})


def command_fields(event: Envelope) -> dict[str, Any]:
    """The command's fields of ``event``, as JSON values, without the envelope."""
    return event.model_dump(mode="json", exclude=set(ENVELOPE_FIELDS))


def decode_user_event(raw: bytes) -> UserEvent:
    """Parse and validate a ``user_events`` value; raises ``ValueError`` if unusable."""
    return _user_event_adapter.validate_json(raw)


def response_event(
    request: Envelope, status: Literal["success", "error"], message: str
) -> dict[str, Any]:
    """The outcome of ``request`` as a ``response_events`` value.

    It repeats the request's command fields under ``dados`` (nested, so that a
    payment's own ``status`` cannot clash with the outcome's), and carries
    ``request_timestamp`` so the processing latency can be charted.
    """
    return {
        **_outcome(
            request.correlation_id,
            request.event_type,
            iso_utc(request.timestamp),
            status,
            message,
            request.user_id,
        ),
        "requested_by": request.requested_by,
        "replays": request.replays,
        "dados": command_fields(request),
    }


def refusal_response(raw: bytes, reason: str) -> dict[str, Any] | None:
    """An ``error`` outcome for an event that failed validation.

    Only when the event names a well-formed correlation id, so its requester
    sees a final status; without one there is nobody to answer.
    """
    try:
        fields = orjson.loads(raw)
        correlation_id = check_uuid(fields["correlation_id"])
    except (orjson.JSONDecodeError, TypeError, KeyError, ValueError, AttributeError):
        return None
    user_id = fields.get("user_id")
    event_type = fields.get("event_type")
    timestamp = fields.get("timestamp")
    outcome = _outcome(
        correlation_id,
        event_type if isinstance(event_type, str) else None,
        timestamp if isinstance(timestamp, str) else None,
        "error",
        f"Evento inválido: {reason}",
        user_id if isinstance(user_id, int) else None,
    )
    return {**outcome, "replays": replays_in(fields)}


def _outcome(
    correlation_id: str,
    original_event_type: str | None,
    request_timestamp: str | None,
    status: Literal["success", "error"],
    message: str,
    user_id: int | None,
) -> dict[str, Any]:
    return {
        "event_type": "response",
        "schema_version": SCHEMA_VERSION,
        "correlation_id": correlation_id,
        "original_event_type": original_event_type,
        "timestamp": iso_now(),
        "request_timestamp": request_timestamp,
        "source": RESPONSE_SOURCE,
        "target": RESPONSE_TARGET,
        "status": status,
        "message": message,
        "user_id": user_id,
    }
