"""``GET /dashboard/tools``: which operator tools answer, for the dashboard's links.

Kafka UI, Kibana, Adminer and Prometheus run beside the app in compose;
natively only what the stack installed does (Adminer, Prometheus). The dashboard links to a tool that answers and,
for Kafka UI and Kibana, to its own views otherwise (``/dashboard/kafka``,
``/dashboard/logs``). The worker probes each tool at the address it is
configured with (``KAFKA_UI_URL``, ``KIBANA_URL``, ``ADMINER_URL``,
``PROMETHEUS_URL``: in compose
the services' names, natively 127.0.0.1), within half a second; any HTTP
answer counts. Public, like the dashboard: it tells nothing but which tools
answer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from faust.web import Request, View

from app.application import platform
from web.responses import json_response

services = platform()

PROBE_TIMEOUT_S = 0.5


@dataclass(frozen=True, slots=True)
class Tool:
    """An operator tool: where the worker reaches it, and the dashboard's view standing in."""

    name: str
    probe_url: str
    fallback: str | None


TOOLS = (
    Tool("kafka_ui", services.settings.kafka_ui_url, "/dashboard/kafka"),
    Tool("kibana", services.settings.kibana_url, "/dashboard/logs"),
    Tool("adminer", services.settings.adminer_url, None),
    Tool("prometheus", services.settings.prometheus_url, None),
)


@services.app.page("/dashboard/tools")
class ToolsView(View):
    """Whether each operator tool answers now."""

    async def get(self, request: Request) -> web.Response:
        """Produces ``{kafka_ui, kibana, adminer, prometheus}``, each ``{available, fallback}``.

        ``fallback`` is the dashboard's own view doing the tool's job (null
        for Adminer and Prometheus, which have none).
        """
        states = await asyncio.gather(*(answers(tool.probe_url) for tool in TOOLS))
        return json_response(
            {
                tool.name: {"available": available, "fallback": tool.fallback}
                for tool, available in zip(TOOLS, states, strict=True)
            }
        )


async def answers(url: str, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """Whether anything at ``url`` gives an HTTP answer (any status) within ``timeout_s``."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as session,
            session.get(url, allow_redirects=False) as answer,
        ):
            return answer.status > 0
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return False
