"""Whose user is it: a user's viewings and sessions belong to the key that created the user.

Reads of another caller's user answer 404 (admins read every user), exactly
as ``GET /usuarios/{id}`` does. Heartbeats are the API's hottest write, so who
created a user is remembered for a while (a user never changes creator).
"""

from __future__ import annotations

from typing import Any

from cachetools import TTLCache

from app.application import platform
from web.auth import may_see
from web.database_reads import from_database
from web.errors import NotFound

services = platform()

#: Users whose creator is remembered, and for how long (seconds).
CACHED_USERS = 100_000
CACHE_TTL_S = 600.0
UNKNOWN_USER = "Usuário não encontrado"

_creators: TTLCache[int, str | None] = TTLCache(maxsize=CACHED_USERS, ttl=CACHE_TTL_S)


async def require_readable_user(request: Any, user_id: int) -> None:
    """404 unless the user exists and the caller may read it."""
    exists, creator = await _creator(user_id)
    if not exists or not may_see(request, creator):
        raise NotFound(UNKNOWN_USER)


async def refuse_other_callers_user(
    request: Any, user_id: int, not_yours: str = UNKNOWN_USER
) -> None:
    """404 (saying ``not_yours``) when the user exists and is another caller's.

    An unknown user passes: that is a request the agent refuses with an
    ``error`` status, as for every other command naming a user.
    """
    exists, creator = await _creator(user_id)
    if exists and not may_see(request, creator):
        raise NotFound(not_yours)


async def _creator(user_id: int) -> tuple[bool, str | None]:
    if user_id in _creators:
        return True, _creators[user_id]
    user = await from_database(lambda: services.database.find_user(user_id))
    if user is None:  # an unknown user may be created any moment: not remembered
        return False, None
    _creators[user_id] = user.criado_por
    return True, user.criado_por
