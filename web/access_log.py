"""One log line per HTTP request, with successful ones held to a budget per second.

Every failed request (status 400 and up) is logged. Successful ones are logged
up to ``ACCESS_LOG_SUCCESSES_PER_S`` a second; the rest of that second are
counted, and the count is logged with the next line after the second ends.
Why a budget: at a few hundred requests a second the line was 7 % of the API
process's CPU (docs/benchmarks.md), and it adds nothing there that is lost:
Prometheus counts and times every request (:mod:`web.http_metrics`), and every
accepted event is in the event log (``GET /logs/{correlation_id}``). At a
person's pace (``make run``, a curl) every request still gets its line.

Polled routes (health, metrics, the dashboard's refreshes) answer
successfully at DEBUG, outside the budget.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiohttp import web

from app.telemetry.logging_setup import current_correlation_id

log = logging.getLogger(__name__)

#: Polled by the dashboard and scrapers: their successful answers are logged at DEBUG.
QUIET_ROUTES = frozenset(
    {
        "/health",
        "/metrics",
        "/api/metrics/summary",
        "/dashboard",
        "/dashboard/",
        "/docs/static",
        # The dashboard's Kafka view refreshes these every few seconds.
        "/api/kafka/topics",
        "/api/kafka/topics/{topic}/messages",
        "/api/kafka/groups",
        "/api/kafka/groups/{group_id}",
    }
)


class SuccessBudget:
    """How many successful requests may still be logged in the current second."""

    def __init__(self, per_second: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self._clock = clock
        self._second = -1
        self._logged = 0
        #: Successful requests not logged in the second ``_second``.
        self._skipped = 0

    def admit(self) -> tuple[bool, int]:
        """Whether this success gets its line, and how many the last second left out.

        The count of the last second is handed out once, with the first
        request of a later second, and only when it is not zero.
        """
        second = int(self._clock())
        left_out = 0
        if second != self._second:
            left_out, self._skipped = self._skipped, 0
            self._second, self._logged = second, 0
        if self._logged < self.per_second:
            self._logged += 1
            return True, left_out
        self._skipped += 1
        return False, left_out


class AccessLog:
    """Writes a request's line: always for a failure, within the budget for a success."""

    def __init__(self, successes_per_s: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.successes = SuccessBudget(successes_per_s, clock)

    def record(self, request: web.Request, route: str, status: int, elapsed: float) -> None:
        """Log ``request``'s answer, or count it among those left out."""
        if status >= 400:
            _write(logging.INFO, request, route, status, elapsed)
        elif request.method == "GET" and route in QUIET_ROUTES:
            if log.isEnabledFor(logging.DEBUG):
                _write(logging.DEBUG, request, route, status, elapsed)
        else:
            logged, left_out = self.successes.admit()
            if left_out:
                log.info(
                    "%d successful requests not logged in the last second "
                    "(ACCESS_LOG_SUCCESSES_PER_S=%d; Prometheus counted them all)",
                    left_out,
                    self.successes.per_second,
                    extra={"unlogged_requests": left_out},
                )
            if logged:
                _write(logging.INFO, request, route, status, elapsed)


def _write(level: int, request: web.Request, route: str, status: int, elapsed: float) -> None:
    log.log(
        level,
        "%s %s -> %d in %.1f ms",
        request.method,
        request.path,
        status,
        elapsed * 1000,
        extra={
            "http_method": request.method,
            "http_route": route,
            "http_status": status,
            "duration_ms": round(elapsed * 1000, 2),
            "correlation_id": current_correlation_id(),
        },
    )
