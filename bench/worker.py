"""A real ``faust -A app worker`` on topics of its own, for measuring.

The app's topic names are constants in :mod:`app.topics`. Until the app has a
``TOPIC_PREFIX`` setting, ``python -m bench.worker -A app worker ...`` runs
the unchanged worker with every topic name prefixed by ``BENCH_TOPIC_PREFIX``:
it wraps :meth:`faust.App.topic` before the app is imported, then rewrites the
name constants of :mod:`app.topics` so the agents imported later (which
compare message topics with them) see the prefixed names too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import faust

from app.settings import Settings
from tests.support.workers import REPO_ROOT, Worker

PREFIX_VARIABLE = "BENCH_TOPIC_PREFIX"


def app_has_topic_prefix() -> bool:
    """True once the app reads a ``TOPIC_PREFIX`` setting itself (no shim needed)."""
    return "topic_prefix" in Settings.model_fields


def install_topic_prefix(prefix: str) -> None:
    """Make every topic the app declares from now on carry ``prefix``."""
    declare = faust.App.topic

    def prefixed_topic(self: faust.App, *topics: str, **kwargs: Any) -> Any:
        return declare(self, *(prefix + name for name in topics), **kwargs)

    faust.App.topic = prefixed_topic  # type: ignore[method-assign]
    from app import topics  # declares the app's topics, prefixed

    declared = {topic.get_topic_name() for topic in topics.ALL_TOPICS}
    for name, value in list(vars(topics).items()):
        if name.isupper() and isinstance(value, str) and prefix + value in declared:
            setattr(topics, name, prefix + value)


class BenchWorker(Worker):
    """:class:`tests.support.workers.Worker` whose topics carry ``topic_prefix``."""

    def __init__(self, data_dir: Path, topic_prefix: str, **env: str) -> None:
        prefix_env = {"TOPIC_PREFIX" if app_has_topic_prefix() else PREFIX_VARIABLE: topic_prefix}
        super().__init__(data_dir, None, **prefix_env, **env)

    @property
    def pid(self) -> int:
        """The worker process's id."""
        if self._process is None:
            raise RuntimeError("worker not started")
        return self._process.pid

    def start(self) -> BenchWorker:
        """Start ``bench.worker`` (the prefixing launcher) and wait until it serves."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            **self._env,
            "WORKER_DATA_DIR": str(self.data_dir),
            "API_PORT": str(self.port),
        }
        module = "faust" if app_has_topic_prefix() else "bench.worker"
        command = [sys.executable, "-m", module, "-A", "app", "worker", "-l", "info"]
        command += ["--web-port", str(self.port), "--web-host", "127.0.0.1"]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_healthy()
        return self


def main() -> None:
    """``python -m bench.worker <faust arguments>``: the faust CLI, topics prefixed."""
    install_topic_prefix(os.environ[PREFIX_VARIABLE])
    from faust.cli.faust import cli

    cli()


if __name__ == "__main__":
    main()
