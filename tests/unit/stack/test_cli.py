"""The command line: names, reports and what `clean` wipes."""

from __future__ import annotations

from pathlib import Path

import pytest

from stack.cli import SERVICE_NAMES, build_parser, build_services, find_service, main, wiped_paths
from stack.config import load_settings
from stack.messages import StackError
from stack.service import service_line, state_of


def test_services_are_reported_in_a_fixed_order(tmp_path: Path) -> None:
    services = build_services(load_settings({"STACK_HOME": str(tmp_path)}))

    assert [s.name for s in services] == [
        "kafka",
        "postgresql",
        "elasticsearch",
        "adminer",
        "prometheus",
    ]


def test_a_broker_of_a_cluster_is_found_by_name(tmp_path: Path) -> None:
    settings = load_settings({"STACK_HOME": str(tmp_path), "KAFKA_BROKERS": "3"})

    broker = find_service(build_services(settings), "kafka-2")

    assert broker.name == "kafka-2" and broker.port() == 9094


def test_a_broker_number_without_a_cluster_is_a_clear_error(tmp_path: Path) -> None:
    services = build_services(load_settings({"STACK_HOME": str(tmp_path)}))

    with pytest.raises(StackError, match="no service kafka-2 .*known: kafka, postgresql"):
        find_service(services, "kafka-2")


def test_the_command_line_accepts_every_service_name() -> None:
    parser = build_parser()
    for name in SERVICE_NAMES:
        assert parser.parse_args(["stop", name]).service == name
    with pytest.raises(SystemExit):
        parser.parse_args(["stop", "zookeeper"])


def test_clean_wipes_data_of_every_cluster_size_but_keeps_downloads(tmp_path: Path) -> None:
    s = load_settings({"STACK_HOME": str(tmp_path)})

    wiped = wiped_paths(s)

    assert s.kafka / "data" in wiped and s.kafka / "node-3" in wiped
    assert s.pg / "data" in wiped and s.logs in wiped and s.prometheus / "data" in wiped
    assert not any(s.prometheus / "config" in path.parents for path in wiped)  # the token stays
    assert not {s.downloads, s.kafka / "libs", s.home / "build"} & set(wiped)


def test_lines_are_aligned_in_columns() -> None:
    assert service_line("kafka", "up", "there") == "kafka          up        there"


@pytest.mark.parametrize(
    ("running", "healthy", "state"),
    [(True, True, "up"), (True, False, "starting"), (False, False, "stopped")],
)
def test_state_comes_from_liveness_then_health(running: bool, healthy: bool, state: str) -> None:
    assert state_of(running, healthy) == state


def test_a_settings_error_is_one_line_and_exit_status_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KAFKA_BROKERS", "2")

    assert main(["logs-dir"]) == 1

    err = capsys.readouterr().err
    assert err == "stack: error: KAFKA_BROKERS: '2' is not supported: use 1 or 3\n"


@pytest.mark.parametrize(
    ("command", "where"),
    [
        ("logs-dir", "logs"),
        # The file the stack's Prometheus presents; a worker's METRICS_TOKEN_FILE.
        ("metrics-token-file", "prometheus/config/secrets/metrics-token"),
    ],
)
def test_path_commands_print_where_their_file_is(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    command: str,
    where: str,
) -> None:
    monkeypatch.setenv("STACK_HOME", str(tmp_path))
    monkeypatch.delenv("KAFKA_BROKERS", raising=False)

    assert main([command]) == 0

    assert capsys.readouterr().out == f"{tmp_path / where}\n"
