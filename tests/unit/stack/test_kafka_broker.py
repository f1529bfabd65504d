"""Kafka nodes: their files, their server.properties, and the guard against resizing."""

from __future__ import annotations

from pathlib import Path

import pytest

from stack.config import Settings, load_settings
from stack.kafka_broker import (
    KafkaBroker,
    KafkaCluster,
    check_layout,
    kafka_version,
    node_files,
    server_properties,
)
from stack.messages import StackError


def properties(text: str) -> dict[str, str]:
    """key=value lines of a .properties text."""
    pairs = (line.split("=", 1) for line in text.splitlines() if line and line[0] != "#")
    return {key: value for key, value in pairs}


@pytest.fixture
def one(tmp_path: Path) -> Settings:
    return load_settings({"STACK_HOME": str(tmp_path)})


@pytest.fixture
def three(tmp_path: Path) -> Settings:
    return load_settings(
        {
            "STACK_HOME": str(tmp_path),
            "KAFKA_BROKERS": "3",
            "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:29092",
            "KAFKA_CONTROLLER_PORT": "29093",
        }
    )


def test_a_single_node_keeps_the_historical_files(one: Settings) -> None:
    files = node_files(one, 1, 1)

    assert files.server_properties == one.home / "kafka/config/server.properties"
    assert files.data == one.home / "kafka/data"
    assert files.pidfile.path == one.home / "kafka/kafka.pid"
    assert (files.log, files.out) == (one.logs / "kafka.log", one.logs / "kafka.out")


def test_cluster_nodes_have_their_own_directory_and_logs(three: Settings) -> None:
    files = node_files(three, 2, 3)

    assert files.data == three.home / "kafka/node-2/data"
    assert files.pidfile.path == three.home / "kafka/node-2/kafka.pid"
    assert files.log == three.logs / "kafka-2.log"
    assert files.pidfile.marker == str(three.home / "kafka/node-2/config/server.properties")


def test_a_single_node_is_its_own_quorum_with_replication_one(one: Settings) -> None:
    conf = properties(server_properties(one, 1))

    assert conf["node.id"] == "1"
    assert conf["process.roles"] == "broker,controller"
    assert conf["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert conf["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert conf["log.dirs"] == conf["metadata.log.dir"] == str(one.home / "kafka/data")
    for key in (
        "default.replication.factor",
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "share.coordinator.state.topic.replication.factor",
        "min.insync.replicas",
        "transaction.state.log.min.isr",
        "share.coordinator.state.topic.min.isr",
    ):
        assert conf[key] == "1", key
    assert conf["num.partitions"] == "8"
    assert conf["message.max.bytes"] == "4194304"


def test_a_cluster_node_knows_every_voter_and_replicates_three_times(three: Settings) -> None:
    conf = properties(server_properties(three, 3))

    assert conf["node.id"] == "3"
    assert conf["controller.quorum.voters"] == (
        "1@127.0.0.1:29093,2@127.0.0.1:29095,3@127.0.0.1:29097"
    )
    assert conf["listeners"] == "PLAINTEXT://127.0.0.1:29096,CONTROLLER://127.0.0.1:29097"
    assert conf["advertised.listeners"] == "PLAINTEXT://127.0.0.1:29096"
    assert conf["log.dirs"] == str(three.home / "kafka/node-3/data")
    for key in (
        "default.replication.factor",
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "share.coordinator.state.topic.replication.factor",
    ):
        assert conf[key] == "3", key
    for key in (
        "min.insync.replicas",
        "transaction.state.log.min.isr",
        "share.coordinator.state.topic.min.isr",
    ):
        assert conf[key] == "2", key


def test_a_cluster_fences_a_silent_broker_within_the_produce_timeout(three: Settings) -> None:
    conf = properties(server_properties(three, 1))

    # Controller failover (fetch timeout) plus fencing must stay well under the
    # API's 5 s PRODUCE_TIMEOUT_S, or a broker's death turns into 503s.
    failover_ms = int(conf["controller.quorum.fetch.timeout.ms"])
    failover_ms += int(conf["broker.session.timeout.ms"])
    assert failover_ms <= 3000
    assert int(conf["broker.heartbeat.interval.ms"]) * 4 <= int(conf["broker.session.timeout.ms"])


def test_a_single_node_keeps_kafkas_failure_detection_defaults(one: Settings) -> None:
    conf = properties(server_properties(one, 1))

    assert not {"broker.session.timeout.ms", "controller.quorum.fetch.timeout.ms"} & set(conf)


def format_as(settings: Settings, count: int) -> None:
    """Leave KRaft storage as if formatted for a cluster of `count`."""
    data = node_files(settings, 1, count).data
    data.mkdir(parents=True)
    (data / "meta.properties").write_text("node.id=1\n")


def test_storage_of_one_broker_refuses_three(three: Settings) -> None:
    format_as(three, 1)

    with pytest.raises(StackError, match="1-broker cluster, but KAFKA_BROKERS=3.*stack clean"):
        check_layout(three)


def test_storage_of_three_brokers_refuses_one(one: Settings) -> None:
    format_as(one, 3)

    with pytest.raises(StackError, match="3-broker cluster, but KAFKA_BROKERS=1"):
        check_layout(one)


def test_storage_of_the_same_size_or_none_is_accepted(three: Settings) -> None:
    check_layout(three)
    format_as(three, 3)
    check_layout(three)


def test_one_broker_answers_to_kafka_and_three_to_kafka_n(one: Settings, three: Settings) -> None:
    assert [m.name for m in KafkaCluster(one).members()] == ["kafka"]
    assert [m.name for m in KafkaCluster(three).members()] == [
        "kafka",
        "kafka-1",
        "kafka-2",
        "kafka-3",
    ]
    assert KafkaBroker(three, 2).port() == 29094
    assert KafkaBroker(three, 2).controller_port() == 29095


def test_a_cluster_reports_each_node_then_the_bootstrap_list(three: Settings) -> None:
    lines = KafkaCluster(three).lines("up")

    assert [line.split()[0] for line in lines] == ["kafka-1", "kafka-2", "kafka-3", "kafka"]
    assert "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:29092,127.0.0.1:29094,127.0.0.1:29096" in lines[-1]


def test_a_single_node_reports_one_line_as_before(one: Settings) -> None:
    (line,) = KafkaCluster(one).lines("up")

    assert line.startswith(
        "kafka          up        PLAINTEXT://127.0.0.1:9092 (controller 127.0.0.1:9093)"
    )
    assert f"Kafka {kafka_version()}, log {one.logs / 'kafka.log'}" in line


def test_stopping_kafka_looks_at_every_node_of_every_size(one: Settings) -> None:
    pidfiles = {p.path for p in KafkaCluster(one).every_pidfile()}

    assert pidfiles == {
        one.home / "kafka/kafka.pid",
        *(one.home / f"kafka/node-{i}/kafka.pid" for i in (1, 2, 3)),
    }


def test_the_pom_pins_kafka_4() -> None:
    assert kafka_version().startswith("4.")
