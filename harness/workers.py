"""Real Faust workers as subprocesses, and an HTTP client for their API.

Each worker runs ``faust -A app worker`` exactly as ``make run`` does, with its
own web port and data directory. Every worker's topics and consumer group
belong to this test run alone (:func:`own_names`): a run never reads, or waits
for, what earlier runs left on the broker. Workers started with the same names
share a group and split its partitions like two replicas in production.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from app.api_keys import key_entry
from app.requests.envelope import CorrelationIds
from app.settings import get_settings

#: Names this test run apart from every other run against the same broker.
RUN_ID = uuid.uuid4().hex[:8]
#: Prefix of every topic and group of this run (:func:`delete_run_topics` removes them).
RUN_PREFIX = f"t{RUN_ID}-"


#: Signs correlation ids as test workers do (they share the settings' secret), for events a
#: test writes to Kafka itself.
correlation_ids = CorrelationIds(get_settings().correlation_secret)


def own_names(name: str) -> dict[str, str]:
    """Worker environment for topics and a consumer group called ``name`` in this run only."""
    group = f"{RUN_PREFIX}{name}"
    return {"APP_ID": group, "TOPIC_PREFIX": f"{group}-"}


#: The callers every test worker knows: name -> (key, scopes, requests per second).
TEST_CALLERS: dict[str, tuple[str, frozenset[str], float]] = {
    "tests": ("test-key-admin-0f9d2c", frozenset({"read", "write", "admin"}), 100_000.0),
    "alice": ("test-key-alice-7b1e44", frozenset({"read", "write"}), 100_000.0),
    "bob": ("test-key-bob-93ac10", frozenset({"read", "write"}), 100_000.0),
    "reader": ("test-key-reader-5d2f87", frozenset({"read"}), 100_000.0),
    "slow": ("test-key-slow-c4e0b9", frozenset({"read", "write"}), 2.0),
}
ADMIN = "tests"


def test_api_keys() -> str:
    """The ``API_KEYS`` value configuring :data:`TEST_CALLERS` (digests only)."""
    entries = [
        key_entry(name, secret, scopes, rate)
        for name, (secret, scopes, rate) in TEST_CALLERS.items()
    ]
    return json.dumps(entries)


REPO_ROOT = Path(__file__).resolve().parents[1]
START_DEADLINE_S = 90.0


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Worker:
    """One worker process: start, wait until it serves, stop or kill it."""

    #: Whether any worker was started in this run (its topics then need deleting).
    started_any = False

    def __init__(self, data_dir: Path, port: int | None = None, **env: str) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / f"worker-{self.port}.log"
        self._env = {**own_names("shared"), "API_KEYS": test_api_keys(), **env}
        #: The checkout whose code the worker runs (another one: a bench comparing two versions).
        self.checkout = REPO_ROOT
        self._process: subprocess.Popen[bytes] | None = None

    def topic(self, base: str) -> str:
        """The name this worker gives the contract's topic ``base``."""
        return self._env.get("TOPIC_PREFIX", "") + base

    def start(self) -> Worker:
        """Start the process and return once ``/health`` answers 200."""
        self.launch()
        self.wait_healthy()
        return self

    def launch(self) -> None:
        """Start the process without waiting for it to serve."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            **self._env,
            "WORKER_DATA_DIR": str(self.data_dir),
            "API_PORT": str(self.port),
        }
        if self.checkout != REPO_ROOT:  # its packages first, not the ones installed editable
            env["PYTHONPATH"] = str(self.checkout)
        command = self.command()
        Worker.started_any = True
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, cwd=self.checkout, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def command(self) -> list[str]:
        """The worker's command line: ``make run``'s, on jemalloc like every worker."""
        launcher = str(REPO_ROOT / "ops" / "on-jemalloc")
        command = [launcher, sys.executable, "-m", "faust", "-A", "app", "worker", "-l", "info"]
        return [*command, "--web-port", str(self.port), "--web-host", "127.0.0.1"]

    def wait_healthy(self) -> None:
        """Return once ``/health`` answers 200; fail if the process exits first."""
        deadline = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"worker exited early; see {self.log_path}")
            if self._answers_health():
                return
            time.sleep(0.25)
        raise TimeoutError(f"worker not healthy in {START_DEADLINE_S}s; see {self.log_path}")

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

    def _answers_health(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        """Send ``sig`` (SIGKILL simulates a crash) and wait for the exit."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(sig)
        try:
            self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    @property
    def pid(self) -> int:
        """The worker process's id (for profilers and memory readings)."""
        if self._process is None:
            raise RuntimeError("worker not started")
        return self._process.pid

    @property
    def alive(self) -> bool:
        """Whether the worker process is alive."""
        return self._process is not None and self._process.poll() is None

    def client(self, caller: str | None = ADMIN) -> httpx.Client:
        """An HTTP client bound to this worker's API, presenting ``caller``'s key."""
        headers = {"X-API-Key": TEST_CALLERS[caller][0]} if caller else {}
        return httpx.Client(base_url=self.url, timeout=10, headers=headers)


#: The fields of a status that say what happened (its time stamps aside: a status read
#: before the status agent recorded it comes from the ledger, with the ledger's times).
OUTCOME_FIELDS = ("correlation_id", "status", "message", "original_event_type", "user_id")


def outcome_of(status: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``status`` that say what happened (:data:`OUTCOME_FIELDS`)."""
    return {name: status.get(name) for name in OUTCOME_FIELDS}


def wait_for_final_status(
    client: httpx.Client, correlation_id: str, timeout: float = 30.0
) -> dict[str, Any]:
    """Poll ``/status/{id}`` until it is no longer ``pendente``; return it."""
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        answer = client.get(f"/status/{correlation_id}")
        if answer.status_code == 200:
            body = answer.json()
            if body["status"] != "pendente":
                return body
        time.sleep(0.1)
    raise TimeoutError(f"{correlation_id} still not final after {timeout}s: {body}")


class PrefixedWorker(Worker):
    """A worker whose topic names all start with ``topic_prefix`` (a bench or chaos run's own)."""

    def __init__(self, data_dir: Path, topic_prefix: str, **env: str) -> None:
        super().__init__(data_dir, None, TOPIC_PREFIX=topic_prefix, **env)
