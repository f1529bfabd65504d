"""bench.cpu: CPU time read from /proc, interpolated over a window, per unit."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.cpu import (
    CLIENT,
    MACHINE,
    TOTAL,
    CpuSampler,
    own_cpu_s,
    per_unit_us,
    threads_cpu_s,
    tree_cpu_s,
)


def test_a_tree_counts_its_children() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "sum(range(3_000_000)); input()"], stdin=subprocess.PIPE
    )
    try:
        for _ in range(100):
            if own_cpu_s(child.pid) > 0.01:
                break
            time.sleep(0.05)
        assert tree_cpu_s(os.getpid()) >= own_cpu_s(os.getpid()) + own_cpu_s(child.pid) - 0.01
    finally:
        child.kill()
        child.wait()


def test_a_gone_process_counts_nothing() -> None:
    assert tree_cpu_s(2**22 + 1) == 0.0  # above the usual pid_max


def test_usage_is_interpolated_between_samples() -> None:
    sampler = CpuSampler()
    sampler.add("worker", os.getpid())
    sampler._series["worker"] = ([10.0, 20.0], [1.0, 3.0])
    sampler._series[MACHINE] = ([10.0, 20.0], [5.0, 5.0])
    used = sampler.used(12.5, 15.0)
    assert used["worker"] == 0.5
    assert used[MACHINE] == 0.0
    assert sampler.used(0.0, 30.0)["worker"] == 2.0  # clamped to the samples


def test_forgotten_trees_are_no_longer_reported() -> None:
    sampler = CpuSampler()
    sampler.add("worker", os.getpid())
    sampler.forget("worker")
    sampler.sample()
    assert "worker" not in sampler.used(0.0, 1e12)


def test_per_unit_totals_the_system_but_not_the_bench_or_machine() -> None:
    used = per_unit_us({"api": 0.002, "kafka": 0.001, CLIENT: 0.5, MACHINE: 9.0}, units=10)
    assert used["api"] == 200.0
    assert used[TOTAL] == 300.0


def test_each_thread_is_read_with_its_name_and_its_own_cpu() -> None:
    busy, done = threading.Event(), threading.Event()
    native_id: list[int] = []

    def named_and_busy() -> None:
        native_id.append(threading.get_native_id())
        Path(f"/proc/self/task/{native_id[0]}/comm").write_text("rdk:test")
        while time.thread_time() < 0.3:  # 0.3 s of this thread's own CPU
            pass
        busy.set()
        done.wait()

    thread = threading.Thread(target=named_and_busy)
    thread.start()
    try:
        assert busy.wait(30)
        threads = threads_cpu_s(os.getpid())
        name, cpu_s = threads[native_id[0]]
        assert name == "rdk:test"
        assert cpu_s >= 0.25
        assert os.getpid() in threads  # the main thread, under the process's own id
    finally:
        done.set()
        thread.join()
