"""Reading PostgreSQL from a view: a 503 (retry) rather than a 500 while it is unavailable."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from app.application import database
from app.database import TRANSIENT_ERRORS
from web.errors import Unavailable

T = TypeVar("T")
UNAVAILABLE = "Banco de dados indisponível, tente novamente"


async def from_database(read: Callable[[], Awaitable[T]]) -> T:
    """``read()``'s result; 503 (retry) while PostgreSQL is starting or unreachable."""
    if not database.is_ready:
        raise Unavailable(UNAVAILABLE)
    try:
        return await read()
    except TRANSIENT_ERRORS as exc:
        raise Unavailable(UNAVAILABLE) from exc
