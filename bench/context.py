"""What every phase of a bench run shares: options, topic names, workers, CPU, cleanup."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.api_keys import ALL_SCOPES, key_entry
from app.settings import get_settings
from bench.cpu import CpuSampler, per_unit_us
from harness.workers import PrefixedWorker

REPO_ROOT = Path(__file__).resolve().parent.parent
WORK_DIR = REPO_ROOT / "var" / "bench"
#: The bench key's rate limit: far above anything one client can send.
BENCH_KEY_RATE = 100_000.0
#: The worker roles each topology starts, the HTTP API's first.
ROLES_BY_TOPOLOGY = {"split": ("api", "processing", "logging"), "single": ("all",)}
#: The phases a run can be limited to (``--only``).
PHASES = ("solo", "pipeline", "naive")


@dataclass(frozen=True)
class Options:
    """What to measure and how hard."""

    n: int = 100_000
    runs: int = 3
    duration_s: float = 10.0
    concurrency: int = 64
    ingest_rate: float = 1000.0
    e2e_rate: float = 500.0
    #: The steady load whose CPU per accepted request is measured.
    steady_rate: float = 300.0
    steady_duration_s: float = 20.0
    #: Offered rates tried in turn for the sustained end-to-end rate.
    sustained_rates: tuple[float, ...] = (1000.0, 1500.0, 2000.0, 2500.0)
    #: Viewings per second (distinct new viewers of one title) for the trending lag.
    trending_rate: float = 500.0
    users: int = 200
    naive_n: int = 0  # 0: the same as n
    viewing_n: int = 0  # 0: the same as n
    api_key: str = ""
    output: Path = REPO_ROOT / "bench" / "results.json"
    keep: bool = False
    #: ``split``: one process per role (api, processing, logging), as deployed;
    #: ``single``: one process running every stage (``WORKER_ROLE=all``).
    topology: str = "split"
    #: The phases to run (default: all of :data:`PHASES`).
    only: tuple[str, ...] = PHASES

    @property
    def naive_events(self) -> int:
        """Backlog size of the baseline."""
        return self.naive_n or self.n

    @property
    def viewing_events(self) -> int:
        """Heartbeats in the viewing backlog."""
        return self.viewing_n or self.n


@dataclass
class RunTopics:
    """The topic names of one run (all under one prefix, so removable together)."""

    prefix: str
    partitions: int = field(default_factory=lambda: get_settings().topic_partitions)

    def name(self, base: str) -> str:
        """``base`` under this run's prefix."""
        return self.prefix + base

    def layout(self) -> dict[str, int]:
        """Every topic to create before the worker starts, with its partition count."""
        # Every topic an agent consumes: created by the bench, none is new to a worker's group.
        names = (
            "user_events",
            "response_events",
            "viewing_events",
            "session_events",
            "recommendation_requests",
            "title_activity",
        )
        return {self.name(n): self.partitions for n in names} | {self.name("dead_letters"): 1}


@dataclass
class Cleanup:
    """What one run wrote outside Kafka, to remove afterwards."""

    user_ids: list[int] = field(default_factory=list)
    correlation_ids: list[str] = field(default_factory=list)


@dataclass
class Run:
    """One run: its tag, options, CPU sampler, what to clean, and the CPU budget so far."""

    tag: str
    options: Options
    cpu: CpuSampler
    cleanup: Cleanup = field(default_factory=Cleanup)
    #: window -> process -> microseconds of CPU per unit (see :meth:`charge`).
    budget: dict[str, dict[str, float]] = field(default_factory=dict)
    _worker_names: list[str] = field(default_factory=list)

    def topics(self, suffix: str = "") -> RunTopics:
        """The topics of one part of the run (``s``: the solo phases)."""
        return RunTopics(prefix=f"{self.tag}{suffix}-")

    def worker(self, role: str, suffix: str = "") -> PrefixedWorker:
        """A worker of ``role`` on the topics (and group) of ``suffix``."""
        group = self.tag + suffix
        worker = PrefixedWorker(
            WORK_DIR / group / role,
            self.topics(suffix).prefix,
            APP_ID=group,
            WORKER_ROLE=role,
            **bench_key_env(self.options.api_key),
        )
        # Kept after the run's data directory is removed.
        worker.log_path = WORK_DIR / f"{group}-{role}.log"
        return worker

    async def start(self, workers: Sequence[tuple[str, PrefixedWorker]]) -> None:
        """Launch ``(name, worker)`` pairs together, follow their CPU, wait until they serve.

        The CPU of workers started earlier (stopped by now) is no longer followed.
        """
        for name in self._worker_names:
            self.cpu.forget(name)
        self._worker_names = [name for name, _ in workers]
        for name, worker in workers:
            worker.launch()
            self.cpu.add(name, worker.pid)
        await asyncio.gather(*(asyncio.to_thread(w.wait_healthy) for _, w in workers))

    def charge(self, window: str, start: float, end: float, units: int) -> dict[str, float]:
        """Record the CPU each process used between two epoch moments, per unit."""
        used = per_unit_us(self.cpu.used(start, end), units)
        self.budget[window] = used
        return used


def bench_key_env(api_key: str) -> dict[str, str]:
    """The worker's ``API_KEYS``: the bench key, every scope, no practical rate limit."""
    return {"API_KEYS": json.dumps([key_entry("bench", api_key, ALL_SCOPES, BENCH_KEY_RATE)])}


async def stop_all(workers: Sequence[PrefixedWorker]) -> None:
    """Stop workers together."""
    await asyncio.gather(*(asyncio.to_thread(worker.stop) for worker in workers))


def say(message: str) -> None:
    """A progress line on stderr."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def env_int(name: str, default: int) -> int:
    """An integer from the environment (``N=...`` of ``make bench``)."""
    return int(os.environ.get(name, str(default)))
