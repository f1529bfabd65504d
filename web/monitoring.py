"""``GET /metrics`` (Prometheus) and ``GET /api/metrics/summary`` (the dashboard's figures).

``/metrics`` is Faust's Prometheus sensor (commits, rebalances, assignments,
offsets, send errors, prefixed ``faust_``) plus the HTTP metrics of
:mod:`web.http_metrics`, the live figures' counters (:mod:`app.telemetry.live_figures`),
dead letters (:mod:`app.guard.dead_letters`), the fallback file's size
(:mod:`app.eventlog.fallback_file`), and read at each scrape here:
``consumer_lag_messages{topic}`` (the dashboard's lag), ``worker_info``
(role, group) and where the process's memory sits (:class:`AllocatorCollector`),
all in the default registry. The summary is this
worker's live figures (:mod:`app.telemetry.live_figures`) and its consumer lag.

Faust's sensor also counts every message, event, table operation, send and
HTTP request, through several label lookups each: a tenth of the API
process's CPU under load. Those hooks are left out (:class:`PerBatchMonitor`);
requests are counted by :mod:`web.http_metrics`, events and outcomes by the
live figures.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from typing import Any

from aiohttp import web
from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
from faust.types import TP, CollectionT, EventT, Message, StreamT
from faust.web import Request, View
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Gauge, Info, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from app.application import platform
from app.telemetry import live_figures
from app.telemetry.process_memory import jemalloc_totals, resident_split
from web.responses import json_response

services = platform()

#: A fixed prefix: dashboards and alerts keep working whatever the APP_ID.
PROMETHEUS_PREFIX = "faust"


class PerBatchMonitor(PrometheusMonitor):
    """Faust's Prometheus sensor without its hooks called per message, event, send or request."""

    def on_message_in(self, tp: TP, offset: int, message: Message) -> None:
        """Not counted (per message)."""

    def on_stream_event_in(
        self, tp: TP, offset: int, stream: StreamT, event: EventT
    ) -> dict[str, Any] | None:
        """Not counted (per event)."""
        return None

    def on_stream_event_out(
        self,
        tp: TP,
        offset: int,
        stream: StreamT,
        event: EventT,
        state: dict[str, Any] | None = None,
    ) -> None:
        """Not counted (per event)."""

    def on_message_out(self, tp: TP, offset: int, message: Message) -> None:
        """Not counted (per message)."""

    def on_table_get(self, table: CollectionT, key: Any) -> None:
        """Not counted (per key)."""

    def on_table_set(self, table: CollectionT, key: Any, value: Any) -> None:
        """Not counted (per key)."""

    def on_table_del(self, table: CollectionT, key: Any) -> None:
        """Not counted (per key)."""

    def on_send_initiated(self, *args: Any, **kwargs: Any) -> Any:
        """Not counted (per message sent); failed sends still are."""
        return None

    def on_send_completed(self, *args: Any, **kwargs: Any) -> None:
        """Not counted (per message sent)."""

    def on_web_request_start(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Counted by :mod:`web.http_metrics` instead."""
        return {}

    def on_web_request_end(self, *args: Any, **kwargs: Any) -> None:
        """Counted by :mod:`web.http_metrics` instead."""


services.app.monitor = PerBatchMonitor(metrics=FaustMetrics.create(REGISTRY, PROMETHEUS_PREFIX))


class ConsumerLagCollector(Collector):
    """``consumer_lag_messages{topic}``: :func:`consumer_lag`, read when scraped."""

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The family without samples (registration must not read the consumer)."""
        yield self._family()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yields this worker's lag per source topic (no series before it consumes)."""
        family = self._family()
        for topic, behind in sorted(consumer_lag().items()):
            family.add_metric([topic], behind)
        yield family

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "consumer_lag_messages",
            "Messages not yet committed on the topics this worker's agents consume",
            labels=["topic"],
        )


REGISTRY.register(ConsumerLagCollector())


class AllocatorCollector(Collector):
    """Where the worker's resident memory sits, read when scraped.

    ``process_resident_split_bytes{backing}``: mapped files and anonymous memory;
    ``jemalloc_bytes{kind}``: jemalloc's totals (no samples on another allocator).
    Their difference, anonymous less jemalloc's ``resident``, is pymalloc's arenas
    and the threads' stacks (:mod:`app.telemetry.process_memory`).
    """

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The families without samples."""
        yield from self._families()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yields the split of this process's RSS, and jemalloc's totals when on it."""
        split, jemalloc = self._families()
        resident = resident_split()
        split.add_metric(["files"], resident.files)
        split.add_metric(["anonymous"], resident.anonymous)
        yield split
        for kind, value in (jemalloc_totals() or {}).items():
            jemalloc.add_metric([kind], value)
        yield jemalloc

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "process_resident_split_bytes",
                "Resident memory backed by mapped files, and anonymous (every heap, stacks)",
                labels=["backing"],
            ),
            GaugeMetricFamily(
                "jemalloc_bytes",
                "jemalloc's totals: allocated, active, resident, metadata, mapped, retained",
                labels=["kind"],
            ),
        )


REGISTRY.register(AllocatorCollector())
# Python's live small objects, counted when scraped (cheap: a sum over pymalloc's arenas): a
# count that keeps rising under steady load is Python memory accumulating, not RocksDB's.
Gauge(
    "python_allocated_blocks",
    "Memory blocks Python's small-object allocator has handed out and not freed",
).set_function(sys.getallocatedblocks)
Info("worker", "Which stages this process runs, and its consumer group").info(
    {
        "role": services.settings.worker_role,
        "app_id": services.settings.app_id,
        "group": services.settings.group_id,
    }
)


@services.app.page("/metrics")
class PrometheusView(View):
    """Every metric of this process, in Prometheus' text format."""

    async def get(self, request: Request) -> web.Response:
        """Produces the default registry's metrics."""
        # Its content type names a charset, which aiohttp takes only as a header.
        headers = {"Content-Type": CONTENT_TYPE_LATEST}
        return web.Response(body=generate_latest(REGISTRY), headers=headers)


@services.app.page("/api/metrics/summary")
class MetricsSummaryView(View):
    """The dashboard's live figures, as this worker sees them."""

    async def get(self, request: Request) -> web.Response:
        """Produces rates, outcome counts, latency percentiles, lag and a 60 s series."""
        lag = consumer_lag()
        body: dict[str, Any] = {
            "worker": {
                "app_id": services.settings.app_id,
                "role": services.settings.worker_role,
                "host": socket.gethostname(),
                "web": f"{services.settings.web_host}:{services.settings.web_port}",
            },
            **live_figures.summary(),
            "consumer_lag": {"total": sum(lag.values()), "by_topic": lag},
            "agents": services.guard.figures(),
        }
        return json_response(body)


def consumer_lag() -> dict[str, int]:
    """Messages not yet committed, per source topic, over this worker's partitions.

    Lag is the log end offset (the consumer's latest highwater) minus the
    committed offset, the figure Kafka's own tools report, read from every
    agent's own consumer (:meth:`app.guard.Guard.lag`): no agent reads through
    Faust's consumer, which only follows the tables' changelogs.
    """
    return services.guard.lag()
