"""A real ``faust -A app worker`` on topics of its own, for measuring.

:class:`tests.support.workers.Worker` (the very command ``make run`` uses),
with ``TOPIC_PREFIX`` set: the worker's topics are the bench run's alone.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.workers import Worker


class BenchWorker(Worker):
    """A worker whose topic names all start with ``topic_prefix``."""

    def __init__(self, data_dir: Path, topic_prefix: str, **env: str) -> None:
        super().__init__(data_dir, None, TOPIC_PREFIX=topic_prefix, **env)
