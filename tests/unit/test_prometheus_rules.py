"""ops/prometheus: the configuration and alert rules are valid, unit-tested, and read real metrics.

promtool comes with Debian's prometheus package, which `make up` installs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from stack.prometheus_server import PROMETHEUS_VERSION, parse_version
from tests.support.metrics import exported_metric_names, metric_names_in

ROOT = Path(__file__).resolve().parents[2]
OPS = ROOT / "ops" / "prometheus"
#: Series Prometheus makes itself for every target.
SCRAPE_SERIES = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"})
#: The conditions issue #27 asks an alert for.
ALERTS = {
    "WorkerDown",
    "ConsumerLagGrowing",
    "BatchPastDeadline",
    "RecordsSkipped",
    "DeadLettersArriving",
    "FallbackFileNotEmpty",
    "HighHttp5xxRate",
    "StatusReadsUnavailable",
}


def promtool(*args: str, cwd: Path = OPS) -> subprocess.CompletedProcess[str]:
    """Run promtool; fail with one line saying how to get it when it is missing."""
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail(
            "promtool is missing: `make up` installs Debian's prometheus (promtool included)"
        )
    return subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, check=False)


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load((OPS / "alerts.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_the_alert_rules_are_valid() -> None:
    checked = promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_alert_rules_pass_their_unit_tests() -> None:
    tested = promtool("test", "rules", "alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_configuration_is_valid_with_its_token_in_place(tmp_path: Path) -> None:
    for name in ("prometheus.yml", "alerts.yml"):
        shutil.copy(OPS / name, tmp_path / name)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "metrics-token").write_text("token\n")
    checked = promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_condition_of_the_issue_has_an_alert_and_every_alert_a_test() -> None:
    names = {rule["alert"] for rule in rules()}
    assert names == ALERTS
    tests = yaml.safe_load((OPS / "alerts_test.yml").read_text())["tests"]
    tested = {case["alertname"] for test in tests for case in test["alert_rule_test"]}
    assert tested == names


def test_every_alert_reads_metrics_the_app_exports() -> None:
    known = exported_metric_names() | SCRAPE_SERIES
    for rule in rules():
        used = metric_names_in(rule["expr"])
        assert used, f"{rule['alert']}: no metric found in {rule['expr']!r}"
        assert used <= known, f"{rule['alert']} reads metrics nobody exports: {used - known}"


def test_workers_are_scraped_with_the_bearer_token_file() -> None:
    config = yaml.safe_load((OPS / "prometheus.yml").read_text())
    workers = next(job for job in config["scrape_configs"] if job["job_name"] == "workers")
    assert workers["authorization"] == {
        "type": "Bearer",
        "credentials_file": "secrets/metrics-token",
    }
    assert config["rule_files"] == ["alerts.yml"]


def test_the_installed_release_is_the_one_compose_runs() -> None:
    shown = promtool("--version")
    assert parse_version(shown.stdout + shown.stderr) == PROMETHEUS_VERSION
