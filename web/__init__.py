"""HTTP edge: request parsing, views, middleware. Importing it registers the views.

Every role's worker imports this package (its health and metrics views live
here), so the middlewares that every answer goes through are installed here,
on the app's aiohttp application, before the server starts.
"""

from __future__ import annotations

import logging

from app.api_keys import load_key_ring
from app.application import platform
from web.access_log import AccessLog
from web.auth import authentication
from web.http_metrics import observing
from web.middleware import json_errors
from web.rate_limit import RateLimiter

services = platform()

log = logging.getLogger(__name__)


def install_middlewares() -> None:
    """Outermost first: metrics see every answer, errors become JSON, then auth."""
    key_ring = load_key_ring(
        services.settings.api_keys,
        services.settings.api_keys_file,
        services.settings.metrics_token_file,
    )
    if not len(key_ring):
        log.warning("no API key configured: every protected route will answer 401")
    access_log = AccessLog(services.settings.access_log_successes_per_s)
    middlewares = [observing(access_log), json_errors, authentication(key_ring, RateLimiter())]
    services.app.web.web_app.middlewares.extend(middlewares)  # type: ignore[attr-defined]


install_middlewares()
