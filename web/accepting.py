"""Accepting a command: publish its event durably, then answer 202.

The 202 is sent only after Kafka acknowledged the event (acks=all), so an
accepted request cannot be lost. The event goes straight to the aiokafka
producer Faust itself sends through (same connections, same default
partitioner, so the same partition for a key): Faust's ``Topic.send`` wraps
each message in a future message, sensor calls and callbacks, CPU per request
that adds nothing here, where the view awaits the acknowledgement itself; if Kafka does not acknowledge within
``PRODUCE_TIMEOUT_S`` the client gets a 503 instead of a hang, and while that
lasts the other requests get theirs at once (:mod:`web.circuit`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiohttp import web
from aiokafka.errors import KafkaError
from faust.types import TopicT

from app.application import platform
from app.kafka.publishing import kafka_producer
from app.kafka.topics import user_key
from app.requests.correlation import IDEMPOTENCY_HEADER
from app.requests.envelope import Envelope, command_fields, encode_event
from app.telemetry.logging_setup import bind_correlation_id
from web.auth import caller_name
from web.circuit import CircuitBreaker
from web.errors import BadHeader, Unavailable
from web.responses import json_response

services = platform()

log = logging.getLogger(__name__)


#: Open after a write to Kafka failed: requests are refused at once, one tries.
kafka_writes = CircuitBreaker(cooldown_s=1.0)

MAX_IDEMPOTENCY_KEY = 128


def envelope(request: Any, user_id: int, correlation_id: str | None = None) -> dict[str, Any]:
    """The envelope of a new event: ``correlation_id``, or else :func:`request_correlation_id`."""
    return {
        "correlation_id": correlation_id or request_correlation_id(request),
        "user_id": user_id,
        "requested_by": caller_name(request),
    }


def request_correlation_id(request: Any) -> str:
    """A correlation id for the request's caller.

    With an ``Idempotency-Key`` header the id is derived from the caller and
    the key, so a request sent again (say after a 503) has the same id and is
    applied once; without one, the id is new.
    """
    return _correlation_id(caller_name(request), request.headers.get(IDEMPOTENCY_HEADER))


def has_idempotency_key(request: Any) -> bool:
    """Whether the request names itself with an ``Idempotency-Key`` header."""
    return IDEMPOTENCY_HEADER in request.headers


def _correlation_id(owner: str, idempotency_key: str | None) -> str:
    if idempotency_key is None:
        return services.correlation_ids.issue(owner)
    if not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
        raise BadHeader(f"{IDEMPOTENCY_HEADER} deve ter de 1 a {MAX_IDEMPOTENCY_KEY} caracteres")
    return services.correlation_ids.derive(owner, idempotency_key)


async def publish_event(event: Envelope, topic: TopicT = services.topics.user_events) -> None:
    """Put ``event`` on ``topic``, keyed by user id; 503 if Kafka is down.

    A timed-out event may still sit in the producer's buffer and reach Kafka
    once it is back, so that 503 names its ``correlation_id``: the client reads
    ``status_url`` before sending the request again, instead of doubling it.
    While the breaker is open the event is not produced at all, and the 503
    says so.
    """
    bind_correlation_id(event.correlation_id)
    if not kafka_writes.allow():
        raise Unavailable("Kafka indisponível: requisição não aceita, envie novamente em instantes")
    producer = kafka_producer(services.app)
    started = time.monotonic()
    try:
        async with asyncio.timeout(services.settings.produce_timeout_s):
            delivery = await producer.send(
                topic.get_topic_name(), encode_event(event), key=user_key(event.user_id)
            )
            await delivery
    except (KafkaError, TimeoutError) as exc:
        kafka_writes.failed()
        # Counted as Faust counts a failed send of its own (faust_..._error_messages_sent):
        # each sensor's state is the monotonic time the send started.
        sensors = services.app.sensors
        sensors.on_send_error(services.app.producer, exc, dict.fromkeys(sensors, started))
        log.warning("could not publish %s: %r", event.correlation_id, exc)
        raise Unavailable(
            "Kafka indisponível: a requisição pode ainda ser processada; "
            "consulte status_url antes de reenviar",
            correlation_id=event.correlation_id,
            status_url=f"/status/{event.correlation_id}",
        ) from exc
    except BaseException:
        kafka_writes.abandoned()  # cancelled: says nothing about Kafka
        raise
    kafka_writes.succeeded()


async def accept(
    event: Envelope,
    mensagem: str,
    section: str,
    fields: dict[str, Any] | None = None,
    topic: TopicT = services.topics.user_events,
) -> web.Response:
    """Publish ``event`` on ``topic``, then give the contract's 202 answer.

    The answer's ``section`` holds ``fields`` (by default the event's command
    fields with its ``user_id``).
    """
    await publish_event(event, topic)
    body = {
        "mensagem": mensagem,
        "correlation_id": event.correlation_id,
        "status_url": f"/status/{event.correlation_id}",
        section: fields or {"user_id": event.user_id, **command_fields(event)},
    }
    return json_response(body, status=202)
