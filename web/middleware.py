"""aiohttp middleware: every error leaves the API as JSON, never as HTML or text.

Handles our :class:`~web.errors.ApiError`s, what aiohttp raises around the
views (404 unknown path, 405, 413 body too large), and anything unexpected
(500, logged with its traceback, no internals leaked).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from web.errors import ApiError
from web.responses import json_response

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_MESSAGES = {
    404: "Recurso não encontrado",
    405: "Método não permitido",
    413: "Corpo da requisição grande demais",
}


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answers API errors, HTTP errors raised by aiohttp, and crashes, as JSON."""
    try:
        return await handler(request)
    except ApiError as exc:
        return json_response(exc.body, status=exc.status, headers=exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = _MESSAGES.get(exc.status, exc.reason)
        return json_response({"error": message}, status=exc.status, headers=_kept(exc))
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_response({"error": "Erro interno"}, status=500)


def _kept(exc: web.HTTPException) -> dict[str, str]:
    return {name: exc.headers[name] for name in ("Allow", "Retry-After") if name in exc.headers}
