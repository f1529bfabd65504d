"""The figures of a bench, their goals, the printed table and ``bench/results.json``.

Goals are printed beside each figure for the reader; nothing is asserted.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.measure import median


@dataclass(frozen=True, slots=True)
class Figure:
    """One reported figure: its name, unit, and goal (``None``: reported only)."""

    name: str
    unit: str
    goal: float | None = None
    higher_is_better: bool = True

    def describe_goal(self) -> str:
        """The goal as printed, e.g. ``>= 2,000``."""
        if self.goal is None:
            return "-"
        return f"{'>=' if self.higher_is_better else '<='} {self.goal:,.0f}"

    def meets(self, value: float) -> str:
        """``yes`` / ``no`` against the goal (``-`` without one)."""
        if self.goal is None:
            return "-"
        ok = value >= self.goal if self.higher_is_better else value <= self.goal
        return "yes" if ok else "no"


FIGURES = (
    Figure("ingest_rps", "req/s", 2000),
    Figure("ingest_p50_ms", "ms"),
    Figure("ingest_p99_ms", "ms", 25, higher_is_better=False),
    Figure("process_eps", "events/s", 10_000),
    Figure("e2e_p50_ms", "ms"),
    Figure("e2e_p99_ms", "ms", 150, higher_is_better=False),
    Figure("es_docs_per_s", "docs/s", 8000),
    Figure("worker_rss_mb", "MiB", 300, higher_is_better=False),
    Figure("total_rss_mb", "MiB"),
    Figure("naive_process_eps", "events/s"),
    Figure("speedup", "x"),
)


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the runs."""
    return {f.name: median([run[f.name] for run in runs]) for f in FIGURES}


def table(figures: dict[str, float], runs: int) -> str:
    """The results as a Markdown table (medians of ``runs`` runs), goals beside."""
    lines = [
        f"| figure (median of {runs} run{'s' if runs != 1 else ''}) | value | unit | goal | met |",
        "|---|---:|---|---|---|",
    ]
    for figure in FIGURES:
        value = figures[figure.name]
        shown = f"{value:,.1f}" if value < 100 else f"{value:,.0f}"
        lines.append(
            f"| {figure.name} | {shown} | {figure.unit} | {figure.describe_goal()} "
            f"| {figure.meets(value)} |"
        )
    return "\n".join(lines)


def write(path: Path, runs: list[dict[str, float]], config: dict[str, Any]) -> dict[str, float]:
    """Write the medians, every run and the configuration to ``path``; return the medians."""
    figures = medians(runs)
    document = {
        "figures": figures,
        "aggregate": f"median of {len(runs)} runs",
        "runs": runs,
        "config": config,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "load_average_1m": os.getloadavg()[0]},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    return figures
