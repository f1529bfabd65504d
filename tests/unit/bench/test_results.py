"""bench.results: medians, the figures table and the CPU budget table."""

from __future__ import annotations

from pathlib import Path

import orjson

from bench.results import RunResult, budget_table, table, write


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
    assert "| process_eps | 5,000 | events/s | >= 4,000 | yes |" in shown
    assert "ingest_rps" not in shown
    budget = budget_table({"steady": {"api": 1234.0, "total": 2000.0}})
    assert "steady (per request)" in budget
    assert "| api | 1,234 |" in budget
    assert "kafka" not in budget
