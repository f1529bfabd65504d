"""The dashboard on a port of its own (``DASHBOARD_PORT``): the contract's 8089 without compose.

Compose publishes the dashboard on 8089 through nginx, which proxies every
path to the app and sends ``/`` to ``/dashboard/``. Natively (``make run``,
``python start.py``) the worker does the same itself: its one aiohttp
application is also served on a second TCP site of the runner Faust made for
the API port, so every path answers on both ports, and ``/`` on the dashboard
port redirects to ``/dashboard/``. Off unless ``DASHBOARD_PORT`` is set; a port
already taken is logged and skipped (the dashboard stays at
``:API_PORT/dashboard/``), never fatal to the worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from app.application import platform
from web.dashboard import PREFIX

services = platform()

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def root_to_dashboard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """``GET /`` on the dashboard port redirects to the dashboard, as nginx does in compose."""
    if request.path == "/" and local_port(request) == services.settings.dashboard_port:
        raise web.HTTPFound(f"{PREFIX}/")
    return await handler(request)


def local_port(request: web.Request) -> int | None:
    """The port of this server that the request came in on."""
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    return int(sockname[1]) if isinstance(sockname, tuple) and len(sockname) >= 2 else None


@services.app.task
async def serve_dashboard_port() -> None:
    """Adds the dashboard port to the running web server (tasks start after it)."""
    port = services.settings.dashboard_port
    if port is None:
        return
    # Faust's aiohttp driver keeps its runner private; a second site of that
    # runner shares the application and is stopped with it at shutdown.
    runner: web.AppRunner = services.app.web._runner  # type: ignore[attr-defined]
    while runner.server is None:  # not set up yet (tasks normally start after it is)
        await asyncio.sleep(0.1)
    site = web.TCPSite(runner, services.app.conf.web_bind, port)
    try:
        await site.start()
    except OSError as exc:
        await site.stop()  # registered with the runner even though it never listened
        log.warning(
            "dashboard port %d not served (%s); use :%d%s/",
            port,
            exc,
            services.settings.web_port,
            PREFIX,
        )
        return
    log.info("dashboard also served on port %d (%s:%d/)", port, services.app.conf.web_bind, port)


services.app.web.web_app.middlewares.append(root_to_dashboard)  # type: ignore[attr-defined]
