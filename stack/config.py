"""The stack's settings: where its files live and which ports its services use.

Read once from the environment (the application's own variables, so that the
services listen where the application looks for them) into a frozen dataclass.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from stack.messages import StackError

DEFAULT_HOME = "/var/lib/streaming-stack"
#: Broker counts the stack knows how to run: one node, or a three-node quorum
#: (the smallest that survives losing a node).
SUPPORTED_BROKERS = (1, 3)
#: Without explicit ports, node i listens on the first node's ports plus 2 * (i - 1):
#: 9092/9093, 9094/9095, 9096/9097.
NODE_PORT_STEP = 2


@dataclass(frozen=True)
class Settings:
    """Where everything lives and which ports the services use."""

    home: Path
    kafka_brokers: int
    kafka_ports: tuple[int, ...]
    kafka_controller_ports: tuple[int, ...]
    pg_port: int
    pg_user: str
    pg_password: str
    pg_db: str
    es_port: int
    adminer_port: int
    prometheus_port: int
    #: The port of the worker `make run` starts (API_PORT): Prometheus' native target.
    worker_port: int

    @property
    def kafka_port(self) -> int:
        """Client port of the first (or only) Kafka broker."""
        return self.kafka_ports[0]

    @property
    def kafka_controller_port(self) -> int:
        """Controller port of the first (or only) Kafka node."""
        return self.kafka_controller_ports[0]

    @property
    def kafka_bootstrap(self) -> str:
        """The KAFKA_BOOTSTRAP_SERVERS value naming every broker."""
        return ",".join(f"127.0.0.1:{port}" for port in self.kafka_ports)

    @property
    def logs(self) -> Path:
        """Directory of every service log."""
        return self.home / "logs"

    @property
    def downloads(self) -> Path:
        """Download cache, kept by `clean`."""
        return self.home / "downloads"

    @property
    def kafka(self) -> Path:
        """Kafka's root: libs, and each node's config, data and pid file."""
        return self.home / "kafka"

    @property
    def es(self) -> Path:
        """Elasticsearch's root: install, config, data, pid files."""
        return self.home / "elasticsearch"

    @property
    def pg(self) -> Path:
        """PostgreSQL's root: data directory and socket directory."""
        return self.home / "postgres"

    @property
    def adminer(self) -> Path:
        """Adminer's root: document root, sessions, pid file."""
        return self.home / "adminer"

    @property
    def prometheus(self) -> Path:
        """Prometheus' root: config (rules, targets, the metrics token), data, pid file."""
        return self.home / "prometheus"


def env_port(name: str, value: str) -> int:
    """Parse a port number taken from environment variable `name`."""
    try:
        port = int(value)
    except ValueError:
        raise StackError(f"{name}: {value!r} does not end in a port number") from None
    if not 0 < port < 65536:
        raise StackError(f"{name}: port {port} is out of range")
    return port


def bootstrap_ports(servers: str) -> list[int]:
    """Ports of every address in a KAFKA_BOOTSTRAP_SERVERS value (host[:port], scheme optional)."""
    ports = []
    for address in servers.split(","):
        address = address.strip().split("://", 1)[-1]
        if address:
            ports.append(env_port("KAFKA_BOOTSTRAP_SERVERS", address.rsplit(":", 1)[-1]))
    if not ports:
        raise StackError("KAFKA_BOOTSTRAP_SERVERS: names no address")
    return ports


def node_ports(name: str, listed: list[int], count: int) -> tuple[int, ...]:
    """One port per node: the listed ones when there are enough, else derived from the first."""
    if len(listed) >= count:
        return tuple(listed[:count])
    first = listed[0]
    ports = [first + NODE_PORT_STEP * i for i in range(count)]
    return tuple(env_port(name, str(port)) for port in ports)


def broker_count(value: str) -> int:
    """Parse KAFKA_BROKERS."""
    if not value.strip().isdigit() or int(value) not in SUPPORTED_BROKERS:
        choices = " or ".join(str(n) for n in SUPPORTED_BROKERS)
        raise StackError(f"KAFKA_BROKERS: {value!r} is not supported: use {choices}")
    return int(value)


def es_port_from(url: str) -> int:
    """Port of an ELASTICSEARCH_HOST URL (9200 when the URL has none)."""
    if "://" not in url:
        url = "http://" + url
    try:
        port = urllib.parse.urlsplit(url).port
    except ValueError:
        raise StackError(f"ELASTICSEARCH_HOST: cannot read a port in {url!r}") from None
    return port or 9200


def check_distinct(ports: Mapping[str, int]) -> None:
    """Refuse two services (or two Kafka nodes) configured on one port."""
    seen: dict[int, str] = {}
    for what, port in ports.items():
        if port in seen:
            raise StackError(f"{seen[port]} and {what} are both set to port {port}")
        seen[port] = what


def kafka_port_names(brokers: tuple[int, ...], controllers: tuple[int, ...]) -> dict[str, int]:
    """Every Kafka port, named after the node and listener that uses it."""
    named = {f"kafka node {i} broker": port for i, port in enumerate(brokers, 1)}
    named |= {f"kafka node {i} controller": port for i, port in enumerate(controllers, 1)}
    return named


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read STACK_HOME, KAFKA_BROKERS, ADMINER_PORT, PROMETHEUS_PORT and the app's variables."""
    env = os.environ if env is None else env
    count = broker_count(env.get("KAFKA_BROKERS", "1"))
    controller_var = "KAFKA_CONTROLLER_PORT"
    controllers = [env_port(controller_var, p) for p in env.get(controller_var, "9093").split(",")]
    settings = Settings(
        home=Path(env.get("STACK_HOME", DEFAULT_HOME)).absolute(),
        kafka_brokers=count,
        kafka_ports=node_ports(
            "KAFKA_BOOTSTRAP_SERVERS",
            bootstrap_ports(env.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")),
            count,
        ),
        kafka_controller_ports=node_ports(controller_var, controllers, count),
        pg_port=env_port("POSTGRES_PORT", env.get("POSTGRES_PORT", "5432")),
        pg_user=env.get("POSTGRES_USER", "user"),
        pg_password=env.get("POSTGRES_PASSWORD", "password"),
        pg_db=env.get("POSTGRES_DB", "streaming_db"),
        es_port=es_port_from(env.get("ELASTICSEARCH_HOST", "http://127.0.0.1:9200")),
        adminer_port=env_port("ADMINER_PORT", env.get("ADMINER_PORT", "8081")),
        prometheus_port=env_port("PROMETHEUS_PORT", env.get("PROMETHEUS_PORT", "9090")),
        worker_port=env_port("API_PORT", env.get("API_PORT", "8000")),
    )
    check_distinct(
        {
            **kafka_port_names(settings.kafka_ports, settings.kafka_controller_ports),
            "postgresql": settings.pg_port,
            "elasticsearch": settings.es_port,
            "adminer": settings.adminer_port,
            "prometheus": settings.prometheus_port,
        }
    )
    return settings
