"""A three-broker Kafka cluster for the broker-loss scenario: the stack's own, or one beside it.

When the running stack already has three brokers (``make up KAFKA_BROKERS=3``)
the scenario uses them. Otherwise (one broker: ``make test`` in CI, or a
plain ``make up``) it starts a three-node KRaft cluster of its own with the
same stack tool, under ``<STACK_HOME>-kafka3`` and on the stack's Kafka ports
plus :data:`PORT_OFFSET`, points the run at it (``KAFKA_BOOTSTRAP_SERVERS`` in
this process's environment, which the workers inherit) while the scenario
runs, and stops it afterwards. PostgreSQL and Elasticsearch stay the stack's.
Either way the scenario really loses a broker of three.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

from chaos.faults import stack_tool
from harness import broker
from stack.config import load_settings

#: The cluster beside a one-broker stack listens on the stack's Kafka ports plus this.
PORT_OFFSET = 100
NODES = ("kafka-1", "kafka-2", "kafka-3")


@dataclass(frozen=True)
class ThreeBrokers:
    """The nodes of a three-broker cluster, driven by the stack tool with ``env``."""

    bootstrap: str
    env: Mapping[str, str]
    #: Started for this scenario (and stopped after it), not the stack's own.
    own: bool

    def kill(self, node: str) -> None:
        """SIGKILL the node's JVM: a crash, no controlled shutdown."""
        os.kill(int(stack_tool("pid", node, env=self.env).strip()), signal.SIGKILL)

    def start(self, node: str) -> None:
        """Start the node again; return once it serves (the stack tool waits)."""
        stack_tool("start", node, env=self.env)

    @staticmethod
    def node_name(node_id: int) -> str:
        """The stack tool's name for Kafka node ``node_id``."""
        return f"kafka-{node_id}"


def beside(env: Mapping[str, str]) -> dict[str, str]:
    """The stack tool's environment for a three-node cluster beside the stack of ``env``."""
    stack = load_settings(env)
    return {
        **env,
        "STACK_HOME": f"{stack.home}-kafka3",
        "KAFKA_BROKERS": "3",
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{stack.kafka_port + PORT_OFFSET}",
        "KAFKA_CONTROLLER_PORT": str(stack.kafka_controller_port + PORT_OFFSET),
    }


@contextlib.asynccontextmanager
async def three_brokers() -> AsyncIterator[ThreeBrokers]:
    """The stack's cluster if it has three brokers, else one started beside it for the block."""
    if await broker.broker_count() >= len(NODES):
        env = {**os.environ, "KAFKA_BROKERS": str(len(NODES))}
        yield ThreeBrokers(load_settings(env).kafka_bootstrap, env, own=False)
        return
    env = beside(os.environ)
    cluster = ThreeBrokers(load_settings(env).kafka_bootstrap, env, own=True)
    await asyncio.to_thread(stack_tool, "start", "kafka", env=env)
    saved = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = cluster.bootstrap
    try:
        yield cluster
    finally:
        _restore("KAFKA_BOOTSTRAP_SERVERS", saved)
        await asyncio.to_thread(stack_tool, "stop", "kafka", env=env)


def _restore(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
