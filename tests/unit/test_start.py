"""start.py's decisions: which stack to start, which URLs, whether to open a browser."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

import start


def options(mode: str = "auto", no_browser: bool = False) -> argparse.Namespace:
    return argparse.Namespace(mode=mode, no_browser=no_browser, timeout=1.0, port=8000)


@pytest.mark.parametrize(
    ("requested", "cli", "engine", "expected"),
    [
        ("auto", True, True, "docker"),
        ("auto", True, False, "native"),  # the CLI without a daemon, like this machine
        ("auto", False, False, "native"),
        ("native", True, True, "native"),
        ("docker", True, True, "docker"),
    ],
)
def test_choose_mode(requested: str, cli: bool, engine: bool, expected: str) -> None:
    assert start.choose_mode(requested, cli, engine) == expected


@pytest.mark.parametrize(("cli", "engine"), [(False, False), (True, False)])
def test_docker_mode_without_an_engine_says_why(cli: bool, engine: bool) -> None:
    with pytest.raises(start.StartError, match="docker"):
        start.choose_mode("docker", cli, engine)


@pytest.mark.parametrize(
    ("platform", "env", "expected"),
    [
        ("linux", {}, False),
        ("linux", {"DISPLAY": ":0"}, True),
        ("linux", {"WAYLAND_DISPLAY": "wayland-0"}, True),
        ("darwin", {}, True),
        ("win32", {}, True),
    ],
)
def test_has_display(platform: str, env: dict[str, str], expected: bool) -> None:
    assert start.has_display(platform, env) is expected


def test_urls_point_at_the_contract_ports() -> None:
    assert start.urls("docker") == ("http://localhost:8000/health", "http://localhost:8089/")
    assert start.urls("native") == ("http://localhost:8000/health", "http://localhost:8089/")


def test_native_port_moves_the_api_not_the_dashboard() -> None:
    assert start.urls("native", 8010) == ("http://localhost:8010/health", "http://localhost:8089/")
    assert start.urls("docker", 8010)[0] == "http://localhost:8000/health"


def test_the_dashboard_falls_back_to_the_api_port_when_8089_is_silent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan = start.Plan("native", "http://localhost:8010/health", "http://localhost:8089/", False)
    monkeypatch.setattr(start, "health_status", lambda url: None)
    assert start.reachable_dashboard(plan, wait_s=0).dashboard_url == (
        "http://localhost:8010/dashboard/"
    )
    monkeypatch.setattr(start, "health_status", lambda url: 302)
    assert start.reachable_dashboard(plan, wait_s=0) == plan


def _start_native_worker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, object]:
    """What ``start_worker(8010)`` hands to Popen: ``command`` and the keyword arguments."""
    started: dict[str, object] = {}

    class FakePopen:
        pid = 4242

        def __init__(self, command: list[str], **kwargs: object) -> None:
            started.update(kwargs, command=command)

    monkeypatch.setattr(start.subprocess, "Popen", FakePopen)
    monkeypatch.setattr(start, "WORKER_PID", tmp_path / "worker.pid")
    monkeypatch.setattr(start, "WORKER_LOG", tmp_path / "log" / "worker.log")
    start.start_worker(8010)
    return started


def test_the_native_worker_serves_the_dashboard_port(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = _start_native_worker(monkeypatch, tmp_path)["env"]
    assert isinstance(env, dict)
    assert (env["API_PORT"], env["DASHBOARD_PORT"]) == ("8010", "8089")
    assert env["METRICS_TOKEN_FILE"].endswith("prometheus/config/secrets/metrics-token")


def test_the_native_worker_starts_through_the_jemalloc_launcher(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    command = _start_native_worker(monkeypatch, tmp_path)["command"]
    assert isinstance(command, list)
    assert command[0] == str(start.ROOT / "ops" / "on-jemalloc")
    assert command[2:6] == ["-m", "faust", "-A", "app"]


def test_no_browser_never_opens_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPLAY", ":0")
    assert start.make_plan(options(no_browser=True), False, False).open_browser is False
    assert start.make_plan(options(), False, False).open_browser is True


def test_native_prerequisites_name_what_is_missing() -> None:
    assert start.native_prerequisites({"make": True, "java": True, "mvn": True}) == []
    assert start.native_prerequisites({"make": True}) == ["a Java runtime (17+)", "Maven"]


def test_help_runs() -> None:
    with pytest.raises(SystemExit) as exit_info:
        start.parse_args(["--help"])
    assert exit_info.value.code == 0
