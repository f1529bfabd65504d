"""bench.results: medians, the figures table and the CPU budget table."""

from __future__ import annotations

from pathlib import Path

import orjson

from bench.results import BASELINE, REFERENCE_BASELINE_EPS, RunResult, budget_table, table, write


def _run(api: float, eps: float) -> RunResult:
    return RunResult({"process_eps": eps}, {"steady": {"api": api, "total": 2 * api}})


def test_medians_of_figures_and_budget_are_written(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    report = write(path, [_run(100, 1), _run(300, 3), _run(200, 2)], {})
    assert report.figures == {"process_eps": 2}
    assert report.budget == {"steady": {"api": 200, "total": 400}}
    assert orjson.loads(path.read_text())["cpu_us"]["steady"]["api"] == 200


def test_tables_show_only_what_was_measured() -> None:
    shown = table({"process_eps": 5000.0}, runs=1)
    assert "| process_eps | 5,000 | events/s | - | >= 4,000 | yes |" in shown
    assert "no baseline run" in shown
    assert "ingest_rps" not in shown
    budget = budget_table({"steady": {"api": 1234.0, "total": 2000.0}})
    assert "steady (per request)" in budget
    assert "| api | 1,234 |" in budget
    assert "kafka" not in budget


def test_with_a_baseline_rates_and_costs_are_judged_as_on_the_reference_machine() -> None:
    # A machine half as fast as the reference: its baseline ran at half the reference's.
    slow = {BASELINE: REFERENCE_BASELINE_EPS / 2, "process_eps": 3000.0, "cpu_ms_per_request": 1.6}
    slow["worker_rss_mb"] = 250.0

    shown = table(slow, runs=3)

    assert "normalised (x 2.00)" in shown
    assert "| process_eps | 3,000 | events/s | 6,000 | >= 4,000 | yes |" in shown  # 3,000 x 2
    assert "| cpu_ms_per_request | 1.60 | ms | 0.80 | <= 1.0 | yes |" in shown  # 1.6 / 2
    assert "| worker_rss_mb | 250 | MiB | - | <= 300 | yes |" in shown  # memory: as measured


def test_a_figure_that_misses_its_goal_once_normalised_is_not_met() -> None:
    fast = {BASELINE: REFERENCE_BASELINE_EPS * 2, "process_eps": 6000.0}
    assert "| process_eps | 6,000 | events/s | 3,000 | >= 4,000 | no |" in table(fast, runs=1)
