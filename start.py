#!/usr/bin/env python3
"""Start the streaming platform and open its dashboard: ``python start.py``.

Where a Docker engine answers (``docker info``) it runs ``docker compose up -d``
(compose.yml: every service, two API replicas, the dashboard on 8089).
Elsewhere it runs the native stack: ``make up`` (Kafka, PostgreSQL and
Elasticsearch under /var/lib/streaming-stack), then one worker in the
background serving the API on 8000 and the dashboard also on 8089, its log in
``var/log/worker.log``. Either way it waits until ``/health`` answers, then
opens the dashboard on 8089 in a browser (at ``:8000/dashboard/`` when 8089
does not answer), or prints its address when there is no display (or with
``--no-browser``).

Standard library only: it must run before any dependency is installed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import webbrowser
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from stack.config import load_settings
from stack.prometheus_server import PrometheusServer

ROOT = Path(__file__).resolve().parent
Mode = Literal["docker", "native"]
API_PORT = 8000
DASHBOARD_PORT = 8089
#: compose.yml names no project (Debian's docker-compose 1.29 refuses ``name:``).
COMPOSE_PROJECT = "streaming-platform"
WORKER_LOG = ROOT / "var" / "log" / "worker.log"
#: Digests of the development key, written by ``python -m app.api_keys dev``.
DEV_KEYS_FILE = ROOT / "var" / "api-keys.json"
WORKER_PID = ROOT / "var" / "worker.pid"
#: How long the dashboard port may take to open after /health answers.
DASHBOARD_WAIT_S = 30.0


class StartError(Exception):
    """A prerequisite is missing or a step failed; the message says what to do."""


@dataclass(frozen=True)
class Plan:
    """What this run does, decided from the machine and the options."""

    mode: Mode
    health_url: str
    dashboard_url: str
    open_browser: bool


# ---------- decisions (pure) ----------


def choose_mode(requested: str, docker_cli: bool, docker_engine: bool) -> Mode:
    """``docker`` when asked or when an engine answers; ``native`` otherwise."""
    if requested == "docker":
        if not docker_cli:
            raise StartError("--mode docker: the docker command is not installed")
        if not docker_engine:
            raise StartError("--mode docker: no Docker engine answers `docker info`")
        return "docker"
    if requested == "native":
        return "native"
    return "docker" if docker_cli and docker_engine else "native"


def has_display(platform: str, env: Mapping[str, str]) -> bool:
    """Whether a browser window can be shown to someone."""
    if platform in ("darwin", "win32"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def urls(mode: Mode, port: int = API_PORT, host: str = "localhost") -> tuple[str, str]:
    """(health URL, dashboard URL): the dashboard is on 8089 either way.

    Compose publishes it there through nginx; natively the worker serves it
    there itself (``DASHBOARD_PORT``).
    """
    api_port = API_PORT if mode == "docker" else port
    return f"http://{host}:{api_port}/health", f"http://{host}:{DASHBOARD_PORT}/"


def api_dashboard_url(health_url: str) -> str:
    """The dashboard at the API's own port: where it is when 8089 does not answer."""
    return f"{health_url.removesuffix('/health')}/dashboard/"


def make_plan(options: argparse.Namespace, docker_cli: bool, docker_engine: bool) -> Plan:
    """The whole decision for this run."""
    mode = choose_mode(options.mode, docker_cli, docker_engine)
    health, dashboard = urls(mode, options.port)
    show = not options.no_browser and has_display(sys.platform, os.environ)
    return Plan(mode, health, dashboard, show)


def native_prerequisites(which: Mapping[str, bool]) -> list[str]:
    """What the native stack needs and this machine lacks (empty when ready)."""
    needed = {"make": "make", "java": "a Java runtime (17+)", "mvn": "Maven"}
    return [label for tool, label in needed.items() if not which.get(tool)]


# ---------- the machine ----------


def run(command: Sequence[str]) -> None:
    """Run ``command`` in the repository, its output shown; raise if it fails."""
    print(f"$ {' '.join(command)}", flush=True)
    if subprocess.run(command, cwd=ROOT, check=False).returncode != 0:
        raise StartError(f"`{' '.join(command)}` failed")


