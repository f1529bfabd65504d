"""Workers run on jemalloc: ``ops/on-jemalloc`` preloads it, and says so when it cannot.

Needs Debian's libjemalloc2, which ``make up`` installs (``stack.prerequisites``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.workers import REPO_ROOT, Worker
from stack.prerequisites import jemalloc_preloaded

pytestmark = pytest.mark.integration

LAUNCHER = REPO_ROOT / "ops" / "on-jemalloc"
#: A child that prints whether jemalloc is mapped into it.
MAPS_JEMALLOC = [sys.executable, "-c", "print('libjemalloc' in open('/proc/self/maps').read())"]


def _launch(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LAUNCHER), *MAPS_JEMALLOC],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_command_started_through_the_launcher_runs_on_jemalloc() -> None:
    launched = _launch({})
    assert (launched.returncode, launched.stdout, launched.stderr) == (0, "True\n", "")


def test_an_empty_jemalloc_lib_runs_the_command_on_the_system_allocator() -> None:
    launched = _launch({"JEMALLOC_LIB": ""})
    assert (launched.returncode, launched.stdout) == (0, "False\n")


def test_a_jemalloc_lib_that_does_not_exist_stops_with_one_line_naming_it() -> None:
    launched = _launch({"JEMALLOC_LIB": "/nowhere/libjemalloc.so.2"})
    assert launched.returncode == 1
    assert launched.stdout == ""
    assert launched.stderr.splitlines() == [
        "on-jemalloc: JEMALLOC_LIB=/nowhere/libjemalloc.so.2 does not exist"
    ]


def test_make_up_finds_the_library_where_the_launcher_does() -> None:
    library = Path(jemalloc_preloaded())
    assert library.name == "libjemalloc.so.2" and library.exists()


def test_the_harness_starts_workers_on_jemalloc_as_make_run_does(worker: Worker) -> None:
    assert "libjemalloc" in Path(f"/proc/{worker.pid}/maps").read_text()
