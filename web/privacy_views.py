"""``GET /usuarios/{id}/dados``: everything the platform holds about one person (LGPD art. 18 V).

A machine-readable JSON export: the profile, subscription, preferences,
payments and viewing history from PostgreSQL, the sessions and
recommendations from the worker that owns the user's partition of their
tables (the read is routed there, as ``GET /sessoes/usuario/{id}`` is), and
the person's events in the event log (masked, as the log keeps them). For
the caller that created the user, or an admin; 404 for anyone else, and for
a user that does not exist or was erased. ``DELETE /usuarios/{id}`` (the
erasure) is in :mod:`web.accounts_views`; ``docs/privacy.md`` explains both.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from faust.web import Request, Response, View

from app.application import platform
from app.clock import iso_now
from app.eventlog.search_index import SearchUnavailable
from app.kafka.topics import user_key
from tables.recommendations_table import recommendations
from tables.sessions_table import stored_sessions
from web.auth import may_see
from web.database_reads import from_database
from web.errors import NotFound, Unavailable
from web.intake import path_user_id
from web.responses import json_response
from web.sessions_views import session_route

services = platform()

EXPORT_FORMAT = "lgpd-export/1"


@services.app.page("/usuarios/{user_id}/dados")
class PersonalDataView(View):
    """``GET /usuarios/{id}/dados``: the person's data from every store, as one JSON document."""

    async def get(self, request: Request, user_id: str) -> Response | web.Response:
        """Consumes a user id; produces the export (200), routed to the owner of the user's tables.

        503 while a store it reads is unavailable, or the tables are recovering.
        """
        uid = path_user_id(user_id)
        known = await from_database(lambda: services.database.find_user(uid))
        if known is None or not may_see(request, known.criado_por):
            raise NotFound("Usuário não encontrado")

        async def from_owner() -> web.Response:
            return await _export(uid)

        async def from_copy(why: str) -> web.Response:
            raise Unavailable(why)

        return await session_route.answer(user_key(uid), self, request, from_owner, from_copy)


async def _export(user_id: int) -> web.Response:
    held = await from_database(lambda: services.database.export_user(user_id))
    if held is None:
        raise NotFound("Usuário não encontrado")
    try:
        events = await services.search.user_documents(user_id)
    except SearchUnavailable as exc:
        raise Unavailable("Log de eventos indisponível, tente novamente") from exc
    return json_response(
        {
            "formato": EXPORT_FORMAT,
            "gerado_em": iso_now(),
            **held,
            **_tables(user_id),
            "eventos": events,
        }
    )


def _tables(user_id: int) -> dict[str, Any]:
    """What this worker's tables hold for the user (it owns the user's partition)."""
    listed = recommendations.get(user_key(user_id))
    return {
        "sessoes": stored_sessions(user_id).model_dump(mode="json"),
        "recomendacoes": listed,
    }
