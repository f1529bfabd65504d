"""PostgreSQL reads from a view: a 503 (retry) instead of a crash while it is unavailable."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from app.application import platform
from app.storage.pool import TRANSIENT_ERRORS
from web.errors import Unavailable

services = platform()

T = TypeVar("T")


async def from_database(read: Callable[[], Awaitable[T]]) -> T:
    """``read()``'s result; 503 (retry) while PostgreSQL is starting or unreachable."""
    if not services.database.is_ready:
        raise Unavailable("Banco de dados indisponível, tente novamente")
    try:
        return await read()
    except TRANSIENT_ERRORS as exc:
        raise Unavailable("Banco de dados indisponível, tente novamente") from exc
