"""Real alerts: a Prometheus of the test's own scrapes a worker with the metrics token.

A poison event makes the processing role dead-letter it, and ``DeadLettersArriving``
fires; stopping that worker makes ``WorkerDown`` fire. Both are the rules of
ops/prometheus/alerts.yml evaluated by Prometheus 2.42 itself (their ``for``
shortened, see tests/support/prometheus.py), on metrics scraped from the worker's
``/metrics`` over ``Authorization: Bearer``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.broker import produce
from harness.workers import Worker, own_names
from tests.integration.test_event_log import wait_until
from tests.support.prometheus import OwnPrometheus

pytestmark = pytest.mark.integration

TOKEN = "test-metrics-token-5e81c0"
ALERT_WAIT_S = 30.0


@pytest.fixture
def scraped(tmp_path: Path) -> Iterator[tuple[Worker, OwnPrometheus]]:
    """A processing worker accepting the token, and a Prometheus scraping it with it."""
    token_file = tmp_path / "metrics-token"
    token_file.write_text(TOKEN + "\n")
    worker = Worker(
        tmp_path / "worker",
        WORKER_ROLE="processing",
        METRICS_TOKEN_FILE=str(token_file),
        **own_names("alerts"),
    )
    prometheus = OwnPrometheus(
        tmp_path / "prometheus", {f"127.0.0.1:{worker.port}": "processing"}, TOKEN
    )
    try:
        worker.start()
        prometheus.start()
        yield worker, prometheus
    finally:
        prometheus.stop()
        worker.stop()


def test_a_dead_letter_then_a_stopped_worker_fire_their_alerts(
    scraped: tuple[Worker, OwnPrometheus],
) -> None:
    worker, prometheus = scraped
    instance = f"127.0.0.1:{worker.port}"

    def scraped_up() -> bool:
        return [t["health"] for t in prometheus.targets("workers")] == ["up"]

    wait_until(scraped_up, ALERT_WAIT_S, "scraping the worker with the token")
    assert prometheus.firing("DeadLettersArriving") == []

    asyncio.run(produce(worker.topic("user_events"), [(b"poison", b"\xff not json")]))
    wait_until(
        lambda: bool(prometheus.firing("DeadLettersArriving")), ALERT_WAIT_S, "DeadLettersArriving"
    )
    (dead_letters,) = prometheus.firing("DeadLettersArriving")
    assert (dead_letters["instance"], dead_letters["role"]) == (instance, "processing")

    worker.stop()
    wait_until(lambda: bool(prometheus.firing("WorkerDown")), ALERT_WAIT_S, "WorkerDown")
    (down,) = prometheus.firing("WorkerDown")
    assert (down["instance"], down["role"], down["severity"]) == (
        instance,
        "processing",
        "critical",
    )
