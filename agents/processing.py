"""Agent: ``user_events`` -> PostgreSQL -> ``response_events`` (and dead letters).

Each batch is decoded and validated, applied to PostgreSQL in one round trip
(``apply_events``: in order, each event at most once, recorded in
``processed_events`` in the same transaction), and answered with one outcome
per event on ``response_events``. Only then does the agent's checkpoint (in
PostgreSQL) move past the batch, so a crash at any point means the batch is
read again, and reading it again means the recorded outcome is sent again,
never a second effect.

Failures: PostgreSQL or Kafka unavailable -> wait with backoff and retry the
same batch (nothing skipped); an event that is not valid JSON, has wrong
fields or an unknown type, or that PostgreSQL refuses alone -> dead letter
with the reason, plus an ``error`` outcome when it names a correlation id.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import orjson
import psycopg2
from faust import StreamT
from faust.types import EventT
from pydantic import ValidationError

from agents.gaps import Checkpoint, assigned_partitions, close_offsets_reader
from agents.outcomes import describe
from app import logs, metrics
from app.application import app, database, settings
from app.database import AppliedOutcome, CheckpointKey, while_unavailable
from app.dead_letters import dead_letter, send_dead_letters
from app.events import UserEvent, decode_user_event, refusal_response, response_event
from app.publishing import Message, publish_all
from app.topics import USER_EVENTS, response_events, user_events

log = logging.getLogger(__name__)
STAGE = "processing"
#: Events Faust skips around a rebalance are read back from ``user_events``.
checkpoint = Checkpoint(database, settings, CheckpointKey(settings.group_id, STAGE, USER_EVENTS))
app.on_before_shutdown.connect(close_offsets_reader)


@app.agent(user_events)
async def process_user_events(stream: StreamT[bytes]) -> None:
    """Consumes ``user_events`` in batches; produces ``response_events``.

    Guarantees one effect in PostgreSQL and at least one (identical) outcome
    per event. Batches are handled one at a time, in order, while the stream
    gathers the next; the agent's checkpoint, not Kafka's committed offset,
    says how far it got (see ``Checkpoint.run``).
    """
    await database.wait_ready()
    batches = stream.take_events(  # type: ignore[attr-defined]  # missing from StreamT
        settings.process_batch_size, within=settings.process_batch_wait_s
    )
    await checkpoint.run(batches, _handle_safely)


@app.timer(interval=settings.stall_after_s / 3)
async def recover_stalled_partitions() -> None:
    """Feeds the agent events its stream stopped delivering (see ``Checkpoint.stalled``)."""
    partitions = assigned_partitions(app, USER_EVENTS)
    await checkpoint.recover_stalled(partitions, _handle_safely, settings.process_batch_size)


async def _handle_safely(batch: Sequence[EventT]) -> None:
    try:
        await handle_batch(batch)
    except Exception:  # never let the agent die, or move its checkpoint past unfinished work
        log.exception("unexpected failure on a batch; retrying it event by event")
        await _handle_one_by_one(batch)


async def handle_batch(batch: Sequence[EventT]) -> None:
    """Validate, apply and answer one batch; dead-letter what can never apply.

    Events the stream skipped since this group's checkpoint are read back and
    handled first; the checkpoint moves past the batch once it is answered.
    """
    batch = await checkpoint.with_skipped(batch)
    logs.bind_event_correlation_id([event.value for event in batch])
    valid: list[tuple[EventT, UserEvent]] = []
    letters: list[Message] = []
    responses: list[Message] = []
    for event in batch:
        try:
            valid.append((event, decode_user_event(event.value)))
        except (ValidationError, ValueError) as exc:
            letters.append(dead_letter(event, _reason(exc), STAGE))
            responses.extend(_refusal(event.value, _reason(exc)))
    responses.extend(await _apply(valid, letters))
    await send_dead_letters(letters)
    await publish_all(response_events, responses)
    await checkpoint.save(batch)
    metrics.record_dead_letters(len(letters))


async def _apply(valid: list[tuple[EventT, UserEvent]], letters: list[Message]) -> list[Message]:
    """Apply ``valid`` events; a batch PostgreSQL refuses is retried one by one."""
    if not valid:
        return []
    events = [decoded for _, decoded in valid]
    try:
        outcomes = await _apply_with_retry(events)
    except psycopg2.Error as exc:
        if len(valid) > 1:
            return [msg for pair in valid for msg in await _apply([pair], letters)]
        letters.append(dead_letter(valid[0][0], f"PostgreSQL refused the event: {exc}", STAGE))
        return [_response(events[0], "error", "Evento recusado pelo banco de dados")]
    return [_response(event, *describe(event, o.outcome)) for event, o in zip(events, outcomes)]


async def _apply_with_retry(events: list[UserEvent]) -> list[AppliedOutcome]:
    """``apply_events``, retried with backoff while PostgreSQL is unavailable."""
    payloads = [event.model_dump(mode="json") for event in events]
    return await while_unavailable(
        lambda: database.apply_events(payloads), f"{len(payloads)} events"
    )


async def _handle_one_by_one(batch: Sequence[EventT]) -> None:
    """After an unexpected failure: each event alone, skipped ones included, in order.

    An event that still fails is dead-lettered and the checkpoint moves past
    it: otherwise every later batch would read it back and fail again.
    """
    for event in await checkpoint.with_skipped(batch):
        try:
            await handle_batch([event])
        except Exception as exc:
            log.exception("event at offset %s cannot be processed", event.message.offset)
            await send_dead_letters([dead_letter(event, f"processing failed: {exc!r}", STAGE)])
            metrics.record_dead_letters(1)
            await checkpoint.save([event])


def _response(event: UserEvent, status: str, message: str) -> Message:
    value = response_event(event, status, message)  # type: ignore[arg-type]
    return event.correlation_id.encode(), orjson.dumps(value)


def _refusal(raw: bytes, reason: str) -> list[Message]:
    """An error outcome for an invalid event, when it names a correlation id."""
    value = refusal_response(raw, reason)
    if value is None:
        return []
    return [(value["correlation_id"].encode(), orjson.dumps(value))]


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        problems = [f"{'.'.join(map(str, e['loc'])) or 'evento'}: {e['msg']}" for e in exc.errors()]
        return "invalid event: " + "; ".join(problems[:10])
    return f"invalid event: {exc}"
