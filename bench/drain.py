"""Draining a pre-loaded backlog: how fast, and at what CPU cost per event.

Shared by the phases where workers work off a backlog, alone or together:
each returns its rate and the epoch moments its window spans, so the CPU
each process used in exactly that window can be charged to the backlog.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench import postgres, progress
from bench.cpu import SAMPLE_EVERY_S
from bench.measure import BenchDocuments
from harness.broker import end_offsets


async def applied(
    correlation_ids: Sequence[str], watcher: progress.OutcomeWatcher, expected: int
) -> tuple[float, float]:
    """Wait for ``expected`` outcomes in all; the window of ``correlation_ids``' processing.

    From the start of the first transaction that recorded one of them
    (``min(processed_at)``) to the Kafka timestamp of the last outcome.
    """
    await watcher.wait_for(expected, timeout_s=120 + len(correlation_ids) / 200)
    count, first = postgres.first_applied_at(correlation_ids)
    if first is None or count < len(correlation_ids):
        raise RuntimeError(f"only {count}/{len(correlation_ids)} backlog events recorded")
    await let_sampler_pass()
    return first.timestamp(), watcher.last_produced_at


async def indexed(documents: BenchDocuments, expected: int) -> tuple[float, float]:
    """Wait until ``expected`` documents are searchable; the window of their indexing.

    From when the first was built by a logging agent (``min(logged_at)``) to
    the moment all were searchable (polled every 0.25 s; the index refreshes each second).
    """
    done = await searchable(documents, expected, timeout_s=120 + expected / 500)
    await let_sampler_pass()
    return await documents.first_logged_at(), done


async def searchable(documents: BenchDocuments, expected: int, timeout_s: float) -> float:
    """Wait until ``expected`` documents are searchable; when they were (epoch seconds)."""
    deadline = time.monotonic() + timeout_s
    while (count := await documents.count()) < expected:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {count}/{expected} documents in system_logs")
        await asyncio.sleep(0.25)
    return time.time()


@dataclass(frozen=True, slots=True)
class StatusAgent:
    """The status agent of a run's workers: its work leaves no trace the bench reads
    otherwise (it writes a table of its own worker), so its checkpoints are followed."""

    group_id: str
    topic: str

    async def caught_up(self, timeout_s: float) -> float:
        """Wait until it has checkpointed everything on its topic so far; when it had (epoch s)."""
        ends = {tp.partition: end for tp, end in (await end_offsets(self.topic)).items() if end}
        deadline = time.monotonic() + timeout_s
        while not self._reached(ends):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the status agent of {self.group_id} is behind on {self.topic}")
            await asyncio.sleep(0.25)
        return time.time()

    def _reached(self, ends: dict[int, int]) -> bool:
        saved = postgres.checkpoints(self.group_id, "status", self.topic)
        return all(saved.get(partition, 0) >= end for partition, end in ends.items())


def rate(units: int, window: tuple[float, float]) -> float:
    """Units per second over an epoch window."""
    start, end = window
    return units / (end - start)


async def let_sampler_pass() -> None:
    """Let the CPU sampler take a sample after the window's end, to interpolate to it."""
    await asyncio.sleep(2 * SAMPLE_EVERY_S)
