"""``python -m bench.api_floor``: the least an HTTP API on this stack costs per request.

A floor to read :mod:`bench.api_cpu`'s figure against. The server answers every
POST the way the API does (202, a correlation id, a user id for a sign-up, so
the load generator's traffic flows unchanged) and does nothing else:

* ``bare``: aiohttp reads the body, orjson parses it and writes the answer;
* ``kafka``: the same, and the body goes to Kafka with aiokafka as the API's
  producer sends it (every in-sync replica acknowledges, the app's linger and
  batch size) before the answer;
* ``rdkafka``: the same through the API's own producer of its events,
  librdkafka's (:mod:`app.kafka.intake_producer`), whose sender runs in C on
  threads of its own.

No Faust, no validation, no authentication, no log line, no metrics, no agents.
``python -m bench.api_cpu --floor bare --floor kafka`` starts one server of each
asked for beside the API worker and measures them in the same rounds, so the
API's own share is what it costs above the ``kafka`` floor.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import orjson
from aiohttp import web
from aiokafka import AIOKafkaProducer

from app.kafka.intake_producer import BATCH_BYTES, IntakeProducer
from app.settings import get_settings
from harness.workers import Worker

VARIANTS = ("bare", "kafka", "rdkafka")


class Sender(Protocol):
    """A producer started and stopped with the floor; ``send`` returns once Kafka has the record."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, topic: str, value: bytes, key: bytes) -> None: ...


SENDER: web.AppKey[Sender] = web.AppKey("sender", Sender)


class AiokafkaSender:
    """The API's way: aiokafka's producer, acks=all, the app's linger and batch size."""

    def __init__(self) -> None:
        settings = get_settings()
        self.producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            acks="all",
            linger_ms=settings.producer_linger_ms,
            max_batch_size=BATCH_BYTES,
        )

    async def start(self) -> None:
        """Connects."""
        await self.producer.start()

    async def stop(self) -> None:
        """Flushes and disconnects."""
        await self.producer.stop()

    async def send(self, topic: str, value: bytes, key: bytes) -> None:
        """Produces and waits for the acknowledgement."""
        await self.producer.send_and_wait(topic, value, key=key)


SENDERS: dict[str, Callable[[], Sender]] = {
    "kafka": AiokafkaSender,
    "rdkafka": lambda: IntakeProducer(get_settings()),
}


def answer_for(path: str, user_ids: Iterator[int]) -> dict[str, Any]:
    """The 202 body the API gives a POST to ``path``: a sign-up also gets its user id."""
    answer: dict[str, Any] = {"correlation_id": str(uuid.uuid4()), "status": "pendente"}
    if path.rstrip("/") == "/usuarios":
        answer["usuario"] = {"user_id": next(user_ids)}
    return answer


def make_server(variant: str, topic: str) -> web.Application:
    """The ``variant`` floor's aiohttp application (its producer starts with it)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown floor {variant!r}: one of {', '.join(VARIANTS)}")
    user_ids = itertools.count(1)
    server = web.Application()

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def accept(request: web.Request) -> web.Response:
        command = orjson.loads(await request.read())
        answer = answer_for(request.path, user_ids)
        if variant in SENDERS:
            event = orjson.dumps({**command, "correlation_id": answer["correlation_id"]})
            key = answer["correlation_id"].encode()
            await request.app[SENDER].send(topic, event, key)
        return web.Response(status=202, body=orjson.dumps(answer), content_type="application/json")

    server.router.add_get("/health", health)
    server.router.add_post("/{path:.*}", accept)
    if variant in SENDERS:
        server.cleanup_ctx.append(functools.partial(_producing, SENDERS[variant]))
    return server


async def _producing(make: Callable[[], Sender], server: web.Application) -> AsyncIterator[None]:
    sender = make()
    await sender.start()
    server[SENDER] = sender
    yield
    await sender.stop()


class FloorWorker(Worker):
    """A floor server run like a worker: launched, polled on ``/health``, stopped."""

    def __init__(self, data_dir: Path, variant: str, topic: str) -> None:
        super().__init__(data_dir)
        self.variant = variant
        self.topic_name = topic
        self.log_path = data_dir.parent / f"{data_dir.name}.log"

    def command(self) -> list[str]:
        """This module, serving the variant on the worker's port."""
        options = ["--variant", self.variant, "--port", str(self.port), "--topic", self.topic_name]
        return [sys.executable, "-m", "bench.api_floor", *options]


def main() -> int:
    """Serve one floor on 127.0.0.1 until stopped."""
    parser = argparse.ArgumentParser(prog="python -m bench.api_floor", description=__doc__)
    parser.add_argument("--variant", choices=VARIANTS, default="bare")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--topic", default="api_floor", help="where the kafka floor produces")
    args = parser.parse_args()
    web.run_app(
        make_server(args.variant, args.topic),
        host="127.0.0.1",
        port=args.port,
        access_log=None,
        print=None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
