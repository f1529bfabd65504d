"""ops/systemd: the worker unit and its environment files agree with the app's settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.application import ROLE_MODULES
from app.settings import Settings
from tests.support.systemd import parse_unit, read_env_file

ROOT = Path(__file__).resolve().parents[2]
SYSTEMD = ROOT / "ops" / "systemd"
UNIT = SYSTEMD / "streaming-worker@.service"
ALIASES = {field.alias for field in Settings.model_fields.values()}


@pytest.mark.parametrize("env_file", sorted((SYSTEMD / "env").glob("*.env")), ids=lambda p: p.name)
def test_every_variable_of_an_environment_file_is_a_setting(env_file: Path) -> None:
    names = set(read_env_file(env_file))
    assert names and names <= ALIASES, f"unknown to app/settings.py: {names - ALIASES}"


def test_every_role_has_an_instance_file_naming_it() -> None:
    for role in ROLE_MODULES:
        assert read_env_file(SYSTEMD / "env" / f"{role}.env")["WORKER_ROLE"] == role


def test_the_split_roles_can_share_a_host() -> None:
    ports = [read_env_file(SYSTEMD / "env" / f"{r}.env")["API_PORT"] for r in ROLE_MODULES]
    split = [port for role, port in zip(ROLE_MODULES, ports, strict=True) if role != "all"]
    assert len(set(split)) == len(split)


def test_the_unit_reads_the_shared_file_then_the_instances() -> None:
    service = parse_unit(UNIT)["Service"]
    assert service["EnvironmentFile"] == [
        "/etc/streaming-platform/platform.env",
        "/etc/streaming-platform/%i.env",
    ]
    (exec_start,) = service["ExecStart"]
    used = set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", exec_start))
    defined = set(read_env_file(SYSTEMD / "env" / "platform.env"))
    defined |= set(read_env_file(SYSTEMD / "env" / "api.env"))
    assert used and used <= defined
    assert service["User"] == ["streaming"] and "Restart" in service
