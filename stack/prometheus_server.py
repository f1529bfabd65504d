"""Prometheus: Debian's package, scraping the worker and itself, with the repository's alerts.

Every `up` copies ops/prometheus/prometheus.yml and alerts.yml (the files compose
mounts too) to STACK_HOME/prometheus/config/ and writes beside them what differs
per deployment: the targets (file_sd: the worker `make run` starts on API_PORT,
role `all`, and Prometheus itself) and, once, the bearer token Prometheus presents
on /metrics. `python3 -m stack metrics-token-file` prints where that token is: a
worker given it as METRICS_TOKEN_FILE accepts it (`make run` does so). A running
Prometheus is told to reload (SIGHUP) instead of being restarted.

Prometheus runs as the system user `prometheus` (Debian's package creates it), never
as root, and listens on 127.0.0.1:PROMETHEUS_PORT.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
from pathlib import Path

from stack.config import Settings
from stack.messages import StackError, say
from stack.prerequisites import apt_install, ensure_system_user
from stack.processes import (
    PidFile,
    chown_tree,
    http_get,
    make_dir,
    refuse_taken_ports,
    signal_pid,
    spawn,
    stop_processes,
    wait_healthy,
)
from stack.service import Service

PROMETHEUS_USER = "prometheus"
#: The release Debian 12 ships, which compose.yml's image matches (tests/unit/test_compose.py).
PROMETHEUS_VERSION = "2.42.0"
#: Debian's package: the server and promtool, which checks and unit-tests the rules.
PROMETHEUS_PACKAGES = ("prometheus",)
#: The configuration and rules in the repository, shared with compose.yml.
OPS_DIR = Path(__file__).resolve().parents[1] / "ops" / "prometheus"
CONFIG_FILES = ("prometheus.yml", "alerts.yml")
#: Relative to the config directory, as prometheus.yml names it (credentials_file).
TOKEN_PATH = Path("secrets") / "metrics-token"
START_TIMEOUT = 60.0
RETENTION = "15d"


def parse_version(text: str) -> str:
    """The version in `prometheus --version` output ("2.42.0" of "version 2.42.0+ds")."""
    match = re.search(r"version (\d+\.\d+\.\d+)", text)
    return match.group(1) if match else "?"


def worker_targets(s: Settings) -> list[dict[str, object]]:
    """file_sd entries of the native workers: the one `make run` starts (every role)."""
    return [{"targets": [f"127.0.0.1:{s.worker_port}"], "labels": {"role": "all"}}]


def self_targets(s: Settings) -> list[dict[str, object]]:
    """file_sd entries of Prometheus itself."""
    return [{"targets": [f"127.0.0.1:{s.prometheus_port}"]}]


class PrometheusServer(Service):
    """Prometheus on 127.0.0.1:PROMETHEUS_PORT, evaluating ops/prometheus/alerts.yml."""

    name = "prometheus"

    @property
    def config_dir(self) -> Path:
        """prometheus.yml, alerts.yml, targets/ and secrets/ (paths in the config are relative)."""
        return self.settings.prometheus / "config"

    @property
    def data_dir(self) -> Path:
        """The time-series database, owned by the prometheus user."""
        return self.settings.prometheus / "data"

    @property
    def token_file(self) -> Path:
        """The bearer token Prometheus presents; workers accept it as METRICS_TOKEN_FILE."""
        return self.config_dir / TOKEN_PATH

    @property
    def pidfile(self) -> PidFile:
        """Pid of the server, recognised by its config path on the command line."""
        return PidFile(self.settings.prometheus / "prometheus.pid", str(self.config_dir))

    @property
    def log(self) -> Path:
        """Prometheus' own log (stderr)."""
        return self.settings.logs / "prometheus.log"

    def port(self) -> int:
        """The HTTP port (UI and API)."""
        return self.settings.prometheus_port

    def url(self) -> str:
        """Where a browser opens it."""
        return f"http://127.0.0.1:{self.port()}/"

    def install(self) -> str:
        """Install Debian's prometheus (promtool included) when missing; return its path."""
        binary = shutil.which("prometheus")
        if binary is not None and shutil.which("promtool") is not None:
            return binary
        say("installing Prometheus from Debian's packages (apt-get)")
        log = self.settings.logs / "apt.log"
        apt_install(PROMETHEUS_PACKAGES, log, manual="Prometheus 2.42 (promtool included)")
        binary = shutil.which("prometheus")
        if binary is None:
            raise StackError(f"apt-get installed no prometheus; see {log}")
        return binary

    def provision(self) -> None:
        """The package, the user, the config and rules, the targets and the token."""
        self.install()
        ensure_system_user(PROMETHEUS_USER, self.settings.prometheus)
        make_dir(self.settings.prometheus)
        make_dir(self.config_dir)
        make_dir(self.config_dir / "targets")
        for name in CONFIG_FILES:
            shutil.copyfile(OPS_DIR / name, self.config_dir / name)
        self.write_targets()
        self.ensure_token()
        make_dir(self.data_dir, owner=PROMETHEUS_USER, mode=0o700)
        chown_tree(self.data_dir, PROMETHEUS_USER)

    def write_targets(self) -> None:
        """targets/workers.json and prometheus.json; other workers*.json files are left alone."""
        targets = self.config_dir / "targets"
        for name, entries in (
            ("workers.json", worker_targets(self.settings)),
            ("prometheus.json", self_targets(self.settings)),
        ):
            (targets / name).write_text(json.dumps(entries, indent=2) + "\n")

    def ensure_token(self) -> None:
        """Create the metrics token once: readable by root and the prometheus user only."""
        group = pwd.getpwnam(PROMETHEUS_USER).pw_gid
        os.chown(make_dir(self.token_file.parent, mode=0o750), 0, group)
        if not self.token_file.exists() or not self.token_file.read_text().strip():
            self.token_file.write_text(secrets.token_urlsafe(32) + "\n")
        self.token_file.chmod(0o640)
        os.chown(self.token_file, 0, group)

    def command(self) -> list[str]:
        """The server: our config and data, loopback only, reloadable by SIGHUP."""
        return [
            shutil.which("prometheus") or "prometheus",
            f"--config.file={self.config_dir / 'prometheus.yml'}",
            f"--storage.tsdb.path={self.data_dir}",
            f"--storage.tsdb.retention.time={RETENTION}",
            f"--web.listen-address=127.0.0.1:{self.port()}",
        ]

    def start(self) -> None:
        """Start Prometheus as its user unless it runs; a running one reloads its config."""
        if self.running():
            pid = self.pidfile.live_pid()
            if pid is not None:
                signal_pid(pid, signal.SIGHUP)
            return
        refuse_taken_ports(self.name, [(self.port(), "PROMETHEUS_PORT")])
        pid = spawn(self.command(), self.log, cwd=self.settings.prometheus, user=PROMETHEUS_USER)
        self.pidfile.record(pid)
        say(f"started Prometheus (pid {pid})")

    def wait(self) -> None:
        """Wait until Prometheus says it is ready (config and rules loaded)."""
        wait_healthy(self.name, self.healthy, self.running, START_TIMEOUT, self.log)

    def stop(self) -> bool:
        """Stop Prometheus (SIGTERM: it flushes its head block)."""
        return stop_processes(self.name, [(self.pidfile, None)])

    def running(self) -> bool:
        """True when our Prometheus is alive."""
        return self.pidfile.alive()

    def healthy(self) -> bool:
        """Its readiness endpoint answers."""
        return http_get(f"{self.url()}-/ready") is not None

    def pid(self) -> int | None:
        """The server's pid while it runs."""
        return self.pidfile.live_pid()

    def describe(self) -> str:
        """Where it listens, what it scrapes, which version, where its log is."""
        return (
            f"{self.url()} (scraping the worker on 127.0.0.1:{self.settings.worker_port} "
            f"and itself; token {self.token_file}), Prometheus {installed_version()}, "
            f"log {self.log}"
        )


def installed_version() -> str:
    """The installed Prometheus' version, "?" when it is not installed."""
    binary = shutil.which("prometheus")
    if binary is None:
        return "?"
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    return parse_version(done.stdout + done.stderr)
