"""``GET /`` (banner) and ``GET /health`` (each dependency's state)."""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiokafka.errors import KafkaError
from aiokafka.protocol.metadata import MetadataRequest
from faust.exceptions import NotReady
from faust.web import Request, View

from app.application import platform
from app.clock import iso_now
from app.kafka.publishing import kafka_producer
from web.responses import json_response

services = platform()

VERSION = "1.0.0"


@services.app.page("/")
class BannerView(View):
    """The contract's banner."""

    async def get(self, request: Request) -> web.Response:
        """Produces ``{status, msg, version}``."""
        return json_response(
            {
                "status": "success",
                "msg": "Plataforma de streaming: API de eventos",
                "version": VERSION,
            }
        )


@services.app.page("/health")
class HealthView(View):
    """Liveness and readiness: Kafka, PostgreSQL, Elasticsearch and this worker."""

    async def get(self, request: Request) -> web.Response:
        """Produces the contract's fields plus ``dependencies``.

        503 when Kafka or PostgreSQL is down (requests cannot be served). Elasticsearch
        down only makes the status ``degraded``: the flow goes on and its logs wait
        in the fallback file until Elasticsearch is back. So does an agent whose
        consumer is starting, rebalancing or stalled (``worker.agents``): its
        events wait meanwhile.
        """
        kafka, postgres, elasticsearch = await asyncio.gather(
            kafka_connected(), services.database.ping(), services.search.ping()
        )
        healthy = kafka and postgres
        agents = services.guard.states()
        agents_up = all(state == "up" for state in agents.values())
        body = {
            "service": services.settings.app_id,
            "status": "healthy" if healthy and elasticsearch and agents_up else "degraded",
            "timestamp": iso_now(),
            "kafka_connected": kafka,
            "dependencies": {
                "kafka": _state(kafka),
                "postgres": _state(postgres),
                "elasticsearch": _state(elasticsearch),
                "worker": {
                    "role": services.settings.worker_role,
                    "status": worker_state(),
                    "assigned_partitions": len(services.app.consumer.assignment())
                    + services.guard.partitions(),
                    "agents": agents,
                },
            },
        }
        return json_response(body, status=200 if healthy else 503)


def worker_state() -> str:
    """``rebalancing``, ``recovering`` (tables not yet caught up with their changelogs), or ``up``.

    A worker is ``up`` once its group assignment is settled and its tables hold
    every status of its partitions: only then can it answer for them, and only
    then does its standby copy start following the other workers' partitions.
    """
    if services.app.rebalancing:
        return "rebalancing"
    return "up" if services.app.tables.actives_ready else "recovering"


async def kafka_connected() -> bool:
    """True when a broker answers a metadata request within a second.

    The request names no topic (an empty list: brokers only), so its cost does
    not grow with the cluster's topics: a probe polled every second stays cheap.
    """
    try:
        client = kafka_producer(services.app).client
        node = client.get_random_node()
        if node is None:
            return False
        async with asyncio.timeout(1.0):
            await client.send(node, MetadataRequest([]))
        return True
    except (KafkaError, NotReady, OSError, TimeoutError):
        return False


def _state(up: bool) -> dict[str, str]:
    return {"status": "up" if up else "down"}
