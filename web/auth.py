"""Authentication, scopes and rate limits for every API request (aiohttp middleware).

A caller presents its key as ``X-API-Key: <key>`` or ``Authorization: Bearer
<key>``. POSTs need the ``write`` scope, reads need ``read``, operator views
need ``admin``, ``/metrics`` needs ``metrics`` (held by admins and by the
scraper's token, which Prometheus presents as ``Authorization: Bearer``); the banner, health, docs, OpenAPI spec and the dashboard's
static files are public. Answers: 401 without a valid key, 403 with a key
lacking the scope, 429 (with ``Retry-After``) over the key's rate. The
identified key is kept on the request for object-level checks (a caller
reads only its own statuses and trails).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any, ClassVar

from aiohttp import web

from app.api_keys import ApiKey, KeyRing
from web.errors import ApiError
from web.rate_limit import RateLimiter, retry_after_header

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CALLER: web.RequestKey[ApiKey] = web.RequestKey("caller", ApiKey)

PUBLIC_PATHS = frozenset({"/", "/health", "/openapi.json", "/favicon.ico"})
PUBLIC_PREFIXES = ("/docs", "/dashboard")
METRICS_PATH = "/metrics"
ADMIN_PREFIXES = ("/api/",)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Unauthorized(ApiError):
    """401: no key, or a key nobody configured."""

    status = HTTPStatus.UNAUTHORIZED
    message = "Chave de API ausente ou inválida (envie X-API-Key ou Authorization: Bearer)"
    default_headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": 'Bearer realm="api"'}


class Forbidden(ApiError):
    """403: a valid key without the scope this request needs."""

    status = HTTPStatus.FORBIDDEN
    message = "Chave de API sem permissão para esta operação"


class TooManyRequests(ApiError):
    """429: over the key's rate; ``Retry-After`` says when to come back."""

    status = HTTPStatus.TOO_MANY_REQUESTS
    message = "Limite de requisições excedido, tente novamente em instantes"

    def __init__(self, wait_s: float) -> None:
        super().__init__(headers={"Retry-After": retry_after_header(wait_s)})


def required_scope(method: str, path: str) -> str | None:
    """The scope a request needs, or ``None`` for public ones."""
    if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
        return None
    if path == METRICS_PATH:
        return "metrics"
    if path.startswith(ADMIN_PREFIXES):
        return "admin"
    return "read" if method in READ_METHODS else "write"


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key from ``X-API-Key`` or a Bearer ``Authorization`` header."""
    if key := headers.get("X-API-Key"):
        return key.strip()
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def authentication(key_ring: KeyRing, limiter: RateLimiter) -> Any:
    """The middleware checking keys against ``key_ring`` and rates in ``limiter``."""

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        scope = required_scope(request.method, request.path)
        if scope is None:
            return await handler(request)
        secret = presented_key(request.headers)
        caller = key_ring.identify(secret) if secret else None
        if caller is None:
            raise Unauthorized()
        if not caller.allows(scope):
            raise Forbidden()
        if wait_s := limiter.acquire(caller.name, caller.rate_per_s):
            raise TooManyRequests(wait_s)
        request[CALLER] = caller
        return await handler(request)

    return authenticate


def caller_of(request: Any) -> ApiKey | None:
    """The authenticated caller of a request (``None`` on public routes)."""
    return request.get(CALLER)


def caller_name(request: Any) -> str:
    """The name of the authenticated caller; 401 if there is none."""
    caller = caller_of(request)
    if caller is None:
        raise Unauthorized()
    return caller.name


def may_see(request: Any, owner: str | None) -> bool:
    """Whether the caller may read an object made by ``owner`` (admins see all)."""
    caller = caller_of(request)
    return caller is not None and (caller.allows("admin") or caller.name == owner)


def visible_owner(request: Any) -> str | None:
    """Whose objects a listing shows the caller: ``None`` (everyone's) for admins, else its own."""
    caller = caller_of(request)
    if caller is None:
        raise Unauthorized()
    return None if caller.allows("admin") else caller.name
