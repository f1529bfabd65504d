"""The viewing history: heartbeats in (202), history and "continue watching" out (200).

``POST /historico-visualizacao`` produces one ``registrar_visualizacao`` event on
``viewing_events`` (keyed by user id) and answers 202; the reads come straight
from the state the viewing agent keeps in PostgreSQL, so any replica answers
them, and they survive restarts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from faust.web import Request, View

from app.application import platform
from app.requests.fields import MAX_PAGE_SIZE
from app.viewing.viewing_events import HistoryQuery, Viewing, ViewingRecorded, history_cursor
from demo.people import demo_viewing_fields
from web.database_reads import from_database
from web.intake import accept, envelope, path_user_id, read_with_demo, validate
from web.ownership import refuse_other_callers_user, require_readable_user
from web.responses import json_response

services = platform()

#: Titles "continue watching" lists at most.
CONTINUE_WATCHING_LIMIT = 20


@services.app.page("/historico-visualizacao")
class ViewingView(View):
    """``POST /historico-visualizacao``: one heartbeat of a player -> ``registrar_visualizacao``."""

    async def post(self, request: Request) -> web.Response:
        """Consumes a viewing (JSON body or query string); produces ``registrar_visualizacao``.

        ``user_id`` is required; any other missing field is demo data, as the
        original did. Answers 202 with ``visualizacao`` (the heartbeat as
        accepted, ``concluido`` when ``posicao >= 90``). An unknown user or
        title ends in an ``error`` status; another caller's user is a 404.
        """
        viewing = await read_with_demo(request, Viewing, demo_viewing_fields, request.query)
        await refuse_other_callers_user(request, viewing.user_id)
        event = ViewingRecorded(
            **envelope(request, viewing.user_id), **viewing.model_dump(exclude={"user_id"})
        )
        fields = {**viewing.model_dump(mode="json"), "concluido": viewing.concluido}
        return await accept(
            event,
            "Visualização em processamento",
            "visualizacao",
            fields,
            services.topics.viewing_events,
        )


@services.app.page("/historico-visualizacao/{user_id}")
class HistoryView(View):
    """``GET /historico-visualizacao/{user_id}?tipo=&concluido=&limit=&cursor=``."""

    async def get(self, request: Request, user_id: str) -> web.Response:
        """Consumes a user id and filters; produces ``{user_id, itens, proximo_cursor}``.

        One item per title the user watched (its latest state), newest first;
        ``limit`` 1-100 (default 10); ``proximo_cursor`` to send back as
        ``cursor`` for the next page, null on the last. 404 for an unknown user
        or another caller's; 422 lists every invalid parameter.
        """
        uid = path_user_id(user_id)
        query = validate(HistoryQuery, dict(request.query))
        await require_readable_user(request, uid)
        rows = await from_database(
            lambda: services.database.viewing_history(uid, query, query.limit + 1)
        )
        page = rows[: query.limit]
        following = _cursor_after(page[-1]) if len(rows) > query.limit else None
        return json_response({"user_id": uid, "itens": page, "proximo_cursor": following})


@services.app.page("/usuarios/{user_id}/continuar-assistindo")
class ContinueWatchingView(View):
    """``GET /usuarios/{user_id}/continuar-assistindo``: titles started and not finished."""

    async def get(self, request: Request, user_id: str) -> web.Response:
        """Consumes a user id; produces ``{user_id, itens}``, newest first.

        Each item has where to resume: ``posicao`` (percent) and
        ``retomar_em_segundos`` (that share of the title's duration). 404 for an
        unknown user or another caller's.
        """
        uid = path_user_id(user_id)
        await require_readable_user(request, uid)
        limit = min(CONTINUE_WATCHING_LIMIT, MAX_PAGE_SIZE)
        rows = await from_database(lambda: services.database.continue_watching(uid, limit))
        return json_response({"user_id": uid, "itens": [_with_resume_point(r) for r in rows]})


def _cursor_after(row: dict[str, Any]) -> str:
    return history_cursor(datetime.fromisoformat(row["ultimo_acesso"]), row["conteudo_id"])


def _with_resume_point(row: dict[str, Any]) -> dict[str, Any]:
    seconds = round(float(row["posicao"]) / 100 * row["duracao_minutos"] * 60)
    return {**row, "retomar_em_segundos": seconds}