def docker_engine_answers() -> bool:
    """Whether ``docker info`` reaches an engine."""
    try:
        done = subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def health_status(url: str) -> int | None:
    """HTTP status of ``url``, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def reachable_dashboard(plan: Plan, wait_s: float = DASHBOARD_WAIT_S) -> Plan:
    """``plan``, its dashboard moved to the API's port if 8089 does not answer in ``wait_s``.

    A worker opens 8089 once its tables are recovered, a moment after /health;
    a worker left running from before may not serve it at all.
    """
    deadline = time.monotonic() + wait_s
    while health_status(plan.dashboard_url) is None:
        if time.monotonic() >= deadline:
            print(f"nothing answers on {plan.dashboard_url}; using the API's port")
            return replace(plan, dashboard_url=api_dashboard_url(plan.health_url))
        time.sleep(1)
    return plan


def wait_healthy(url: str, timeout_s: float) -> None:
    """Return once ``url`` answers 200; raise after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    print(f"waiting for {url} ...", flush=True)
    while time.monotonic() < deadline:
        if health_status(url) == 200:
            return
        time.sleep(2)
    raise StartError(f"{url} did not answer 200 within {timeout_s:.0f}s")


def start_docker() -> None:
    """Build and start every container of compose.yml, as the project ``streaming-platform``."""
    run(["docker", "compose", "-p", COMPOSE_PROJECT, "up", "-d", "--build"])


def start_native(health_url: str, port: int) -> None:
    """``make up``, then a background worker unless one already answers."""
    which = {tool: shutil.which(tool) is not None for tool in ("make", "java", "mvn")}
    missing = native_prerequisites(which)
    if missing:
        raise StartError("the native stack needs " + ", ".join(missing))
    run(["make", "venv", "up"])
    print(f"development API key (send it as X-API-Key): {dev_api_key()}")
    if health_status(health_url) is None:
        start_worker(port)
    else:
        print(f"a worker already answers on port {port}; leaving it running")


def dev_api_key() -> str:
    """The development key (every scope), created on first use like ``make key``."""
    python = str(ROOT / ".venv" / "bin" / "python")
    answer = subprocess.run(
        [python, "-m", "app.api_keys", "dev"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return answer.stdout.strip()


def start_worker(port: int) -> None:
    """Run ``faust worker`` detached, on jemalloc, its output in var/log/worker.log."""
    WORKER_LOG.parent.mkdir(parents=True, exist_ok=True)
    python = str(ROOT / ".venv" / "bin" / "python")
    command = [str(ROOT / "ops" / "on-jemalloc"), python, "-m", "faust", "-A", "app", "worker"]
    command += ["-l", "info", "--web-port", str(port)]
    env = {
        **os.environ,
        "API_PORT": str(port),
        "DASHBOARD_PORT": str(DASHBOARD_PORT),
        "API_KEYS_FILE": str(DEV_KEYS_FILE),
        # The token the stack's Prometheus scrapes /metrics with (`make up` made it).
        "METRICS_TOKEN_FILE": str(PrometheusServer(load_settings()).token_file),
    }
    with WORKER_LOG.open("ab") as log:
        worker = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    WORKER_PID.write_text(f"{worker.pid}\n")
    print(f"worker started (pid {worker.pid}); log: {WORKER_LOG}")


def show_dashboard(plan: Plan) -> None:
    """Open the dashboard, or say where it is."""
    if plan.open_browser and webbrowser.open(plan.dashboard_url):
        print(f"dashboard opened: {plan.dashboard_url}")
    else:
        print(f"dashboard: {plan.dashboard_url}")
    print(f"API docs:  {plan.health_url.removesuffix('/health')}/docs")


# ---------- command line ----------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The options of ``python start.py``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--mode",
        choices=("auto", "docker", "native"),
        default="auto",
        help="docker: compose.yml; native: make up + a worker; auto (default): docker "
        "when `docker info` answers",
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="print the dashboard's address only"
    )
    parser.add_argument(
        "--port", type=int, default=API_PORT, help="native mode: the worker's API port (8000)"
    )
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for /health (300)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Start everything; 0 when the API is healthy, 1 with a message otherwise."""
    options = parse_args(argv)
    docker_cli = shutil.which("docker") is not None
    try:
        plan = make_plan(options, docker_cli, docker_cli and docker_engine_answers())
        print(f"starting the platform ({plan.mode})")
        if plan.mode == "docker":
            start_docker()
        else:
            start_native(plan.health_url, options.port)
        wait_healthy(plan.health_url, options.timeout)
        plan = reachable_dashboard(plan)
    except StartError as exc:
        print(f"start.py: {exc}", file=sys.stderr)
        return 1
    show_dashboard(plan)
    return 0


if __name__ == "__main__":
    sys.exit(main())
