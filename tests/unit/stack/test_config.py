"""The stack's settings come from the application's environment variables, checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from stack.config import load_settings
from stack.messages import StackError


def test_defaults_are_the_contracts_ports_and_one_broker() -> None:
    s = load_settings({})

    assert s.home == Path("/var/lib/streaming-stack")
    assert (s.kafka_brokers, s.kafka_ports, s.kafka_controller_ports) == (1, (9092,), (9093,))
    assert (s.pg_port, s.pg_user, s.pg_password, s.pg_db) == (
        5432,
        "user",
        "password",
        "streaming_db",
    )
    assert (s.es_port, s.adminer_port) == (9200, 8081)
    assert (s.prometheus_port, s.worker_port) == (9090, 8000)
    assert s.kafka_bootstrap == "127.0.0.1:9092"


def test_ports_are_read_from_the_applications_addresses() -> None:
    s = load_settings(
        {
            "KAFKA_BOOTSTRAP_SERVERS": "PLAINTEXT://localhost:29092",
            "ELASTICSEARCH_HOST": "127.0.0.1:29200",
            "POSTGRES_PORT": "25432",
            "ADMINER_PORT": "28081",
            "STACK_HOME": "relative/home",
        }
    )

    assert (s.kafka_port, s.es_port, s.pg_port, s.adminer_port) == (29092, 29200, 25432, 28081)
    assert s.home.is_absolute() and s.home.name == "home"


def test_an_elasticsearch_url_without_a_port_means_9200() -> None:
    assert load_settings({"ELASTICSEARCH_HOST": "http://127.0.0.1"}).es_port == 9200


def test_three_brokers_take_the_next_ports_two_by_two() -> None:
    s = load_settings(
        {
            "KAFKA_BROKERS": "3",
            "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:29092",
            "KAFKA_CONTROLLER_PORT": "29093",
        }
    )

    assert s.kafka_ports == (29092, 29094, 29096)
    assert s.kafka_controller_ports == (29093, 29095, 29097)
    assert s.kafka_bootstrap == "127.0.0.1:29092,127.0.0.1:29094,127.0.0.1:29096"


def test_three_brokers_use_listed_ports_when_every_node_is_named() -> None:
    s = load_settings(
        {
            "KAFKA_BROKERS": "3",
            "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092, 127.0.0.1:19092,127.0.0.1:29092",
            "KAFKA_CONTROLLER_PORT": "9093,19093,29093",
        }
    )

    assert s.kafka_ports == (9092, 19092, 29092)
    assert s.kafka_controller_ports == (9093, 19093, 29093)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KAFKA_BROKERS": "2"}, "KAFKA_BROKERS: '2' is not supported: use 1 or 3"),
        ({"KAFKA_BROKERS": "three"}, "KAFKA_BROKERS"),
        ({"POSTGRES_PORT": "5432x"}, "POSTGRES_PORT: '5432x' does not end in a port number"),
        ({"ADMINER_PORT": "70000"}, "ADMINER_PORT: port 70000 is out of range"),
        ({"KAFKA_BOOTSTRAP_SERVERS": "localhost"}, "KAFKA_BOOTSTRAP_SERVERS"),
        ({"KAFKA_BOOTSTRAP_SERVERS": " , "}, "KAFKA_BOOTSTRAP_SERVERS: names no address"),
        ({"ELASTICSEARCH_HOST": "http://127.0.0.1:port"}, "ELASTICSEARCH_HOST: cannot read"),
        ({"KAFKA_BROKERS": "3", "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:65534"}, "out of range"),
    ],
)
def test_a_bad_value_is_one_clear_error_naming_its_variable(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(StackError, match=message.replace("(", r"\(")):
        load_settings(env)


def test_two_services_on_one_port_are_refused() -> None:
    with pytest.raises(StackError, match="postgresql and adminer are both set to port 5432"):
        load_settings({"ADMINER_PORT": "5432"})


def test_derived_broker_ports_must_not_meet_the_controllers() -> None:
    # Broker 2 would take 9094, which is node 1's listed controller port.
    env = {"KAFKA_BROKERS": "3", "KAFKA_CONTROLLER_PORT": "9094"}

    with pytest.raises(StackError, match="both set to port 9094"):
        load_settings(env)
