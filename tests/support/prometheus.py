"""A Prometheus of a test's own: the repository's configuration and rules, sped up.

It runs Debian's ``prometheus`` (installed by ``make up``) on a port and data
directory of its own, never the stack's. Its configuration is
``ops/prometheus/prometheus.yml`` with one-second scrapes and evaluations, and
its rules are ``ops/prometheus/alerts.yml`` with every ``for`` cut to
:data:`FOR`: the same expressions and the same bearer-token scrape, fast enough
for a test.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from harness.workers import REPO_ROOT, free_port

OPS = REPO_ROOT / "ops" / "prometheus"
#: How long a condition must hold before an alert fires, instead of the rules' minutes.
FOR = "2s"
READY_DEADLINE_S = 30.0


def sped_up_config() -> dict[str, Any]:
    """prometheus.yml with scrapes and evaluations every second."""
    config: dict[str, Any] = yaml.safe_load((OPS / "prometheus.yml").read_text())
    config["global"] = {
        "scrape_interval": "1s",
        "scrape_timeout": "1s",
        "evaluation_interval": "1s",
    }
    return config


def sped_up_rules() -> dict[str, Any]:
    """alerts.yml with every ``for`` cut to :data:`FOR`."""
    rules: dict[str, Any] = yaml.safe_load((OPS / "alerts.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = FOR
    return rules


class OwnPrometheus:
    """One Prometheus process scraping the given workers with ``token``."""

    def __init__(self, home: Path, workers: dict[str, str], token: str) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = home / "prometheus.log"
        self._workers = workers
        self._token = token
        self._process: subprocess.Popen[bytes] | None = None

    def write_config(self) -> None:
        """The config, rules, targets (``instance -> role``) and token, as the stack lays them out."""
        for sub in ("targets", "secrets", "data"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        (self.home / "prometheus.yml").write_text(yaml.safe_dump(sped_up_config()))
        (self.home / "alerts.yml").write_text(yaml.safe_dump(sped_up_rules()))
        (self.home / "secrets" / "metrics-token").write_text(self._token + "\n")
        workers = [{"targets": [at], "labels": {"role": r}} for at, r in self._workers.items()]
        (self.home / "targets" / "workers.json").write_text(json.dumps(workers))
        itself = [{"targets": [f"127.0.0.1:{self.port}"]}]
        (self.home / "targets" / "prometheus.json").write_text(json.dumps(itself))

    def start(self) -> OwnPrometheus:
        """Start it and return once it is ready; fails with one line if it is not installed."""
        binary = shutil.which("prometheus")
        if binary is None:
            raise RuntimeError("prometheus is missing: `make up` installs Debian's package")
        self.write_config()
        command = [
            binary,
            f"--config.file={self.home / 'prometheus.yml'}",
            f"--storage.tsdb.path={self.home / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
        ]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, cwd=self.home, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_DEADLINE_S
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"prometheus exited early; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"prometheus not ready in {READY_DEADLINE_S}s; see {self.log_path}")

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL after 10 s)."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def api(self, path: str) -> Any:
        """The ``data`` of an HTTP API answer (``/api/v1/...``)."""
        answer = httpx.get(f"{self.url}/api/v1/{path}", timeout=5)
        answer.raise_for_status()
        return answer.json()["data"]

    def targets(self, job: str) -> list[dict[str, Any]]:
        """The active targets of ``job``, with their health and last error."""
        active: list[dict[str, Any]] = self.api("targets")["activeTargets"]
        return [target for target in active if target["labels"]["job"] == job]

    def firing(self, alertname: str) -> list[dict[str, str]]:
        """The label sets of ``alertname``'s alerts that fire now."""
        alerts: list[dict[str, Any]] = self.api("alerts")["alerts"]
        return [
            alert["labels"]
            for alert in alerts
            if alert["labels"]["alertname"] == alertname and alert["state"] == "firing"
        ]
