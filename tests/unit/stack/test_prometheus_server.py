"""Prometheus as the stack runs it: the repository's config, targets per deployment, loopback."""

from __future__ import annotations

from pathlib import Path

import yaml

from stack.config import load_settings
from stack.prometheus_server import (
    CONFIG_FILES,
    OPS_DIR,
    TOKEN_PATH,
    PrometheusServer,
    parse_version,
    self_targets,
    worker_targets,
)


def test_the_version_is_read_from_prometheus_own_output() -> None:
    text = "prometheus, version 2.42.0+ds (branch: debian/sid, revision: 2.42.0+ds-5)\n"
    assert parse_version(text) == "2.42.0"
    assert parse_version("") == "?"


def test_the_native_targets_are_the_worker_on_api_port_and_prometheus_itself(
    tmp_path: Path,
) -> None:
    s = load_settings({"STACK_HOME": str(tmp_path), "API_PORT": "8100", "PROMETHEUS_PORT": "9190"})

    assert worker_targets(s) == [{"targets": ["127.0.0.1:8100"], "labels": {"role": "all"}}]
    assert self_targets(s) == [{"targets": ["127.0.0.1:9190"]}]


def test_it_listens_on_loopback_with_the_copied_config_and_its_own_data(tmp_path: Path) -> None:
    server = PrometheusServer(load_settings({"STACK_HOME": str(tmp_path)}))

    command = server.command()

    assert f"--config.file={tmp_path}/prometheus/config/prometheus.yml" in command
    assert f"--storage.tsdb.path={tmp_path}/prometheus/data" in command
    assert "--web.listen-address=127.0.0.1:9090" in command


def test_the_token_is_where_the_repository_config_looks_for_it(tmp_path: Path) -> None:
    server = PrometheusServer(load_settings({"STACK_HOME": str(tmp_path)}))
    config = yaml.safe_load((OPS_DIR / "prometheus.yml").read_text())
    workers = next(job for job in config["scrape_configs"] if job["job_name"] == "workers")

    assert workers["authorization"]["credentials_file"] == str(TOKEN_PATH)
    assert server.token_file == server.config_dir / TOKEN_PATH
    assert set(config["rule_files"]) <= set(CONFIG_FILES)


def test_the_targets_written_match_the_configs_file_patterns(tmp_path: Path) -> None:
    server = PrometheusServer(load_settings({"STACK_HOME": str(tmp_path)}))
    (server.config_dir / "targets").mkdir(parents=True)

    server.write_targets()

    config = yaml.safe_load((OPS_DIR / "prometheus.yml").read_text())
    patterns = [
        pattern
        for job in config["scrape_configs"]
        for sd in job["file_sd_configs"]
        for pattern in sd["files"]
    ]
    for written in (server.config_dir / "targets").iterdir():
        relative = written.relative_to(server.config_dir)
        assert any(relative.match(pattern) for pattern in patterns), relative
