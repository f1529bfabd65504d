"""This worker's live figures: outcomes, dead letters, processing latency, HTTP answers.

The status agent reports each outcome it records (:func:`record_outcomes`),
the processing agent the dead letters it sends (:func:`record_dead_letters`),
the HTTP middleware every answer (:func:`record_http`). ``GET
/api/metrics/summary`` reads :func:`summary`. The figures are this process's
own, kept in memory for :data:`WINDOW_S` seconds: with two replicas each serves
the statuses of its own partitions.
Prometheus (``/metrics``) keeps the long-term counters: the same recordings
also count ``outcomes_recorded_total{status}``, ``viewings_recorded_total`` and
``outcome_latency_seconds`` (Grafana's dashboard draws these figures from them).

Latency is end to end: from the moment the API accepted the request (the
outcome's ``request_timestamp``) to the moment its outcome was published.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prometheus_client import Counter, Histogram

from app.telemetry.percentiles import nearest_rank

#: Seconds of per-second history kept (and charted by the dashboard).
WINDOW_S = 60
#: The event type of a player's heartbeat (the viewing side's figures count them).
VIEWING = "registrar_visualizacao"
#: Seconds over which the current rate is averaged.
RATE_WINDOW_S = 10
#: Latency samples kept; percentiles are taken over those of the last WINDOW_S.
MAX_LATENCY_SAMPLES = 5000


@dataclass
class Second:
    """What happened during one wall-clock second."""

    events: int = 0
    success: int = 0
    error: int = 0
    dead_letters: int = 0
    #: Heartbeats recorded (``registrar_visualizacao`` outcomes, success only).
    viewings: int = 0
    http: int = 0
    http_errors: int = 0


@dataclass
class Figures:
    """Counters since start, per-second history and a latency reservoir."""

    started_at: float = field(default_factory=time.time)
    totals: Second = field(default_factory=Second)
    seconds: dict[int, Second] = field(default_factory=dict)
    latencies: deque[tuple[float, float]] = field(
        default_factory=lambda: deque(maxlen=MAX_LATENCY_SAMPLES)
    )

    def second(self, now: float) -> Second:
        """The bucket of ``now``'s second, dropping buckets older than the window."""
        key = int(now)
        bucket = self.seconds.get(key)
        if bucket is None:
            bucket = self.seconds[key] = Second()
            for old in [k for k in self.seconds if k <= key - WINDOW_S]:
                del self.seconds[old]
        return bucket

    def add(self, now: float, **counts: int) -> None:
        """Add ``counts`` (field name -> amount) to the totals and to ``now``'s second."""
        bucket = self.second(now)
        for name, amount in counts.items():
            setattr(bucket, name, getattr(bucket, name) + amount)
            setattr(self.totals, name, getattr(self.totals, name) + amount)


FIGURES = Figures()

#: Outcome statuses counted under their own label value; anything else is ``other``.
OUTCOME_STATUSES = frozenset({"success", "error"})
#: Seconds from a request's acceptance to its recorded outcome.
OUTCOME_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
OUTCOMES = Counter(
    "outcomes_recorded_total", "Outcomes recorded by this worker's status agent", ["status"]
)
for _status in (*OUTCOME_STATUSES, "other"):
    OUTCOMES.labels(_status)  # every series exists from the start: rate() sees the first ones
VIEWINGS = Counter("viewings_recorded_total", "Heartbeats recorded with success (outcomes)")
OUTCOME_LATENCY = Histogram(
    "outcome_latency_seconds",
    "End to end: from the API accepting a request to its outcome being recorded",
    buckets=OUTCOME_LATENCY_BUCKETS,
)


def record_outcomes(responses: Sequence[Mapping[str, Any]]) -> None:
    """Count outcomes (``response_events`` values, parsed) and their latency since the request.

    Counted where statuses are recorded (the status agent), so the latency is
    the one a client polling ``/status`` sees, and the API process, which
    serves the dashboard, has the figures whatever the worker roles.
    """
    now = time.time()
    statuses = [response.get("status") for response in responses]
    viewings = sum(
        1
        for response in responses
        if response.get("original_event_type") == VIEWING and response.get("status") == "success"
    )
    FIGURES.add(
        now,
        events=len(responses),
        success=statuses.count("success"),
        error=statuses.count("error"),
        viewings=viewings,
    )
    for status in OUTCOME_STATUSES:
        OUTCOMES.labels(status).inc(statuses.count(status))
    OUTCOMES.labels("other").inc(sum(1 for s in statuses if s not in OUTCOME_STATUSES))
    VIEWINGS.inc(viewings)
    for response in responses:
        requested_at = _epoch(response.get("request_timestamp"))
        if requested_at is not None:
            waited_s = max(0.0, now - requested_at)
            FIGURES.latencies.append((now, waited_s * 1000))
            OUTCOME_LATENCY.observe(waited_s)


def record_dead_letters(count: int) -> None:
    """Count dead letters sent (:func:`app.guard.dead_letters.send_dead_letters` calls it)."""
    FIGURES.add(time.time(), dead_letters=count)


def record_http(status: int) -> None:
    """Count one HTTP answer; 5xx are errors of ours."""
    FIGURES.add(time.time(), http=1, http_errors=int(status >= 500))


def summary(now: float | None = None) -> dict[str, Any]:
    """Totals, current rates, latency percentiles and the per-second series."""
    now = time.time() if now is None else now
    recent = [ms for at, ms in FIGURES.latencies if at > now - WINDOW_S]
    return {
        "uptime_s": round(now - FIGURES.started_at, 1),
        "totals": vars(FIGURES.totals).copy(),
        "events_per_s": round(_rate(now, "events"), 2),
        "errors_per_s": round(_rate(now, "error"), 2),
        "viewings_per_s": round(_rate(now, "viewings"), 2),
        "latency_ms": {
            "p50": percentile(recent, 50),
            "p99": percentile(recent, 99),
            "samples": len(recent),
        },
        "series": series(now),
    }


def series(now: float) -> list[dict[str, Any]]:
    """One point per second of the window, oldest first (empty seconds as zeros)."""
    last = int(now)
    points = []
    for second in range(last - WINDOW_S + 1, last + 1):
        bucket = FIGURES.seconds.get(second, Second())
        points.append({"t": second, **vars(bucket)})
    return points


def percentile(values: Iterable[float], pct: float) -> float | None:
    """Nearest-rank percentile of ``values`` in ms (one decimal), None when empty."""
    found = nearest_rank(values, pct)
    return None if found is None else round(found, 1)


def reset() -> None:
    """Forget everything (tests)."""
    global FIGURES
    FIGURES = Figures()


def _rate(now: float, name: str) -> float:
    last = int(now)
    window = range(last - RATE_WINDOW_S, last)
    return sum(getattr(FIGURES.seconds.get(s, Second()), name) for s in window) / RATE_WINDOW_S


def _epoch(value: object) -> float | None:
    """An ISO 8601 time as epoch seconds; None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None
