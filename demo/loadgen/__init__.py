"""``faust -A app loadgen``: realistic pt_BR traffic against a running API.

Sign-ups first, then subscriptions, payments and preferences for the people
whose sign-up was accepted, on a fixed timetable (``--rate`` per second, open
loop), with a progress bar and a closing summary: sent, accepted, errors by
status code, latency percentiles measured from each scheduled start.

Importing this package registers the command (``app/__init__.py`` does); the
engine (:mod:`demo.loadgen.engine`) and the traffic it sends
(:mod:`demo.loadgen.traffic`) live beside it. ``make bench`` and ``make chaos``
drive the same engine.
"""

from __future__ import annotations

import sys
from typing import Any

from faust.cli import AppCommand, option

from app.application import platform
from demo.loadgen.engine import ApiClient, open_loop, summary_rows
from demo.loadgen.traffic import Traffic

services = platform()


@services.app.command(
    option("--rate", type=float, default=200.0, show_default=True, help="Requests per second."),
    option("--duration", type=float, default=30.0, show_default=True, help="Seconds of load."),
    option("--users", type=int, default=50, show_default=True, help="People to sign up."),
    option("--api-key", envvar="API_KEY", default=None, help="X-API-Key (default: $API_KEY)."),
    option("--url", default="http://127.0.0.1:8000", show_default=True, help="The API's base URL."),
)
async def loadgen(
    self: AppCommand, rate: float, duration: float, users: int, api_key: str | None, url: str
) -> None:
    """Send realistic pt_BR traffic to the API and summarise what came back."""
    async with ApiClient(url, api_key) as client:
        result = await open_loop(client, Traffic(users), rate, duration, progress=sys.stderr)
    rows: list[Any] = summary_rows(result)
    self.say(self.tabulate(rows, headers=["", "value"], title=f"loadgen {url}"))
