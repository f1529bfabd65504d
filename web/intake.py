"""A command's way in: read and validate what the request says, publish its event, answer 202.

Reading: no body -> demo data (the original's behaviour, so ``curl -X POST``
works); a body -> the client's data, strictly validated; 400 / 422 otherwise.
Ids in the path are checked here too (404 when they cannot name anything).

Accepting: the 202 is sent only after Kafka acknowledged the event (acks=all),
so an accepted request cannot be lost. The event goes through the intake's own
producer, librdkafka's (:mod:`app.kafka.intake_producer`: the same partitioner
as Faust's, so the same partition for a key, at an eighth less CPU per
request than aiokafka's). If Kafka does not acknowledge within ``PRODUCE_TIMEOUT_S``
the client gets a 503 instead of a hang, and while that lasts the other
requests get theirs at once (:mod:`web.circuit`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

import orjson
from aiohttp import web
from faust.types import TopicT
from pydantic import ValidationError

from app.application import platform
from app.kafka.intake_producer import DeliveryFailed
from app.kafka.topics import user_key
from app.requests.envelope import (
    IDEMPOTENCY_HEADER,
    Envelope,
    command_fields,
    encode_event,
    encode_sealed_event,
    is_derived,
)
from app.requests.fields import MAX_USER_ID, Command
from app.telemetry.logging_setup import bind_correlation_id
from app.viewing.session_commands import session_user_id
from web.auth import caller_name
from web.circuit import CircuitBreaker
from web.database_reads import from_database
from web.errors import BadHeader, InvalidFields, MalformedBody, NotFound, Unavailable
from web.responses import json_response

services = platform()

log = logging.getLogger(__name__)


#: Open after a write to Kafka failed: requests are refused at once, one tries.
kafka_writes = CircuitBreaker(cooldown_s=1.0)
#: Every event a request publishes leaves through it.
intake_producer = services.intake_producer()

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


async def publish_event(
    event: Envelope, topic: TopicT = services.topics.user_events, seal_with: bytes | None = None
) -> None:
    """Put ``event`` on ``topic``, keyed by user id; 503 if Kafka is down.

    With ``seal_with`` (the person's key), its personal fields travel sealed.

    A timed-out event may still sit in the producer's buffer and reach Kafka
    once it is back, so that 503 names its ``correlation_id``: the client reads
    ``status_url`` before sending the request again, instead of doubling it.
    While the breaker is open the event is not produced at all, and the 503
    says so.
    """
    bind_correlation_id(event.correlation_id)
    if not kafka_writes.allow():
        raise Unavailable("Kafka indisponível: requisição não aceita, envie novamente em instantes")
    started = time.monotonic()
    try:
        async with asyncio.timeout(services.settings.produce_timeout_s):
            value = (
                encode_event(event) if seal_with is None else encode_sealed_event(event, seal_with)
            )
            await intake_producer.send(topic.get_topic_name(), value, user_key(event.user_id))
    except (DeliveryFailed, TimeoutError) as exc:
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


async def record_keyed_request(correlation_id: str) -> None:
    """Note when the keyed request ``correlation_id`` was first accepted; 503 if PostgreSQL is down.

    Its id carries no issue time, and ``GET /status`` needs one to tell a
    request still in flight (``pendente``) from one whose status expired (404)
    once the table and ``request_outcomes`` have let it go. Refusing is safe:
    the client sends it again with the same key.
    """
    await from_database(lambda: services.database.record_keyed_request(correlation_id))


async def accept(
    event: Envelope,
    mensagem: str,
    section: str,
    fields: dict[str, Any] | None = None,
    topic: TopicT = services.topics.user_events,
    seal_with: bytes | None = None,
) -> web.Response:
    """Publish ``event`` on ``topic`` (sealed with ``seal_with``), then give the 202 answer.

    The answer's ``section`` holds ``fields`` (by default the event's command
    fields, in clear, with its ``user_id``). A keyed request is first recorded
    as accepted (:func:`record_keyed_request`).
    """
    if is_derived(event.correlation_id):
        await record_keyed_request(event.correlation_id)
    await publish_event(event, topic, seal_with)
    body = {
        "mensagem": mensagem,
        "correlation_id": event.correlation_id,
        "status_url": f"/status/{event.correlation_id}",
        section: fields or {"user_id": event.user_id, **command_fields(event)},
    }
    return json_response(body, status=202)


# Reading the command: see the module's docstring.

C = TypeVar("C", bound=Command)


class BodySource(Protocol):
    """What parsing needs of a request: its raw body."""

    async def read(self) -> bytes: ...


async def read_command(
    request: BodySource,
    model: type[C],
    demo: Callable[[], C],
    fallback: Mapping[str, Any] | None = None,
) -> C:
    """The command in the body; ``fallback`` fields (query) or ``demo()`` if none."""
    fields = await read_fields(request, fallback)
    return demo() if fields is None else validate(model, fields)


async def read_fields(
    request: BodySource, fallback: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """The body's JSON object, else the ``fallback`` fields (query), else None (no input)."""
    body = await request.read()
    if body.strip():
        return _json_object(body)
    return dict(fallback) if fallback else None


async def read_with_demo(
    request: BodySource,
    model: type[C],
    demo_fields: Callable[[], dict[str, Any]],
    query: Mapping[str, Any],
) -> C:
    """The command from the body (or else the query), each missing field from ``demo_fields()``.

    The original's viewing paths filled in demo data field by field, so a
    client may send only what it knows; a field it sends is validated as is.
    """
    body = await request.read()
    given = _json_object(body) if body.strip() else dict(query)
    return validate(model, {**demo_fields(), **given})


def validate(model: type[C], fields: dict[str, Any]) -> C:
    """``model`` built from ``fields``; 422 listing every broken rule otherwise."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise InvalidFields(exc) from exc


def path_id(raw: str, maximum: int, not_found: NotFound) -> int:
    """A positive id from the path; ``not_found`` when it cannot name anything."""
    # The length check first: int() refuses strings of over 4,300 digits.
    digits = raw.isascii() and raw.isdigit() and len(raw) <= len(str(maximum))
    if not digits or not 1 <= int(raw) <= maximum:
        raise not_found
    return int(raw)


def path_user_id(raw: str) -> int:
    """A user id from the path; 404 when it cannot name a user."""
    return path_id(raw, MAX_USER_ID, NotFound("Usuário não encontrado"))


def path_session_user_id(raw: str) -> int:
    """The user of the session id in the path; 404 when it cannot name a session."""
    try:
        return session_user_id(raw)
    except ValueError:
        raise NotFound("Sessão não encontrada") from None


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody() from exc
    if not isinstance(parsed, dict):
        raise MalformedBody()
    return parsed
