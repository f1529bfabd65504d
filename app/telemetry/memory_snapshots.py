"""A diagnostic: tracemalloc snapshots of a worker's Python heap, taken on demand.

Off unless ``MEMORY_SNAPSHOT_DIR`` is set (tracing every allocation costs CPU
and memory). Then the worker traces its allocations from the start, with
:data:`FRAMES` frames each, and every SIGUSR2 writes a snapshot,
``snapshot-<n>.tracemalloc``, to that directory, so a load driver can take one
before and one after a known number of requests and compare them
(``python -m bench.memory_growth``): what grew, where it was allocated.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import tracemalloc
from pathlib import Path

from mode import Service

log = logging.getLogger(__name__)

#: Frames kept per allocation: enough to reach the caller that owns a structure.
FRAMES = 12


class MemorySnapshots(Service):
    """Traces the process's allocations; writes a snapshot to ``directory`` on each SIGUSR2."""

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory
        self.taken = 0
        tracemalloc.start(FRAMES)  # as early as possible: allocations before it are not seen

    async def on_start(self) -> None:
        """Listen for SIGUSR2."""
        self.directory.mkdir(parents=True, exist_ok=True)
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR2, self.write)

    async def on_stop(self) -> None:
        """Stop listening and tracing."""
        asyncio.get_running_loop().remove_signal_handler(signal.SIGUSR2)
        tracemalloc.stop()

    def write(self) -> Path:
        """Write the current snapshot (tracemalloc's own allocations left out); its path."""
        self.taken += 1
        path = self.directory / f"snapshot-{self.taken:03d}.tracemalloc"
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        snapshot.dump(str(path))
        log.info("memory snapshot %s written (%d traces)", path, len(snapshot.traces))
        return path
