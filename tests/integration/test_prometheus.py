"""The stack's Prometheus (a service of ``make up``) runs the repository's rules and targets.

It only reads the running Prometheus; the alerts firing are shown by test_alerts.py,
on a Prometheus of that test's own.
"""

from __future__ import annotations

import os
import time
from typing import Any

import httpx
import pytest
import yaml

from harness.workers import REPO_ROOT

pytestmark = pytest.mark.integration

PROMETHEUS_URL = f"http://127.0.0.1:{os.environ.get('PROMETHEUS_PORT', '9090')}"
WORKER_PORT = os.environ.get("API_PORT", "8000")


def api(path: str) -> Any:
    answer = httpx.get(f"{PROMETHEUS_URL}/api/v1/{path}", timeout=5)
    answer.raise_for_status()
    return answer.json()["data"]


def test_it_evaluates_the_rules_of_the_repository() -> None:
    rules = yaml.safe_load((REPO_ROOT / "ops" / "prometheus" / "alerts.yml").read_text())
    expected = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    loaded = {rule["name"] for group in api("rules")["groups"] for rule in group["rules"]}
    assert loaded == expected


def scraped_targets(timeout_s: float = 30.0) -> dict[str, Any]:
    """The active targets by job, once Prometheus has scraped itself (``make up`` may have just
    started it: a target reads ``unknown`` until its first scrape)."""
    deadline = time.monotonic() + timeout_s
    while True:
        targets = api("targets")["activeTargets"]
        by_job = {target["labels"]["job"]: target for target in targets}
        if by_job.get("prometheus", {}).get("health") != "unknown":
            return by_job
        if time.monotonic() > deadline:
            return by_job
        time.sleep(0.5)


def test_it_scrapes_itself_and_the_make_run_worker_with_the_token() -> None:
    by_job = scraped_targets()
    assert by_job["prometheus"]["health"] == "up"
    worker = by_job["workers"]
    assert worker["scrapeUrl"] == f"http://127.0.0.1:{WORKER_PORT}/metrics"
    assert worker["labels"]["role"] == "all"
    config = yaml.safe_load(api("status/config")["yaml"])
    (workers,) = [job for job in config["scrape_configs"] if job["job_name"] == "workers"]
    assert workers["authorization"]["type"] == "Bearer"
