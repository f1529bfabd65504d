"""``make bench`` end to end at toy size: every figure comes out, positive."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench.results import FIGURES
from tests.support.workers import REPO_ROOT

pytestmark = pytest.mark.integration


@pytest.mark.timeout(120)
def test_bench_writes_every_figure(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    command = [sys.executable, "-m", "bench.run", "--n", "200", "--runs", "1"]
    command += ["--duration", "2", "--users", "20", "--output", str(output)]
    done = subprocess.run(
        command, check=False, cwd=REPO_ROOT, capture_output=True, text=True, timeout=110
    )
    assert done.returncode == 0, done.stderr[-3000:]

    figures = json.loads(output.read_text())["figures"]
    for figure in FIGURES:
        value = figures[figure.name]
        assert isinstance(value, float) and math.isfinite(value) and value > 0, figure.name
    assert "ingest_p99_ms" in done.stdout  # the table was printed
