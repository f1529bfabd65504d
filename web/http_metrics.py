"""aiohttp middleware: HTTP request counts and latency per route, and one log line per request.

Labelled by route *template* (``/usuarios/{user_id}/pagamento``), never by raw
path, so the number of Prometheus series stays bounded; paths that match no
route share the label ``unmatched``. It runs outermost (first in the
middlewares list), so it sees the status ``json_errors`` answered. The log
line is :mod:`web.access_log`'s to write (or to leave out).

It also scopes the request's correlation id: the id in the path
(``/status/{correlation_id}``) is bound at once, an id issued by a POST is
bound by the view (``web.intake``); the request's log line carries either.

This module must not import ``app.application``: the app's constructor loads it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import Counter, Histogram

from app.telemetry.live_figures import record_http
from app.telemetry.logging_setup import bind_correlation_id, unbind_correlation_id
from web.access_log import AccessLog

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

UNMATCHED = "unmatched"
#: Seconds; from a fast status read to a POST that waited for Kafka's acks.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)


#: Each (method, route, status)'s counter and each (method, route)'s histogram, bound once:
#: ``labels()`` looks them up under a lock on every call (5 µs a request, docs/benchmarks.md).
#: Bounded like the series themselves: routes are templates.
_counters: dict[tuple[str, str, int], Counter] = {}
_histograms: dict[tuple[str, str], Histogram] = {}


def observing(access_log: AccessLog) -> Any:
    """The middleware counting and timing every request, its line written by ``access_log``."""

    @web.middleware
    async def observe_http(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Counts and times every request; logs it with its correlation id."""
        token = bind_correlation_id(request.match_info.get("correlation_id"))
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:  # redirects, and errors json_errors let through
            status = exc.status
            raise
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(request)
            _observe(request.method, route, status, elapsed)
            access_log.record(request, route, status, elapsed)
            unbind_correlation_id(token)

    return observe_http


def route_template(request: web.Request) -> str:
    """The template of the route that matched ``request``, or ``unmatched``."""
    resource = request.match_info.route.resource
    if resource is None:
        return UNMATCHED
    return resource.canonical


def _observe(method: str, route: str, status: int, elapsed: float) -> None:
    counter = _counters.get((method, route, status))
    if counter is None:
        counter = _counters[method, route, status] = REQUESTS.labels(method, route, str(status))
    histogram = _histograms.get((method, route))
    if histogram is None:
        histogram = _histograms[method, route] = LATENCY.labels(method, route)
    counter.inc()
    histogram.observe(elapsed)
    record_http(status)
