"""The three-broker cluster beside a one-broker stack: its own home, its own ports."""

from __future__ import annotations

from chaos.cluster import beside
from stack.config import load_settings


def test_the_cluster_beside_the_stack_has_its_own_home_and_ports() -> None:
    stack = {
        "STACK_HOME": "/var/lib/streaming-stack-dev",
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:29092",
        "KAFKA_CONTROLLER_PORT": "29093",
    }
    cluster = load_settings(beside(stack))
    assert str(cluster.home) == "/var/lib/streaming-stack-dev-kafka3"
    assert cluster.kafka_brokers == 3
    assert cluster.kafka_ports == (29192, 29194, 29196)
    assert cluster.kafka_controller_ports == (29193, 29195, 29197)
    assert not set(cluster.kafka_ports) & {29092, 29093}
