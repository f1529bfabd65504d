"""The faults: services stopped and started with the stack tool (``python -m stack``), workers killed.

Every fault is undone by its ``restore`` half even when the scenario fails, so a
chaos run never leaves a service down.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping

import httpx

from app.settings import get_settings
from harness.workers import REPO_ROOT, PrefixedWorker
from stack.config import load_settings
from stack.elasticsearch_node import ElasticsearchNode

SERVICES = ("kafka", "postgresql", "elasticsearch")


def stack_tool(*args: str, env: Mapping[str, str] | None = None) -> str:
    """Run ``python -m stack ARGS`` (with ``env``, default ours) and return what it printed."""
    # The stack tool needs only the standard library (as `make up` runs it), and root.
    done = subprocess.run(
        [sys.executable, "-m", "stack", *args],
        cwd=REPO_ROOT,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"python -m stack {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def stop_service(name: str) -> None:
    """Stop one service (``python -m stack stop``): Kafka and Elasticsearch shut down cleanly."""
    if name not in SERVICES:
        raise ValueError(f"unknown service {name}")
    stack_tool("stop", name)


def start_service(name: str) -> None:
    """Start one service and return once it is healthy (``python -m stack start`` waits)."""
    if name not in SERVICES:
        raise ValueError(f"unknown service {name}")
    stack_tool("start", name)


async def service_down(name: str, seconds: float) -> None:
    """Stop one service, keep it down for ``seconds``, start it again (even if cancelled)."""
    try:
        await asyncio.to_thread(stop_service, name)
        await asyncio.sleep(seconds)
    finally:
        await asyncio.to_thread(start_service, name)


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


class ChaosWorker(PrefixedWorker):
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


# --------------------------------------------------------------------------- Elasticsearch's disk

#: The disk-allocation settings the flood-stage fault changes (transient: a restart forgets them).
_DISK_SETTINGS = (
    "cluster.routing.allocation.disk.threshold_enabled",
    "cluster.routing.allocation.disk.watermark.low",
    "cluster.routing.allocation.disk.watermark.high",
    "cluster.routing.allocation.disk.watermark.flood_stage",
    "cluster.info.update.interval",
)
#: Elasticsearch's shortest interval between disk-usage readings.
_DISK_READING_INTERVAL = "10s"
_BLOCK = "index.blocks.read_only_allow_delete"


def _es() -> httpx.Client:
    return httpx.Client(base_url=get_settings().elasticsearch_host, timeout=30)


def flood_disk() -> None:
    """Make Elasticsearch judge its disk past the flood stage, so its indices turn read-only.

    The stack runs it with the disk threshold off; this turns it on with every
    watermark at the disk's whole size in free bytes (no disk has that much
    free), as if the disk had filled up. Elasticsearch then puts the
    ``read_only_allow_delete`` block on every index at its next disk reading.
    """
    with _es() as es:
        total = es.get("/_nodes/_local/stats/fs").json()["nodes"]
        size = next(iter(total.values()))["fs"]["total"]["total_in_bytes"]
        watermark = f"{size}b"
        values = [True, watermark, watermark, watermark, _DISK_READING_INTERVAL]
        answer = es.put(
            "/_cluster/settings", json={"transient": dict(zip(_DISK_SETTINGS, values, strict=True))}
        )
        answer.raise_for_status()


def restore_disk() -> None:
    """Put the disk settings back as the stack configures them (the transient values removed)."""
    with _es() as es:
        reset = dict.fromkeys(_DISK_SETTINGS)
        es.put("/_cluster/settings", json={"transient": reset}).raise_for_status()


def read_only(index: str) -> bool:
    """Whether ``index`` (or an index of the alias ``index``) carries the flood stage's
    ``read_only_allow_delete`` block."""
    with _es() as es:
        answer = es.get(f"/{index}/_settings/{_BLOCK}", params={"flat_settings": "true"})
        answer.raise_for_status()
        blocks = [found.get("settings", {}).get(_BLOCK) for found in answer.json().values()]
        return any(str(block).lower() == "true" for block in blocks)


def remove_block(index: str) -> None:
    """Lift the ``read_only_allow_delete`` block by hand (Elasticsearch did not)."""
    with _es() as es:
        es.put(f"/{index}/_settings", json={_BLOCK: None}).raise_for_status()
