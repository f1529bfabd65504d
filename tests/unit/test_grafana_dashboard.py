"""ops/grafana: the dashboard parses, reads the provisioned Prometheus, and only exported metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.metrics import exported_metric_names, metric_names_in

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "ops" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "streaming-platform.json"
#: Series Prometheus makes itself for every target (the workers' up/down panel).
SCRAPE_SERIES = frozenset({"up"})
#: Where the live dashboard's figures (web/dashboard/, /api/metrics/summary) come from.
LIVE_FIGURES = {
    "outcomes_recorded_total",  # events per second, successes, errors
    "outcome_latency_seconds_bucket",  # latency p50 / p99
    "consumer_lag_messages",  # consumer lag
    "dead_letters_total",  # dead letters
    "viewings_recorded_total",  # viewings per second
}


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return document


def queries(dashboard: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_every_query_names_a_metric_the_app_exports(dashboard: dict[str, Any]) -> None:
    exported = exported_metric_names() | SCRAPE_SERIES
    assert queries(dashboard)
    for expression in queries(dashboard):
        used = metric_names_in(expression)
        assert used, f"no metric in {expression!r}"
        assert used <= exported, f"{expression!r} reads metrics nobody exports: {used - exported}"


def test_it_draws_every_figure_of_the_live_dashboard(dashboard: dict[str, Any]) -> None:
    used = set().union(*(metric_names_in(e) for e in queries(dashboard)))
    assert LIVE_FIGURES <= used


def test_every_panel_reads_the_provisioned_data_source(dashboard: dict[str, Any]) -> None:
    source = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    uid = source["datasources"][0]["uid"]
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == uid, panel["title"]
        assert all(target["datasource"]["uid"] == uid for target in panel["targets"])


def test_panels_have_unique_ids_and_do_not_overlap(dashboard: dict[str, Any]) -> None:
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    cells = [
        (x, y)
        for panel in dashboard["panels"]
        for x in range(panel["gridPos"]["x"], panel["gridPos"]["x"] + panel["gridPos"]["w"])
        for y in range(panel["gridPos"]["y"], panel["gridPos"]["y"] + panel["gridPos"]["h"])
    ]
    assert len(cells) == len(set(cells)) and all(x < 24 for x, _ in cells)
