"""The worker unit's own command line starts a worker of its role against the running services.

ops/systemd/streaming-worker@.service is read as systemd reads it: its
environment files (the examples in ops/systemd/env/ standing for
/etc/streaming-platform/), its ``Environment=`` lines and specifiers, then its
``ExecStart`` with the variables expanded. Only what names the deployment's hosts
is replaced by this machine's services, and the install directory by this checkout.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.settings import get_settings
from harness import workers
from harness.workers import REPO_ROOT, Worker, free_port, own_names
from tests.support.systemd import (
    command_line,
    environment_lines,
    parse_unit,
    read_env_file,
    specifiers,
)

pytestmark = pytest.mark.integration

SYSTEMD = REPO_ROOT / "ops" / "systemd"
UNIT = SYSTEMD / "streaming-worker@.service"
ROLE = "processing"


def local_services() -> dict[str, str]:
    """This machine's services in place of the deployment's hosts in platform.env."""
    s = get_settings()
    return {
        "KAFKA_BOOTSTRAP_SERVERS": s.kafka_bootstrap_servers,
        "TOPIC_REPLICATION_FACTOR": str(s.topic_replication_factor),
        "TOPIC_MIN_INSYNC_REPLICAS": str(s.min_insync_replicas),
        "POSTGRES_HOST": s.postgres_host,
        "POSTGRES_PORT": str(s.postgres_port),
        "POSTGRES_DB": s.postgres_db,
        "POSTGRES_USER": s.postgres_user,
        "POSTGRES_PASSWORD": s.postgres_password,
        "ELASTICSEARCH_HOST": s.elasticsearch_host,
    }


def unit_environment(instance: str, state_dir: Path, tmp_path: Path) -> dict[str, str]:
    """The environment systemd would give the instance, on this machine, for this test."""
    service = parse_unit(UNIT)["Service"]
    env = environment_lines(service.get("Environment", []), instance, state_dir)
    for env_file in service["EnvironmentFile"]:
        example = SYSTEMD / "env" / Path(specifiers(env_file, instance, state_dir)).name
        env |= read_env_file(example)  # files override Environment= (systemd.exec(5))
    token = tmp_path / "metrics-token"
    token.write_text("unit-test-token\n")
    env |= local_services() | own_names("systemd-unit")
    env |= {"API_PORT": str(free_port()), "API_KEYS": workers.test_api_keys()}
    env |= {"METRICS_TOKEN_FILE": str(token), "WORKER_INSTANCE_ID": f"unit-{os.getpid()}"}
    del env["API_KEYS_FILE"]  # the test's keys come in API_KEYS
    return env


def unit_command(instance: str, env: dict[str, str]) -> list[str]:
    """ExecStart with the install directory (WorkingDirectory) moved to this checkout."""
    service = parse_unit(UNIT)["Service"]
    (install_dir,) = service["WorkingDirectory"]
    (exec_start,) = service["ExecStart"]
    words = command_line(exec_start, env)
    return [word.replace(install_dir, str(REPO_ROOT), 1) for word in words]


class UnitWorker(Worker):
    """A worker started by the unit's command line instead of ``make run``'s."""

    def __init__(self, data_dir: Path, unit_command: list[str], env: dict[str, str]) -> None:
        super().__init__(data_dir, int(env["API_PORT"]), **env)
        self.unit_command = unit_command

    def command(self) -> list[str]:
        """ExecStart, expanded."""
        return self.unit_command


@pytest.fixture
def unit_worker(tmp_path: Path) -> Iterator[tuple[Worker, list[str]]]:
    """The worker the unit's ExecStart starts, and that command line."""
    env = unit_environment(ROLE, tmp_path / "state", tmp_path)
    command = unit_command(ROLE, env)
    data_dir = Path(env["WORKER_DATA_DIR"])
    worker = UnitWorker(data_dir, command, env)
    try:
        yield worker.start(), command
    finally:
        worker.stop()


def test_the_unit_command_line_runs_a_worker_of_its_role(
    unit_worker: tuple[Worker, list[str]],
) -> None:
    worker, command = unit_worker
    faust = str(REPO_ROOT / ".venv" / "bin" / "faust")
    assert command[:5] == [str(REPO_ROOT / "ops" / "on-jemalloc"), faust, "-A", "app", "worker"]
    assert command[-2:] == ["--web-port", str(worker.port)]
    with worker.client() as client:
        health = client.get("/health").json()
        metrics = client.get("/metrics", headers={"Authorization": "Bearer unit-test-token"})
    assert health["dependencies"]["worker"]["role"] == ROLE
    assert metrics.status_code == 200 and "worker_info{app_id=" in metrics.text
    # StateDirectory=streaming-platform/%i, under systemd's state directory (%S).
    assert worker.data_dir.parts[-2:] == ("streaming-platform", ROLE)
    assert worker.data_dir.is_dir()
    assert "libjemalloc" in Path(f"/proc/{worker.pid}/maps").read_text()  # exec'd, preloaded
