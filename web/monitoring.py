"""``GET /metrics`` (Prometheus) and ``GET /api/metrics/summary`` (the dashboard's figures).

``/metrics`` is Faust's Prometheus sensor (consumer, producer, table and
rebalance metrics, prefixed ``faust_``) plus the HTTP metrics of
:mod:`web.http_metrics`, all in the default registry. The summary is this
worker's live figures (:mod:`app.live_figures`) and its consumer lag.
"""

from __future__ import annotations

import socket
from typing import Any

from aiohttp import web
from faust.exceptions import ConsumerNotStarted
from faust.sensors.prometheus import setup_prometheus_sensors
from faust.types import TP, AppT
from faust.web import Request, View

from app import live_figures
from app.application import app, settings
from app.guarded import direct_lag
from web.responses import json_response

#: A fixed prefix: dashboards and alerts keep working whatever the APP_ID.
PROMETHEUS_PREFIX = "faust"

setup_prometheus_sensors(app, pattern="/metrics", name_prefix=PROMETHEUS_PREFIX)


@app.page("/api/metrics/summary")
class MetricsSummaryView(View):
    """The dashboard's live figures, as this worker sees them."""

    async def get(self, request: Request) -> web.Response:
        """Produces rates, outcome counts, latency percentiles, lag and a 60 s series."""
        lag = consumer_lag(app)
        body: dict[str, Any] = {
            "worker": {
                "app_id": settings.app_id,
                "role": settings.worker_role,
                "host": socket.gethostname(),
                "web": f"{settings.web_host}:{settings.web_port}",
            },
            **live_figures.summary(),
            "consumer_lag": {"total": sum(lag.values()), "by_topic": lag},
        }
        return json_response(body)


def consumer_lag(faust_app: AppT) -> dict[str, int]:
    """Messages not yet committed, per source topic, over this worker's partitions.

    Lag is the log end offset (the consumer's latest highwater) minus the
    committed offset, the figure Kafka's own tools report. Changelog and
    other internal partitions are left out: only topics the agents consume,
    through Faust or through consumers of their own (:func:`app.guarded.direct_lag`).
    """
    lag = direct_lag()
    consumer = faust_app.consumer
    try:
        assigned = consumer.assignment()
    except ConsumerNotStarted:
        return lag
    sources = agent_topics(faust_app)
    for tp in assigned:
        if tp.topic in sources:
            behind = partition_lag(consumer, tp)
            if behind is not None:
                lag[tp.topic] = lag.get(tp.topic, 0) + behind
    return lag


def agent_topics(faust_app: AppT) -> set[str]:
    """Names of the topics the app's agents consume."""
    names: set[str] = set()
    for agent in faust_app.agents.values():
        names.update(getattr(agent.channel, "topics", ()))
    return names


def partition_lag(consumer: Any, tp: TP) -> int | None:
    """End offset minus committed offset of ``tp``; None while either is unknown."""
    try:
        end = consumer.highwater(tp)
    except (ConsumerNotStarted, AssertionError, KeyError):
        return None
    # Faust keeps the last committed offset per partition (private, but the
    # only place it is held without a broker round trip).
    committed = consumer._committed_offset.get(tp)
    if end is None or committed is None:
        return None
    return max(0, end - committed)
