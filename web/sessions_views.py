"""Views under ``/sessoes``: viewing sessions opened, kept alive, ended, and listed.

Each command (POST, PUT, DELETE) produces one event on ``session_events``,
keyed by user id, and answers 202 with the ``correlation_id`` to poll; the
session agent (:mod:`agents.sessions_agent`) applies it to the session table and
gives it its outcome. The listing is read from that table on the worker that
owns the user's partition (:mod:`web.routing`).

A user's sessions are for the caller that created the user, or an admin:
anyone else gets 404, as for the user itself. A user that does not exist is
refused by the agent (the status says so), except by the listing, a 404.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web
from faust.web import Request, Response, View

from app.application import platform
from app.clock import utc_now
from app.kafka.topics import user_key
from app.requests.envelope import Envelope
from app.viewing.session_commands import (
    NewSession,
    SessionActivity,
    SessionEnded,
    SessionOpened,
    SessionQuery,
    session_id_of,
)
from app.viewing.sessions import SessionListing
from demo.people import demo_session_fields
from tables.sessions_table import sessions, stored_sessions
from web.errors import Unavailable
from web.intake import accept, envelope, path_session_user_id, path_user_id, read_fields, validate
from web.ownership import refuse_other_callers_user, require_readable_user
from web.responses import json_response
from web.routing import TableRoute, Unrouted

NO_SESSION = "Sessão não encontrada"

session_route = TableRoute(
    sessions,
    Unrouted(
        recovering="Sessões em recuperação",
        no_owner_yet="Sessões ainda não disponíveis neste worker",
        owner_down="Worker dono destas sessões indisponível",
    ),
)

services = platform()


@services.app.page("/sessoes")
class SessionsView(View):
    """``POST /sessoes`` {user_id, dispositivo, localizacao} (body or query) -> ``iniciar_sessao``."""

    async def post(self, request: Request) -> web.Response:
        """Consumes a user, a device and a place; produces ``iniciar_sessao``; answers 202.

        ``user_id`` is required; ``dispositivo`` (Android, iOS, Web, Smart TV,
        Console) and ``localizacao`` get demo values when missing. The session
        id, issued here, is ``{user_id}-{correlation_id}`` (``sessao.session_id``).
        The status ends in ``error`` when the user does not exist, has no
        subscription in force, or has its plan's screens in use already
        (Básico 1, Padrão 2, Premium 4), saying which. 404 for another
        caller's user.
        """
        given = await read_fields(request, request.query) or {}
        command = validate(NewSession, {**demo_session_fields(), **given})
        await refuse_other_callers_user(request, command.user_id)
        fields = envelope(request, command.user_id)
        event = SessionOpened(
            **fields,
            **command.model_dump(exclude={"user_id"}),
            session_id=session_id_of(command.user_id, fields["correlation_id"]),
        )
        return await _accept_session_command(event, "Abertura de sessão em processamento")


@services.app.page("/sessoes/{session_id}/atividade")
class SessionActivityView(View):
    """``PUT /sessoes/{session_id}/atividade`` -> ``registrar_atividade``."""

    async def put(self, request: Request, session_id: str) -> web.Response:
        """Consumes a session id; produces ``registrar_atividade``; answers 202.

        The session counts as active now: its idle timeout starts again. The
        status ends in ``error`` for a session unknown, refused, or already
        ended. 404 for a malformed session id, or another caller's user.
        """
        user_id = path_session_user_id(session_id)
        await refuse_other_callers_user(request, user_id, NO_SESSION)
        event = SessionActivity(**envelope(request, user_id), session_id=session_id)
        return await _accept_session_command(event, "Atividade da sessão em processamento")


@services.app.page("/sessoes/{session_id}")
class SessionView(View):
    """``DELETE /sessoes/{session_id}`` -> ``encerrar_sessao``."""

    async def delete(self, request: Request, session_id: str) -> web.Response:
        """Consumes a session id; produces ``encerrar_sessao``; answers 202.

        Ending an ended session keeps its first end (and succeeds). The status
        ends in ``error`` for a session unknown or refused. 404 for a
        malformed session id, or another caller's user.
        """
        user_id = path_session_user_id(session_id)
        await refuse_other_callers_user(request, user_id, NO_SESSION)
        event = SessionEnded(**envelope(request, user_id), session_id=session_id)
        return await _accept_session_command(event, "Encerramento da sessão em processamento")


@services.app.page("/sessoes/usuario/{user_id}")
class UserSessionsView(View):
    """``GET /sessoes/usuario/{user_id}?ativas_apenas=``: the user's sessions, from the table."""

    async def get(self, request: Request, user_id: str) -> Response | web.Response:
        """Consumes a user id; produces ``{user_id, sessoes}``, the latest opened first.

        Only the active sessions unless ``ativas_apenas=false``, which adds
        those that ended (``encerrada``) or expired (``inatividade``) within
        the last day. Each session's state is computed now: one idle for
        longer than the timeout reads as ended when it went idle. Answered by
        the worker owning the user's table partition, or, while that one
        cannot answer, by a worker keeping a copy of it; else 503. 404 for an
        unknown user, or another caller's.
        """
        uid = path_user_id(user_id)
        query = validate(SessionQuery, dict(request.query))

        async def from_owner() -> web.Response:
            return await listing(request, uid, query)

        async def from_copy(why: str) -> web.Response:
            if not session_route.holds_copy(user_key(uid)):
                raise Unavailable(f"{why}, tente novamente")
            return await listing(request, uid, query)

        return await session_route.answer(user_key(uid), self, request, from_owner, from_copy)


async def listing(request: Request, user_id: int, query: SessionQuery) -> web.Response:
    """The user's sessions as this worker's copy of the table holds them, as of now."""
    await require_readable_user(request, user_id)
    idle = timedelta(seconds=services.settings.session_idle_timeout_s)
    shown = stored_sessions(user_id).listing(utc_now(), idle, query.ativas_apenas)
    return json_response(SessionListing(user_id=user_id, sessoes=shown).model_dump(mode="json"))


async def _accept_session_command(event: Envelope, mensagem: str) -> web.Response:
    """Publish a session command on ``session_events`` and answer 202 with ``sessao``."""
    return await accept(event, mensagem, "sessao", topic=services.topics.session_events)
