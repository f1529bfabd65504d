"""The outcome that answers a request, the words it says, and the status it gives.

An agent answers every request event with one outcome on ``response_events``
(keyed by correlation id): ``success`` or ``error`` and a Portuguese message
(:func:`describe`). The status agent turns each outcome into the request's
:class:`StatusRecord`, the table stores its JSON form, ``GET /status`` answers
it (or a pending one for an id still in flight, or one the ledger implies:
:func:`describe_code`), and the OpenAPI spec documents it. One module for
the whole path, so the view reads the same words the agents write.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)

from app.clock import iso_now, iso_utc
from app.requests.envelope import (
    RESPONSE_SOURCE,
    RESPONSE_TARGET,
    SCHEMA_VERSION,
    CorrelationId,
    Envelope,
    Replays,
    SchemaVersion,
    check_uuid,
    command_fields,
    replays_in,
)
from app.requests.fields import UtcDateTime
from app.sealing import PERSONAL_FIELDS


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


def response_event(
    request: Envelope, status: Literal["success", "error"], message: str
) -> dict[str, Any]:
    """The outcome of ``request`` as a ``response_events`` value.

    It repeats the request's command fields under ``dados`` (nested, so that a
    payment's own ``status`` cannot clash with the outcome's), except personal
    ones (:data:`app.sealing.PERSONAL_FIELDS`: an outcome is not sealed), and carries
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
        "dados": {
            name: value
            for name, value in command_fields(request).items()
            if name not in PERSONAL_FIELDS
        },
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


# ---------- the words an outcome says ----------

Status = Literal["success", "error"]

_SUCCESS_MESSAGES = {
    "criar_usuario": "Usuário criado com sucesso",
    "atualizar_assinatura": "Assinatura atualizada com sucesso",
    "pagamento_realizado": "Pagamento registrado com sucesso",
    "atualizar_config": "Configurações atualizadas com sucesso",
    "registrar_visualizacao": "Visualização registrada com sucesso",
    "excluir_usuario": "Dados pessoais do usuário apagados",
}
_ERROR_MESSAGES = {
    "email_taken": "E-mail já cadastrado para outro usuário",
    "cpf_taken": "CPF já cadastrado para outro usuário",
    "user_exists": "Usuário {user_id} já existe",
    "user_not_found": "Usuário {user_id} não encontrado",
    "title_not_found": "Conteúdo {conteudo_id} não encontrado no catálogo",
    "invalid": "Dados inválidos para {event_type}",
}


def describe(event: Envelope, outcome: str) -> tuple[Status, str]:
    """The status and Portuguese message for ``outcome`` of ``event``."""
    return describe_code(
        event.event_type,
        outcome,
        user_id=event.user_id,
        conteudo_id=getattr(event, "conteudo_id", None),
    )


def describe_code(event_type: str, outcome: str, **fields: object) -> tuple[Status, str]:
    """The status and message for ``outcome`` of an event of ``event_type`` (e.g. from the ledger).

    A field the message names but ``fields`` lacks reads as "?".
    """
    if outcome == "applied":
        return "success", _SUCCESS_MESSAGES.get(event_type, "Evento processado com sucesso")
    template = _ERROR_MESSAGES.get(outcome, _ERROR_MESSAGES["invalid"])
    return "error", template.format_map(_Fields(fields, event_type=event_type))


class _Fields(dict[str, object]):
    """Message fields; a missing one reads as "?" rather than failing."""

    def __missing__(self, key: str) -> str:
        return "?"


# ---------- the status an outcome gives ----------

PENDING = "pendente"
SUCCESS = "success"
ERROR = "error"
FINAL_STATUSES = frozenset({SUCCESS, ERROR})
PENDING_MESSAGE = "Requisição em processamento"


class StatusRecord(BaseModel):
    """``GET /status/{correlation_id}``: pending, or the final outcome of the request."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    correlation_id: str = Field(description="O id devolvido pelo 202")
    status: Literal["pendente", "success", "error"]
    message: str | None = Field(default=None, description="O resultado, em português")
    original_event_type: str | None = Field(
        default=None, description="O tipo do evento da requisição"
    )
    user_id: int | None = None
    requested_at: str | None = Field(
        default=None, description="Quando a API aceitou (ISO 8601, UTC)"
    )
    processed_at: str | None = Field(default=None, description="Quando o resultado foi produzido")
    requested_by: str | None = Field(default=None, description="O nome da chave de API que pediu")
    replays: int = Field(
        default=0, ge=0, description="Quantas vezes o evento foi reenviado das dead letters"
    )

    @property
    def is_final(self) -> bool:
        """Whether the request has its outcome (it never changes afterwards)."""
        return self.status in FINAL_STATUSES

    @classmethod
    def from_response(cls, response: dict[str, Any]) -> StatusRecord:
        """The status an outcome (a parsed ``response_events`` value) gives its request."""
        return cls(
            correlation_id=response["correlation_id"],
            status=response["status"],
            message=response.get("message"),
            original_event_type=response.get("original_event_type"),
            user_id=response.get("user_id"),
            requested_at=response.get("request_timestamp"),
            processed_at=response.get("timestamp"),
            requested_by=response.get("requested_by"),
            replays=replays_in(response),
        )

    @classmethod
    def pending(
        cls, correlation_id: str, requested_at: datetime | None, requested_by: str
    ) -> StatusRecord:
        """The status of a request accepted but not processed yet."""
        return cls(
            correlation_id=correlation_id,
            status="pendente",
            message=PENDING_MESSAGE,
            requested_at=None if requested_at is None else iso_utc(requested_at),
            requested_by=requested_by,
        )

    @classmethod
    def recorded(
        cls,
        correlation_id: str,
        outcome: tuple[Literal["success", "error"], str],
        original_event_type: str,
        user_id: int,
        requested_at: datetime | None,
        processed_at: datetime,
        requested_by: str,
    ) -> StatusRecord:
        """The status the ledger implies for an event applied long ago (``outcome``: status, message)."""
        status, message = outcome
        return cls(
            correlation_id=correlation_id,
            status=status,
            message=message,
            original_event_type=original_event_type,
            user_id=user_id,
            requested_at=None if requested_at is None else iso_utc(requested_at),
            processed_at=iso_utc(processed_at),
            requested_by=requested_by,
        )

    def as_json(self) -> dict[str, Any]:
        """The record as the table stores it and the API answers it (every field, null if unknown)."""
        return self.model_dump(mode="json")

    def may_replace(self, current: StatusRecord | None) -> bool:
        """Whether this record may be stored over ``current``: a final status, once per replay.

        A final status never changes, except by an operator's replay of the
        event from the dead letters: the outcome of a later replay (a higher
        ``replays``) supersedes the one before, so a request refused, fixed
        and replayed ends with the status of its one effect.
        """
        if not self.is_final:
            return False
        return current is None or not current.is_final or self.replays > current.replays
