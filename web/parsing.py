"""Turning a request body into a validated command.

No body -> demo data (the original's behaviour, so ``curl -X POST`` works);
a body -> the client's data, strictly validated; 400 / 422 otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

import orjson
from pydantic import ValidationError

from app.requests.fields import MAX_USER_ID, Command
from app.viewing.session_commands import session_user_id
from web.errors import InvalidFields, MalformedBody, NotFound

C = TypeVar("C", bound=Command)


class BodySource(Protocol):
    """What parsing needs of a request: its raw body."""

    async def read(self) -> bytes: ...


async def read_command(
    request: BodySource,
    model: type[C],
    demo: Callable[[], C],
    fallback: Mapping[str, Any] | None = None,
) -> C:
    """The command in the body; ``fallback`` fields (query) or ``demo()`` if none."""
    fields = await read_fields(request, fallback)
    return demo() if fields is None else validate(model, fields)


async def read_fields(
    request: BodySource, fallback: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """The body's JSON object, else the ``fallback`` fields (query), else None (no input)."""
    body = await request.read()
    if body.strip():
        return _json_object(body)
    return dict(fallback) if fallback else None


async def read_with_demo(
    request: BodySource,
    model: type[C],
    demo_fields: Callable[[], dict[str, Any]],
    query: Mapping[str, Any],
) -> C:
    """The command from the body (or else the query), each missing field from ``demo_fields()``.

    The original's viewing paths filled in demo data field by field, so a
    client may send only what it knows; a field it sends is validated as is.
    """
    body = await request.read()
    given = _json_object(body) if body.strip() else dict(query)
    return validate(model, {**demo_fields(), **given})


def validate(model: type[C], fields: dict[str, Any]) -> C:
    """``model`` built from ``fields``; 422 listing every broken rule otherwise."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise InvalidFields(exc) from exc


def path_id(raw: str, maximum: int, not_found: NotFound) -> int:
    """A positive id from the path; ``not_found`` when it cannot name anything."""
    # The length check first: int() refuses strings of over 4,300 digits.
    digits = raw.isascii() and raw.isdigit() and len(raw) <= len(str(maximum))
    if not digits or not 1 <= int(raw) <= maximum:
        raise not_found
    return int(raw)


def path_user_id(raw: str) -> int:
    """A user id from the path; 404 when it cannot name a user."""
    return path_id(raw, MAX_USER_ID, NotFound("Usuário não encontrado"))


def path_session_user_id(raw: str) -> int:
    """The user of the session id in the path; 404 when it cannot name a session."""
    try:
        return session_user_id(raw)
    except ValueError:
        raise NotFound("Sessão não encontrada") from None


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody() from exc
    if not isinstance(parsed, dict):
        raise MalformedBody()
    return parsed
