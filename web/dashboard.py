"""The operators' dashboard: static files under ``web/dashboard/``, served at ``/dashboard/``.

Plain HTML, CSS and JavaScript (no build step, nothing from a CDN). The page
reads ``/health`` and ``/api/metrics/summary`` and sends demo requests to the
API, all on the origin that served it; ``/dashboard/kafka`` (the Kafka view),
``/dashboard/logs`` (the log explorer) and ``/dashboard/titulares`` (a person's
data exported or erased) are pages of their own. ``/dashboard``
redirects to ``/dashboard/``; compose also publishes it on port 8089 through
nginx, and natively the worker serves it there itself (``web.dashboard_port``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template

from aiohttp import web

from app.application import platform

services = platform()

DASHBOARD_DIR = Path(__file__).resolve().parent / "dashboard"
PREFIX = "/dashboard"


@dataclass(frozen=True, slots=True)
class Page:
    """One dashboard page: its own body (``<name>.body.html``) and script in the
    shell every page shares (``page.html``: head, navigation, key field)."""

    name: str
    title: str
    heading: str
    state_id: str
    state_text: str
    script: str
    shows_overall: bool = False

    def html(self) -> str:
        shell = Template((DASHBOARD_DIR / "page.html").read_text(encoding="utf-8"))
        return shell.substitute(
            title=self.title,
            heading=self.heading,
            state_id=self.state_id,
            state_text=self.state_text,
            overall_hidden="" if self.shows_overall else " hidden",
            body=(DASHBOARD_DIR / f"{self.name}.body.html").read_text(encoding="utf-8"),
            script=self.script,
        )


OVERVIEW = Page(
    "index", "Operação", "operação", "worker-id", "conectando…", "dashboard.js", shows_overall=True
)
KAFKA = Page("kafka", "Kafka", "Kafka", "kafka-state", "conectando…", "kafka.js")
LOGS = Page("logs", "Logs", "logs", "scope", "índice system_logs", "logs.js")
PEOPLE = Page(
    "people", "Titulares", "titulares (LGPD)", "people-state", "exportar ou apagar", "people.js"
)


@cache
def page_html(page: Page) -> str:
    """``page`` composed once (the files ship with the code)."""
    return page.html()


async def dashboard_page(request: web.Request) -> web.Response:
    """``GET /dashboard/``: the page itself, never cached (it is small)."""
    return _page(OVERVIEW)


async def kafka_page(request: web.Request) -> web.Response:
    """``GET /dashboard/kafka``: topics, consumer groups and messages (Kafka UI's job)."""
    return _page(KAFKA)


async def logs_page(request: web.Request) -> web.Response:
    """``GET /dashboard/logs``: the log explorer over ``system_logs`` (Kibana's job)."""
    return _page(LOGS)


def _page(page: Page) -> web.Response:
    return web.Response(
        text=page_html(page), content_type="text/html", headers={"Cache-Control": "no-cache"}
    )


async def people_page(request: web.Request) -> web.Response:
    """``GET /dashboard/titulares``: one user's data exported or erased (LGPD, docs/privacy.md)."""
    return _page(PEOPLE)


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
    router.add_get(f"{PREFIX}/titulares", people_page, name="dashboard-people")
    router.add_get(PREFIX, to_dashboard, name="dashboard-redirect")
    router.add_static(PREFIX, DASHBOARD_DIR, name="dashboard-assets")


mount(services.app.web.web_app.router)  # type: ignore[attr-defined]
