"""The soak's two censuses of its worker: what grew in Python over the second half, by holder.

The worker runs with ``MEMORY_SNAPSHOT_DIR`` set and tracing off
(:mod:`app.telemetry.object_census`); the soak sends it SIGUSR2 at half time and
again near the end, both under load, and reports the containers and types that
grew most between the two. So a run whose memory check fails already says
which structure grew, if it is Python's. Each census holds the worker for a few
seconds (a request may time out at the client and still apply: a "ghost" in
the audit, never a loss).
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from pathlib import Path

import orjson

from app.telemetry.object_census import Census
from bench.census_diff import Growth, container_growth, type_growth

#: When the censuses are taken, as fractions of the run: the second half's bounds.
MOMENTS = (0.5, 0.95)
#: Growths named in the report, per table.
SHOWN = 3


class SoakCensus:
    """Takes the two censuses of one worker and summarises what grew between them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        #: Seconds into the run at which each census was asked for.
        self.taken_at: list[float] = []

    def worker_env(self) -> dict[str, str]:
        """What the worker needs to answer SIGUSR2 with a census, at full speed."""
        return {"MEMORY_SNAPSHOT_DIR": str(self.directory), "MEMORY_TRACE_FRAMES": "0"}

    async def run(self, pid: Callable[[], int], duration_s: float) -> None:
        """Signal the worker (``pid()`` at that moment) at each of :data:`MOMENTS`."""
        waited = 0.0
        for moment in MOMENTS:
            await asyncio.sleep(duration_s * moment - waited)
            waited = duration_s * moment
            os.kill(pid(), signal.SIGUSR2)
            self.taken_at.append(waited)

    def summary(self) -> str | None:
        """One line: the blocks, then the holders and types that grew most; None without both."""
        paths = [self.directory / f"census-{n:03d}.json" for n in (1, 2)]
        if len(self.taken_at) < len(MOMENTS) or not all(p.exists() for p in paths):
            return None
        earlier, later = (Census.from_json(orjson.loads(p.read_bytes())) for p in paths)
        when = " and ".join(f"{t:.0f}s" for t in self.taken_at)
        return (
            f"Python between the censuses at {when}: blocks {earlier.blocks / 1000:.0f}k → "
            f"{later.blocks / 1000:.0f}k; entries by holder {_most(container_growth(earlier, later))}"
            f"; objects by type {_most(type_growth(earlier, later))} ({self.directory})"
        )


def _most(rows: list[Growth]) -> str:
    grown = [row for row in rows[:SHOWN] if row.change > 0]
    return ", ".join(f"{row.change:+,d} {row.name}" for row in grown) or "none grew"
