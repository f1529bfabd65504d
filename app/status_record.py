"""The status of one accepted request, as the status table keeps it and ``GET /status`` shows it.

One model for the whole path: the status agent builds it from an outcome on
``response_events``, the table stores its JSON form, the view answers it (or
a pending one for an id still in flight), and the OpenAPI spec documents it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.clock import iso_utc
from app.events import replays_in

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
