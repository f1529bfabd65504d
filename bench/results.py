"""The figures of a bench, their goals, the printed table and ``bench/results.json``.

Goals are printed beside each figure for the reader; nothing is asserted.

**Normalised figures.** The same code on a slower machine gives slower figures,
so each rate and each cost is also shown as if measured on the reference machine
(2026-12-01, where the one-transaction baseline ran at
:data:`REFERENCE_BASELINE_EPS`): a rate times reference / this run's baseline, a
cost (CPU, latency) times baseline / reference. Goals are judged on that value.
It is an approximation: the baseline is bound by PostgreSQL's commits, and on a
busy day it fell further than the CPU-bound figures did (docs/benchmarks.md).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.cpu import CLIENT, MACHINE, TOTAL
from bench.measure import median


@dataclass(frozen=True, slots=True)
class Figure:
    """One reported figure: its name, unit, and goal (``None``: reported only)."""

    name: str
    unit: str
    goal: float | None = None
    higher_is_better: bool = True
    #: ``rate`` or ``cost``: how the figure moves with the machine's speed (None: it
    #: does not, as memory and ratios).
    scales: str | None = None

    def normalised(self, value: float, baseline_eps: float | None) -> float | None:
        """``value`` as on the reference machine (None: not scaled, or no baseline)."""
        if self.scales is None or not baseline_eps:
            return None
        speed = REFERENCE_BASELINE_EPS / baseline_eps
        return value * speed if self.scales == RATE else value / speed

    def describe_goal(self) -> str:
        """The goal as printed, e.g. ``>= 2,000``."""
        if self.goal is None:
            return "-"
        return f"{'>=' if self.higher_is_better else '<='} {self.goal:,.{0 if self.goal >= 10 else 1}f}"

    def meets(self, value: float) -> str:
        """``yes`` / ``no`` against the goal (``-`` without one)."""
        if self.goal is None:
            return "-"
        ok = value >= self.goal if self.higher_is_better else value <= self.goal
        return "yes" if ok else "no"


RATE, COST = "rate", "cost"
#: The one-transaction baseline's events/s on the reference machine (2026-12-01,
#: docs/benchmarks.md), which the goals were set on.
REFERENCE_BASELINE_EPS = 2622.0
#: The figure a run's speed is read from.
BASELINE = "naive_process_eps"


def _cost(name: str, unit: str, goal: float | None = None) -> Figure:
    return Figure(name, unit, goal, higher_is_better=False, scales=COST)


FIGURES = (
    Figure("ingest_rps", "req/s", 2000, scales=RATE),
    _cost("ingest_p50_ms", "ms"),
    _cost("ingest_p99_ms", "ms", 50),
    Figure("process_alone_eps", "events/s", 10_000, scales=RATE),
    Figure("process_eps", "events/s", 4000, scales=RATE),
    Figure("viewing_eps", "events/s", 10_000, scales=RATE),
    Figure("es_alone_docs_per_s", "docs/s", 10_000, scales=RATE),
    Figure("es_docs_per_s", "docs/s", 4000, scales=RATE),
    _cost("e2e_p50_ms", "ms"),
    _cost("e2e_p99_ms", "ms", 100),
    _cost("cpu_ms_per_request", "ms", 1.0),
    #: The API process's share of it (split topology only).
    _cost("api_cpu_ms_per_request", "ms", 0.4),
    Figure("sustained_rps", "req/s", 2500, scales=RATE),
    _cost("trending_lag_ms", "ms", 2000),
    Figure("worker_rss_mb", "MiB", 300, higher_is_better=False),
    Figure("total_rss_mb", "MiB"),
    Figure(BASELINE, "events/s"),
    Figure("speedup", "x", 5),
    Figure("speedup_pipeline", "x"),
    #: A sign-up's personal fields sealed at the API and opened by the agent (bench/sealing_cost.py).
    _cost("sealing_us_per_signup", "µs", 100),
)
#: The CPU budget's windows: what each charges its CPU to, in the order printed.
WINDOWS = {
    "processing_alone": "event",
    "viewing_alone": "heartbeat",
    "logging_alone": "document",
    "pipeline": "event",
    "steady": "request",
    "trending": "viewing",
}
#: The processes of the budget, in the order printed (a topology has some of them).
PROCESSES = (
    "api",
    "all",
    "processing",
    "logging",
    "kafka",
    "postgresql",
    "elasticsearch",
    TOTAL,
    CLIENT,
    MACHINE,
)


@dataclass(frozen=True, slots=True)
class RunResult:
    """One run's figures, and its CPU budget (window -> process -> µs per unit)."""

    figures: dict[str, float]
    budget: dict[str, dict[str, float]]


@dataclass(frozen=True, slots=True)
class Report:
    """The medians of every run."""

    figures: dict[str, float]
    budget: dict[str, dict[str, float]]


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the runs that measured it."""
    names = {name for run in runs for name in run}
    return {name: median([run[name] for run in runs if name in run]) for name in names}


def budget_medians(runs: list[RunResult]) -> dict[str, dict[str, float]]:
    """Each window's and process's median CPU per unit over the runs."""
    windows = {window for run in runs for window in run.budget}
    return {
        window: medians([r.budget[window] for r in runs if window in r.budget])
        for window in windows
    }


def _shown(value: float) -> str:
    if value < 10:
        return f"{value:,.2f}"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def table(figures: dict[str, float], runs: int) -> str:
    """The results as a Markdown table (medians of ``runs`` runs), goals beside, judged on
    the normalised value where there is one."""
    baseline = figures.get(BASELINE)
    speed = f"x {REFERENCE_BASELINE_EPS / baseline:.2f}" if baseline else "no baseline run"
    runs_shown = f"median of {runs} run{'s' if runs != 1 else ''}"
    lines = [
        f"| figure ({runs_shown}) | value | unit | normalised ({speed}) | goal | met |",
        "|---|---:|---|---:|---|---|",
    ]
    for figure in FIGURES:
        if figure.name not in figures:
            continue
        value = figures[figure.name]
        normal = figure.normalised(value, baseline)
        judged = value if normal is None else normal
        lines.append(
            f"| {figure.name} | {_shown(value)} | {figure.unit} "
            f"| {'-' if normal is None else _shown(normal)} | {figure.describe_goal()} "
            f"| {figure.meets(judged)} |"
        )
    return "\n".join(lines)


def budget_table(budget: dict[str, dict[str, float]]) -> str:
    """The CPU budget as a Markdown table: µs of CPU per unit, a column per window."""
    windows = [w for w in WINDOWS if w in budget]
    if not windows:
        return "(no CPU budget: no phase measured it)"
    header = " | ".join(f"{w} (per {WINDOWS[w]})" for w in windows)
    lines = [f"| µs of CPU | {header} |", "|---|" + "---:|" * len(windows)]
    for process in PROCESSES:
        if not any(process in budget[w] for w in windows):
            continue
        cells = [_shown(budget[w][process]) if process in budget[w] else "-" for w in windows]
        lines.append(f"| {process} | {' | '.join(cells)} |")
    return "\n".join(lines)


def write(path: Path, runs: list[RunResult], config: dict[str, Any]) -> Report:
    """Write the medians, every run and the configuration to ``path``; return the medians."""
    report = Report(medians([run.figures for run in runs]), budget_medians(runs))
    document = {
        "figures": report.figures,
        "cpu_us": report.budget,
        "aggregate": f"median of {len(runs)} runs",
        "runs": [{"figures": run.figures, "cpu_us": run.budget} for run in runs],
        "config": config,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "load_average_1m": os.getloadavg()[0]},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    return report
