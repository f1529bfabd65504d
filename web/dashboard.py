"""The operators' dashboard: static files under ``web/dashboard/``, served at ``/dashboard/``.

Plain HTML, CSS and JavaScript (no build step, nothing from a CDN). The page
reads ``/health`` and ``/api/metrics/summary`` and sends demo requests to the
API, all on the origin that served it. ``/dashboard`` redirects to
``/dashboard/``; compose also publishes it on port 8089 through nginx.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from app.application import app

DASHBOARD_DIR = Path(__file__).resolve().parent / "dashboard"
PREFIX = "/dashboard"


async def dashboard_page(request: web.Request) -> web.FileResponse:
    """``GET /dashboard/``: the page itself, never cached (it is small)."""
    return web.FileResponse(DASHBOARD_DIR / "index.html", headers={"Cache-Control": "no-cache"})


async def to_dashboard(request: web.Request) -> web.StreamResponse:
    """``GET /dashboard``: redirects to ``/dashboard/`` so relative asset URLs resolve."""
    raise web.HTTPFound(f"{PREFIX}/")


def mount(router: web.UrlDispatcher) -> None:
    """Add the page, the redirect and the assets to ``router`` (page first: it wins)."""
    router.add_get(f"{PREFIX}/", dashboard_page, name="dashboard")
    router.add_get(PREFIX, to_dashboard, name="dashboard-redirect")
    router.add_static(PREFIX, DASHBOARD_DIR, name="dashboard-assets")


mount(app.web.web_app.router)  # type: ignore[attr-defined]
