"""compose.yml agrees with the app, the contract and the native stack (no Docker needed)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.settings import Settings
from stack.elasticsearch_node import ES_VERSION
from stack.prometheus_server import PROMETHEUS_VERSION

ROOT = Path(__file__).resolve().parents[2]
APP_REPLICAS = {"app-1": 8000, "app-2": 8001}
#: The contract's host ports (shared/CONTRACT.md).
CONTRACT_PORTS = {
    "app-1": 8000,
    "dashboard": 8089,
    "kafka-ui": 8080,
    "adminer": 8081,
    "kibana": 5601,
    "elasticsearch": 9200,
    "postgres": 5432,
    "kafka": 9092,
}
CONTRACT_VARIABLES = {
    "KAFKA_BOOTSTRAP_SERVERS",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_DB",
    "POSTGRES_HOST",
    "POSTGRES_PORT",
    "ELASTICSEARCH_HOST",
    "LOG_LEVEL",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def host_ports(service: dict[str, Any]) -> set[int]:
    return {int(str(mapping).split(":")[-2]) for mapping in service.get("ports", [])}


def image_tag(service: dict[str, Any]) -> str:
    return service["image"].rsplit(":", 1)[1]


def is_one_shot(service: dict[str, Any]) -> bool:
    return service.get("restart") == "no"


def test_every_contract_port_is_published_by_its_service(services: dict[str, Any]) -> None:
    for name, port in CONTRACT_PORTS.items():
        assert port in host_ports(services[name]), f"{name} must publish {port}"


def test_no_host_port_is_published_twice(services: dict[str, Any]) -> None:
    published = [port for service in services.values() for port in host_ports(service)]
    assert len(published) == len(set(published))


def test_two_app_replicas_share_the_group_but_not_their_data(services: dict[str, Any]) -> None:
    envs = {name: services[name]["environment"] for name in APP_REPLICAS}
    assert len({env["APP_ID"] for env in envs.values()}) == 1
    assert len({env["CORRELATION_SECRET"] for env in envs.values()}) == 1
    volumes = {name: services[name]["volumes"][0].split(":")[0] for name in APP_REPLICAS}
    assert len(set(volumes.values())) == len(APP_REPLICAS)
    for name, port in APP_REPLICAS.items():
        assert envs[name]["WEB_HOST"] == name, "table_route forwards to WEB_HOST"
        assert host_ports(services[name]) == {port}
        assert f"{envs[name]['API_PORT']}" in services[name]["ports"][0].split(":")[-1]


def test_every_worker_role_runs_in_a_service_with_its_own_data(
    services: dict[str, Any],
) -> None:
    roles = {
        name: service["environment"].get("WORKER_ROLE", "all")
        for name, service in services.items()
        if service.get("image") == services["app-1"]["image"]
    }
    assert set(roles.values()) == {"api", "processing", "logging"}
    volumes = [services[name]["volumes"][0].split(":")[0] for name in roles]
    instance_ids = [services[name]["environment"]["WORKER_INSTANCE_ID"] for name in roles]
    assert len(set(volumes)) == len(set(instance_ids)) == len(roles)


def test_app_variables_are_ones_the_settings_read(services: dict[str, Any]) -> None:
    aliases = {field.alias for field in Settings.model_fields.values()}
    for name in [*APP_REPLICAS, "processing", "logging"]:
        names = set(services[name]["environment"])
        assert names <= aliases, f"unknown to app/settings.py: {names - aliases}"
        assert CONTRACT_VARIABLES <= names


def test_app_image_is_non_root_with_a_health_check() -> None:
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    assert "HEALTHCHECK" in dockerfile and "/health" in dockerfile


def test_every_long_running_service_has_a_healthcheck(services: dict[str, Any]) -> None:
    for name, service in services.items():
        check = service.get("healthcheck", {})
        if is_one_shot(service):
            continue
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"


def test_dependencies_wait_for_health_or_for_a_one_shot_to_finish(
    services: dict[str, Any],
) -> None:
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            expected = (
                "service_completed_successfully"
                if is_one_shot(services[dependency])
                else "service_healthy"
            )
            assert rule["condition"] == expected, f"{name} -> {dependency}"


def test_state_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith("."):
                assert source in declared, f"{name} mounts undeclared volume {source}"


def test_kafka_matches_the_native_stack(services: dict[str, Any]) -> None:
    pom = ET.parse(ROOT / "stack" / "kafka" / "pom.xml").getroot()
    namespace = {"m": "http://maven.apache.org/POM/4.0.0"}
    version = pom.find("m:properties/m:kafka.version", namespace)
    assert version is not None
    assert services["kafka"]["image"] == f"apache/kafka:{version.text}"


def test_elasticsearch_and_kibana_match_the_native_stack(services: dict[str, Any]) -> None:
    assert image_tag(services["elasticsearch"]) == ES_VERSION
    assert image_tag(services["kibana"]) == image_tag(services["elasticsearch"])


def test_postgres_is_15(services: dict[str, Any]) -> None:
    assert image_tag(services["postgres"]).split("-")[0].split(".")[0] == "15"


def test_kibana_import_posts_the_saved_objects(services: dict[str, Any]) -> None:
    job = services["kibana-import"]
    command = " ".join(job["command"])
    assert "/api/saved_objects/_import?overwrite=true" in command
    assert "kbn-xsrf: true" in command
    assert any("kibana/saved_objects.ndjson" in volume for volume in job["volumes"])


def test_security_off_is_said_plainly() -> None:
    text = (ROOT / "compose.yml").read_text()
    assert "security OFF" in text and "DEVELOPMENT ONLY" in text


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    """Debian's docker-compose (``make compose``) parses and validates compose.yml.

    ``config`` needs no Docker engine; ``API_KEYS``, which compose.yml requires,
    is set to an empty list. Compose v2 accepts whatever 1.29 does here.
    """
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail(
            "docker-compose is missing: run `make compose` (apt-get install docker-compose)"
        )
    env = {**os.environ, "API_KEYS": "[]"}
    done = subprocess.run(
        [binary, "--project-directory", str(ROOT), "-f", str(ROOT / "compose.yml"), "config", "-q"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr or done.stdout


def test_the_app_finds_the_operator_tools_by_their_service_names(
    services: dict[str, Any],
) -> None:
    env = services["app-1"]["environment"]
    for variable, service in {
        "KAFKA_UI_URL": "kafka-ui",
        "KIBANA_URL": "kibana",
        "ADMINER_URL": "adminer",
        "PROMETHEUS_URL": "prometheus",
    }.items():
        assert env[variable].startswith(f"http://{service}:"), variable


WORKERS = [*APP_REPLICAS, "processing", "logging"]


def test_prometheus_matches_the_native_stack_and_uses_the_repositorys_files(
    services: dict[str, Any],
) -> None:
    prometheus = services["prometheus"]
    assert prometheus["image"] == f"prom/prometheus:v{PROMETHEUS_VERSION}"
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in prometheus["volumes"]}
    assert mounts["/etc/prometheus/prometheus.yml"] == "./ops/prometheus/prometheus.yml"
    assert mounts["/etc/prometheus/alerts.yml"] == "./ops/prometheus/alerts.yml"
    assert mounts["/etc/prometheus/targets"] == "./ops/prometheus/compose-targets"


def test_prometheus_scrapes_every_worker_container_with_its_role(
    services: dict[str, Any],
) -> None:
    listed = yaml.safe_load((ROOT / "ops/prometheus/compose-targets/workers.yml").read_text())
    targets = {at: group["labels"]["role"] for group in listed for at in group["targets"]}
    expected = {
        f"{name}:{services[name]['environment']['API_PORT']}": services[name]["environment"][
            "WORKER_ROLE"
        ]
        for name in WORKERS
    }
    assert targets == expected


def test_workers_accept_the_token_prometheus_presents(services: dict[str, Any]) -> None:
    token_dir = "/etc/prometheus/secrets"
    assert f"metrics-token:{token_dir}:ro" in services["prometheus"]["volumes"]
    for name in WORKERS:
        env = services[name]["environment"]
        mounted = [v for v in services[name]["volumes"] if v.startswith("metrics-token:")]
        assert len(mounted) == 1, name
        directory = mounted[0].split(":")[1]
        assert env["METRICS_TOKEN_FILE"] == f"{directory}/metrics-token", name
        assert services[name]["depends_on"]["metrics-token"]["condition"] == (
            "service_completed_successfully"
        )


def test_grafana_is_provisioned_with_prometheus_and_the_dashboard(
    services: dict[str, Any],
) -> None:
    grafana = services["grafana"]
    mounts = {volume.split(":")[0]: volume.split(":")[1] for volume in grafana["volumes"]}
    assert mounts["./ops/grafana/provisioning"] == "/etc/grafana/provisioning"
    provider = yaml.safe_load(
        (ROOT / "ops/grafana/provisioning/dashboards/streaming-platform.yml").read_text()
    )
    assert provider["providers"][0]["options"]["path"] == mounts["./ops/grafana/dashboards"]
    source = yaml.safe_load(
        (ROOT / "ops/grafana/provisioning/datasources/prometheus.yml").read_text()
    )["datasources"][0]
    assert (
        source["url"] == "http://prometheus:9090" and "9090:9090" in services["prometheus"]["ports"]
    )
