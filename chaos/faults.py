"""The faults: services stopped and started through ``stack/stackctl.py``, workers killed.

Every fault is undone by its ``restore`` half even when the scenario fails, so a
chaos run never leaves a service down.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

from bench.worker import BenchWorker
from tests.support.workers import REPO_ROOT

STACKCTL = REPO_ROOT / "stack" / "stackctl.py"
SERVICES = ("kafka", "postgresql", "elasticsearch")


def _stackctl(*args: str) -> None:
    # stackctl runs on the system interpreter's standard library (as `make up` does).
    done = subprocess.run(
        [sys.executable, str(STACKCTL), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"stackctl {' '.join(args)} failed: {done.stderr.strip()}")


def stop_service(name: str) -> None:
    """Stop one service (``stackctl stop``): Kafka and Elasticsearch shut down cleanly."""
    if name not in SERVICES:
        raise ValueError(f"unknown service {name}")
    _stackctl("stop", name)


def start_service(name: str) -> None:
    """Start one service and return once it is healthy (``stackctl start`` waits)."""
    if name not in SERVICES:
        raise ValueError(f"unknown service {name}")
    _stackctl("start", name)


def _stackctl_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stackctl", STACKCTL)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {STACKCTL}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def elasticsearch_pid() -> int:
    """The Elasticsearch server JVM's pid (from the pid file it writes itself)."""
    stackctl = _stackctl_module()
    pidfile: Path = stackctl.es_pidfile(stackctl.load_settings())
    pid = stackctl.read_pid(pidfile)
    if not stackctl.pid_alive(pid, stackctl.ES_MARKER):
        raise RuntimeError(f"Elasticsearch is not running (pid file {pidfile})")
    return int(pid)


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

    def restart(self) -> float:
        """Start the process again; seconds until it answered ``/health``."""
        began = time.monotonic()
        self.start()
        return time.monotonic() - began
