"""app.telemetry.process_memory: /proc status fields, and jemalloc's totals when a process runs
on it (none otherwise)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.telemetry.process_memory import (
    TOTALS,
    jemalloc_totals,
    pss_parts_kib,
    resident_split,
    rollup_kib,
    status_mib,
)

REPO_ROOT = Path(__file__).resolve().parents[4]
ON_JEMALLOC = REPO_ROOT / "ops" / "on-jemalloc"
#: Reads the totals, keeps 64 MiB of native memory, reads them again.
READ_TWICE = """
import ctypes, json
from app.telemetry.process_memory import jemalloc_totals
before = jemalloc_totals()
kept = ctypes.create_string_buffer(64 * 1024**2)
print(json.dumps([before, jemalloc_totals()]))
"""


def _jemalloc_installed() -> bool:
    probe = subprocess.run([str(ON_JEMALLOC), "true"], check=False, capture_output=True, text=True)
    return probe.returncode == 0 and "not found" not in probe.stderr


def test_a_process_on_another_allocator_has_no_jemalloc_totals() -> None:
    if "jemalloc" in os.environ.get("LD_PRELOAD", ""):
        pytest.skip("this test process itself runs on jemalloc")
    assert jemalloc_totals() is None


@pytest.mark.skipif(not _jemalloc_installed(), reason="libjemalloc2 missing (make up installs it)")
def test_a_process_on_jemalloc_reads_its_totals_and_sees_an_allocation() -> None:
    run = subprocess.run(
        [str(ON_JEMALLOC), sys.executable, "-c", READ_TWICE],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    before, after = json.loads(run.stdout)

    assert set(before) == set(TOTALS)
    assert before["allocated"] <= before["active"] <= before["mapped"]
    # Other small blocks come and go meanwhile: within a few KiB of the 64 MiB kept.
    assert after["allocated"] - before["allocated"] >= 63 * 1024**2


def test_this_process_maps_files_and_anonymous_memory() -> None:
    split = resident_split()
    assert split.files > 0 and split.anonymous > 0


def test_a_status_field_reads_in_mib_and_a_missing_one_is_named() -> None:
    before = status_mib(os.getpid(), "VmRSS")
    kept = bytearray(32 * 1024**2)
    assert status_mib("self", "VmRSS") - before >= len(kept) / 1024**2 * 0.9
    with pytest.raises(RuntimeError, match="no VmNothing"):
        status_mib("self", "VmNothing")


def test_the_pss_parts_sum_to_the_pss_and_anonymous_memory_holds_a_new_allocation() -> None:
    before = pss_parts_kib("self")
    kept = bytearray(32 * 1024**2)
    after, pss = pss_parts_kib("self"), rollup_kib("self", "Pss")["Pss"]

    assert set(after) == {"anonymous", "files", "shared"}
    # Read a moment apart: within a few pages of each other.
    assert abs(sum(after.values()) - pss) <= 64
    assert after["anonymous"] - before["anonymous"] >= len(kept) / 1024 * 0.9
    assert after["files"] > 0
