"""Errors a view raises; the ``json_errors`` middleware turns each into JSON.

Every error answer has ``error`` (what went wrong, in Portuguese, like the
contract's messages); a 422 adds ``campos``, one entry per broken field rule.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, ClassVar

from pydantic import ValidationError


class ApiError(Exception):
    """Base: an HTTP status, a message, and extra fields for the JSON body."""

    status: HTTPStatus = HTTPStatus.INTERNAL_SERVER_ERROR
    message: str = "Erro interno"
    default_headers: ClassVar[dict[str, str]] = {}

    def __init__(
        self, message: str | None = None, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(message or self.message)
        self.body: dict[str, Any] = {"error": message or self.message, **extra}
        self.headers = {**self.default_headers, **(headers or {})}


class MalformedBody(ApiError):
    """400: the body is not a JSON object."""

    status = HTTPStatus.BAD_REQUEST
    message = "Corpo da requisição não é um objeto JSON válido"


class BadHeader(ApiError):
    """400: a request header the API reads is malformed."""

    status = HTTPStatus.BAD_REQUEST
    message = "Cabeçalho inválido"


class InvalidFields(ApiError):
    """422: the body is JSON but some fields break their rules."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    message = "Dados inválidos"

    def __init__(self, exc: ValidationError | list[dict[str, str]]) -> None:
        super().__init__(campos=field_errors(exc) if isinstance(exc, ValidationError) else exc)

    @classmethod
    def of_field(cls, campo: str, erro: str) -> InvalidFields:
        """A 422 about one field, for a rule no model can know (e.g. a configured list)."""
        return cls([{"campo": campo, "erro": erro, "tipo": "value_error"}])


class NotFound(ApiError):
    """404: no such resource."""

    status = HTTPStatus.NOT_FOUND
    message = "Não encontrado"


class Unavailable(ApiError):
    """503: a dependency is down or still starting; retrying later will work."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    message = "Serviço temporariamente indisponível, tente novamente"
    default_headers: ClassVar[dict[str, str]] = {"Retry-After": "1"}


def field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """One ``{campo, erro, tipo}`` entry per broken rule, in a client-friendly form."""
    return [
        {
            "campo": ".".join(str(part) for part in error["loc"]) or "corpo",
            "erro": error["msg"].removeprefix("Value error, "),
            "tipo": error["type"],
        }
        for error in exc.errors(include_url=False)
    ]
