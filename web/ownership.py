"""Whose user is it: a user's viewings and sessions belong to the key that created the user.

Reads of another caller's user answer 404 (admins read every user), exactly
as ``GET /usuarios/{id}`` does. Heartbeats are the API's hottest write, so who
created a user is remembered for a while (a user never changes creator).
"""

from __future__ import annotations

import sys
from typing import Any

from app.application import platform
from web.auth import may_see
from web.database_reads import from_database
from web.errors import NotFound
from web.generational_cache import MISSING, GenerationalCache

services = platform()

#: Users whose creator is remembered, and for how long (seconds).
CACHED_USERS = 100_000
CACHE_TTL_S = 600.0
UNKNOWN_USER = "Usuário não encontrado"

_creators: GenerationalCache[int, str | None] = GenerationalCache(CACHED_USERS, CACHE_TTL_S)


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
    cached = _creators.get(user_id)
    if cached is not MISSING:
        return True, cached
    user = await from_database(lambda: services.database.find_user(user_id))
    if user is None:  # an unknown user may be created any moment: not remembered
        return False, None
    # A few callers create every user: one string per caller, not one per cached user.
    creator = sys.intern(user.criado_por) if user.criado_por is not None else None
    _creators.put(user_id, creator)
    return True, creator
