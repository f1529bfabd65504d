"""CPU time per process, read from ``/proc``: what each part of the system costs per event.

A :class:`CpuSampler` reads the cumulative CPU time (user + system, every
thread) of a few named process trees ten times a second, on a thread of its
own, and answers afterwards how much each used between two wall-clock moments
(linear interpolation between samples). The moments come from the phases' own
clocks (PostgreSQL's ``processed_at``, Kafka record timestamps), so a window
covers the work being measured and nothing of a worker's start-up.

A tree is a process and its descendants: PostgreSQL's postmaster forks a
backend per connection, and a backend that exits hands its time to the
postmaster's ``cutime``/``cstime`` (children waited for), so the sum over the
live tree plus those never goes backwards. CPU time is robust to a busy
machine in a way throughput is not: a process preempted by someone else's work
is slower, but spends the same CPU per event.
"""

from __future__ import annotations

import bisect
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from stack.cli import build_services
from stack.config import load_settings

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: Seconds between samples.
SAMPLE_EVERY_S = 0.1
#: The services whose CPU is part of the system's (Adminer is not).
SERVICES = ("kafka", "postgresql", "elasticsearch")
#: The whole machine, every process of every user (from ``/proc/stat``).
MACHINE = "machine"
#: The bench itself (load generator, watchers): on the machine, not part of the system.
CLIENT = "bench"
#: The sum over the system's processes: workers and services.
TOTAL = "total"


def _stat_fields(stat: Path) -> list[str]:
    """A ``stat`` file of ``/proc`` (a process's or a thread's) after the command name (which
    may hold spaces)."""
    text = stat.read_text()
    return text[text.rindex(")") + 2 :].split()


def _own_s(fields: list[str]) -> float:
    """CPU seconds in ``fields`` (:func:`_stat_fields`): utime + stime, fields 14-15 of proc(5)."""
    return sum(int(v) for v in fields[11:13]) / CLOCK_TICKS


def _children(pid: int) -> list[int]:
    """Children forked by the process's main thread (PostgreSQL's postmaster has no other).

    Reading every thread's list would cost a hundred reads per JVM per sample.
    """
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def process_cpu_s(pid: int) -> float:
    """CPU seconds of one process: itself (all threads) and the children it waited for."""
    fields = _stat_fields(Path(f"/proc/{pid}/stat"))
    # Fields 14-17 of proc(5): utime, stime, cutime, cstime; ``fields`` starts at field 3.
    return sum(int(v) for v in fields[11:15]) / CLOCK_TICKS


def own_cpu_s(pid: int) -> float:
    """CPU seconds of one process alone (all threads), not of its children."""
    return _own_s(_stat_fields(Path(f"/proc/{pid}/stat")))


def threads_cpu_s(pid: int) -> dict[int, tuple[str, float]]:
    """Each live thread of the process: its id -> (its name, its CPU seconds so far).

    By name, librdkafka's threads (``rdk:main``, ``rdk:broker1``...) are told
    apart: C threads that py-spy, which samples Python's threads, never sees.
    """
    threads = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = _stat_fields(task / "stat")
        except FileNotFoundError:  # the thread ended meanwhile
            continue
        threads[int(task.name)] = (name, _own_s(fields))
    return threads


def tree_cpu_s(pid: int) -> float:
    """CPU seconds of ``pid`` and every live descendant (0 if it is gone)."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            total += process_cpu_s(current)
            pending += _children(current)
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue  # exited meanwhile: its time is in its parent's cutime now
    return total


def machine_cpu_s() -> float:
    """CPU seconds the whole machine spent busy (every core, every user) since boot."""
    first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    # user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait.
    ticks = [int(v) for v in first[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / CLOCK_TICKS


class CpuSampler:
    """Samples the CPU time of named process trees (and the machine) in the background.

    Trees may be added while it runs (a worker launched mid-run): a tree's
    time is known from its first sample on.
    """

    def __init__(self, every_s: float = SAMPLE_EVERY_S) -> None:
        self.every_s = every_s
        self._pids: dict[str, tuple[int, ...]] = {MACHINE: ()}
        #: Followed without their children (the bench itself: its children are the workers).
        self._alone: set[str] = set()
        #: name -> (sample times, cumulative CPU seconds at those times)
        self._series: dict[str, tuple[list[float], list[float]]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, name: str, *pids: int, tree: bool = True) -> None:
        """Follow ``pids`` (their trees, summed; or the processes alone) under ``name``."""
        with self._lock:
            self._pids[name] = pids
            if not tree:
                self._alone.add(name)
            self._series.pop(name, None)
        self.sample()

    def forget(self, name: str) -> None:
        """Stop following ``name`` (a worker that stopped) and drop its samples."""
        with self._lock:
            self._pids.pop(name, None)
            self._series.pop(name, None)
            self._alone.discard(name)

    def start(self) -> CpuSampler:
        """Take the first sample, then keep sampling on a daemon thread."""
        self.sample()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Take a last sample and stop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()

    def sample(self) -> None:
        """Record every tree's cumulative CPU time now."""
        with self._lock:
            now = time.time()
            for name, pids in self._pids.items():
                value = self._read(name, pids)
                times, values = self._series.setdefault(name, ([], []))
                times.append(now)
                values.append(value)

    def _read(self, name: str, pids: tuple[int, ...]) -> float:
        if name == MACHINE:
            return machine_cpu_s()
        return sum(map(own_cpu_s if name in self._alone else tree_cpu_s, pids))

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.sample()

    @property
    def names(self) -> list[str]:
        """Every tree followed (and :data:`MACHINE`)."""
        return list(self._series)

    def used(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds each tree (and the machine) used between two epoch moments."""
        with self._lock:
            return {name: self._at(name, end) - self._at(name, start) for name in self._series}

    def _at(self, name: str, moment: float) -> float:
        """The cumulative CPU time of ``name`` at ``moment``, interpolated."""
        times, values = self._series[name]
        i = bisect.bisect_left(times, moment)
        if i == 0:
            return values[0]
        if i >= len(times):
            return values[-1]
        t0, t1 = times[i - 1], times[i]
        return values[i - 1] + (values[i] - values[i - 1]) * (moment - t0) / (t1 - t0)


def service_pids() -> dict[str, tuple[int, ...]]:
    """The server processes of the stack's services (``python3 -m stack``), by service.

    A three-node Kafka counts as one service. Services the stack tool does not
    run here (compose, a remote cluster) are left out.
    """
    found: dict[str, tuple[int, ...]] = {}
    for service in build_services(load_settings()):
        if service.name not in SERVICES:
            continue
        pids = tuple(p for member in service.members() if (p := member.pid()) is not None)
        if pids:
            found[service.name] = pids
    return found


def per_unit_us(used_s: Mapping[str, float], units: int) -> dict[str, float]:
    """CPU seconds turned into microseconds per unit (event, request, document), with a total.

    The total is the system's: every process but the bench's and the machine.
    """
    per_unit = {name: seconds * 1e6 / max(units, 1) for name, seconds in used_s.items()}
    per_unit[TOTAL] = sum(v for k, v in per_unit.items() if k not in (MACHINE, CLIENT))
    return per_unit
