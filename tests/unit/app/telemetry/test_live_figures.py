"""app.telemetry.live_figures: outcome counts, rates, latency percentiles and the per-second series."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY

from app.telemetry import live_figures


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    live_figures.reset()
    yield
    live_figures.reset()


def outcome(status: str, requested_ago_s: float) -> dict[str, str]:
    requested = datetime.fromtimestamp(time.time() - requested_ago_s, UTC)
    return {"status": status, "request_timestamp": requested.isoformat().replace("+00:00", "Z")}


def test_outcomes_and_dead_letters_are_counted_with_latency() -> None:
    live_figures.record_outcomes([outcome("success", 0.05), outcome("error", 0.2)])
    live_figures.record_dead_letters(1)
    summary = live_figures.summary()
    assert summary["totals"]["events"] == 2
    assert (summary["totals"]["success"], summary["totals"]["error"]) == (1, 1)
    assert summary["totals"]["dead_letters"] == 1
    assert summary["latency_ms"]["samples"] == 2
    assert 40 <= summary["latency_ms"]["p50"] <= 150
    assert summary["latency_ms"]["p99"] >= 190


def test_an_outcome_without_a_readable_request_time_counts_without_latency() -> None:
    live_figures.record_outcomes([{"status": "success", "request_timestamp": "yesterday"}])
    assert live_figures.summary()["totals"]["events"] == 1
    assert live_figures.summary()["latency_ms"]["p50"] is None


def test_series_covers_the_window_and_rate_uses_finished_seconds() -> None:
    now = time.time()
    live_figures.FIGURES.add(now - 2, events=20, success=20)
    summary = live_figures.summary(now)
    assert len(summary["series"]) == live_figures.WINDOW_S
    assert sum(point["events"] for point in summary["series"]) == 20
    assert summary["events_per_s"] == 20 / live_figures.RATE_WINDOW_S


def test_old_seconds_are_forgotten() -> None:
    now = time.time()
    live_figures.FIGURES.add(now - live_figures.WINDOW_S - 5, events=3)
    live_figures.FIGURES.add(now, events=1)
    assert sum(point["events"] for point in live_figures.summary(now)["series"]) == 1


@pytest.mark.parametrize(
    ("values", "pct", "expected"),
    [
        ([], 50, None),
        ([5.0], 99, 5.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.0),
        ([1.0] * 99 + [9.0], 99, 1.0),
    ],
)
def test_percentile_is_nearest_rank(
    values: list[float], pct: float, expected: float | None
) -> None:
    assert live_figures.percentile(values, pct) == expected


def test_http_5xx_are_errors() -> None:
    live_figures.record_http(202)
    live_figures.record_http(503)
    totals = live_figures.summary()["totals"]
    assert (totals["http"], totals["http_errors"]) == (2, 1)


def test_successful_heartbeats_are_counted_as_viewings() -> None:
    heartbeat = {"status": "success", "original_event_type": "registrar_visualizacao"}
    refused = {"status": "error", "original_event_type": "registrar_visualizacao"}
    payment = {"status": "success", "original_event_type": "pagamento_realizado"}
    live_figures.record_outcomes([heartbeat, heartbeat, refused, payment])
    assert live_figures.summary()["totals"]["viewings"] == 2


def test_outcomes_viewings_and_latency_are_also_prometheus_counters() -> None:
    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = {
        "success": sample("outcomes_recorded_total", status="success"),
        "error": sample("outcomes_recorded_total", status="error"),
        "viewings": sample("viewings_recorded_total"),
        "latencies": sample("outcome_latency_seconds_count"),
        "slow": sample("outcome_latency_seconds_bucket", le="0.1"),
    }
    viewing = {**outcome("success", 0.5), "original_event_type": live_figures.VIEWING}
    live_figures.record_outcomes([outcome("success", 0.01), outcome("error", 0.2), viewing])
    assert sample("outcomes_recorded_total", status="success") - before["success"] == 2
    assert sample("outcomes_recorded_total", status="error") - before["error"] == 1
    assert sample("viewings_recorded_total") - before["viewings"] == 1
    assert sample("outcome_latency_seconds_count") - before["latencies"] == 3
    assert sample("outcome_latency_seconds_bucket", le="0.1") - before["slow"] == 1
