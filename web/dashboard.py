"""The operators' dashboard: static files under ``web/dashboard/``, served at ``/dashboard/``.

Plain HTML, CSS and JavaScript (no build step, nothing from a CDN). The page
reads ``/health`` and ``/api/metrics/summary`` and sends demo requests to the
API, all on the origin that served it; ``/dashboard/kafka`` (the Kafka view)
and ``/dashboard/logs`` (the log explorer) are pages of their own. ``/dashboard``
redirects to ``/dashboard/``; compose also publishes it on port 8089 through
nginx, and natively the worker serves it there itself (``web.dashboard_port``).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from app.application import platform

services = platform()

DASHBOARD_DIR = Path(__file__).resolve().parent / "dashboard"
PREFIX = "/dashboard"


async def dashboard_page(request: web.Request) -> web.FileResponse:
    """``GET /dashboard/``: the page itself, never cached (it is small)."""
    return _page("index.html")


async def kafka_page(request: web.Request) -> web.FileResponse:
    """``GET /dashboard/kafka``: topics, consumer groups and messages (Kafka UI's job)."""
    return _page("kafka.html")


async def logs_page(request: web.Request) -> web.FileResponse:
    """``GET /dashboard/logs``: the log explorer over ``system_logs`` (Kibana's job)."""
    return _page("logs.html")


def _page(name: str) -> web.FileResponse:
    return web.FileResponse(DASHBOARD_DIR / name, headers={"Cache-Control": "no-cache"})


async def to_dashboard(request: web.Request) -> web.StreamResponse:
    """``GET /dashboard``: redirects to ``/dashboard/`` so relative asset URLs resolve."""
    raise web.HTTPFound(f"{PREFIX}/")


def mount(router: web.UrlDispatcher) -> None:
    """Add the page, the redirect and the assets to ``router`` (page first: it wins)."""
    router.add_get(f"{PREFIX}/", dashboard_page, name="dashboard")
    # Plain routes win over the assets' prefix whatever their order (aiohttp
    # tries the longest matching path first).
    router.add_get(f"{PREFIX}/kafka", kafka_page, name="dashboard-kafka")
    router.add_get(f"{PREFIX}/logs", logs_page, name="dashboard-logs")
    router.add_get(PREFIX, to_dashboard, name="dashboard-redirect")
    router.add_static(PREFIX, DASHBOARD_DIR, name="dashboard-assets")


mount(services.app.web.web_app.router)  # type: ignore[attr-defined]
