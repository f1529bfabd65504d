"""The faults: services stopped and started with the stack tool (``python -m stack``), workers killed.

Every fault is undone by its ``restore`` half even when the scenario fails, so a
chaos run never leaves a service down.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

from bench.worker import BenchWorker
from stack.elasticsearch_node import ElasticsearchNode
from stack.settings import load_settings
from tests.support.workers import REPO_ROOT

SERVICES = ("kafka", "postgresql", "elasticsearch")


def _stack(*args: str) -> None:
    # The stack tool needs only the standard library (as `make up` runs it), and root.
    done = subprocess.run(
        [sys.executable, "-m", "stack", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"python -m stack {' '.join(args)} failed: {done.stderr.strip()}")


def stop_service(name: str) -> None:
    """Stop one service (``python -m stack stop``): Kafka and Elasticsearch shut down cleanly."""
    if name not in SERVICES:
        raise ValueError(f"unknown service {name}")
    _stack("stop", name)


def start_service(name: str) -> None:
    """Start one service and return once it is healthy (``python -m stack start`` waits)."""
    if name not in SERVICES:
        raise ValueError(f"unknown service {name}")
    _stack("start", name)


def elasticsearch_pid() -> int:
    """The Elasticsearch server JVM's pid (from the pid file it writes itself)."""
    node = ElasticsearchNode(load_settings())
    pid = node.pid()
    if pid is None:
        raise RuntimeError(f"Elasticsearch is not running (pid file {node.server_pidfile.path})")
    return pid


def freeze(pid: int) -> None:
    """SIGSTOP: the process keeps its sockets but answers nothing (a hung node)."""
    os.kill(pid, signal.SIGSTOP)


def thaw(pid: int) -> None:
    """SIGCONT: the frozen process carries on."""
    os.kill(pid, signal.SIGCONT)


class ChaosWorker(BenchWorker):
    """A real worker on the run's own topics, which can be killed and started again.

    Restarting reuses the same data directory, port and ``WORKER_INSTANCE_ID``
    (static membership), like a supervisor restarting a crashed process.
    """

    def kill(self) -> None:
        """SIGKILL: a crash, nothing flushed, no leave-group sent."""
        self.stop(signal.SIGKILL)

    def wait_ready(self, timeout_s: float = 120.0) -> float:
        """Seconds until ``/health`` says the worker is ``up``: in the group, tables recovered."""
        began = time.monotonic()
        while time.monotonic() - began < timeout_s:
            if self._worker_state() == "up":
                return time.monotonic() - began
            time.sleep(0.2)
        raise TimeoutError(f"worker not ready in {timeout_s:g}s; see {self.log_path}")

    def _worker_state(self) -> str | None:
        try:
            health = httpx.get(f"{self.url}/health", timeout=2).json()
        except (httpx.HTTPError, ValueError):
            return None
        worker = health.get("dependencies", {}).get("worker", {})
        if not worker.get("assigned_partitions"):
            return None  # not in the group yet
        return str(worker.get("status"))

    def restart(self) -> float:
        """Start the process again; seconds until it answered ``/health``."""
        began = time.monotonic()
        self.start()
        return time.monotonic() - began
