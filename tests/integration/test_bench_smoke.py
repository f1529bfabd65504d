"""``make bench`` end to end at toy size: every figure comes out, positive."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench.results import FIGURES, WINDOWS
from harness.workers import REPO_ROOT

pytestmark = pytest.mark.integration


@pytest.mark.timeout(180)
def test_bench_writes_every_figure(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    command = [sys.executable, "-m", "bench.runner", "--n", "200", "--runs", "1"]
    command += ["--duration", "2", "--steady-duration", "2", "--sustained-rates", "100"]
    command += ["--users", "20", "--output", str(output)]
    done = subprocess.run(
        command, check=False, cwd=REPO_ROOT, capture_output=True, text=True, timeout=170
    )
    assert done.returncode == 0, done.stderr[-3000:]

    written = json.loads(output.read_text())
    for figure in FIGURES:
        value = written["figures"][figure.name]
        assert isinstance(value, float) and math.isfinite(value) and value > 0, figure.name
    for window in WINDOWS:
        assert written["cpu_us"][window]["total"] > 0, window
    assert "ingest_p99_ms" in done.stdout  # the tables were printed
    assert "µs of CPU" in done.stdout
