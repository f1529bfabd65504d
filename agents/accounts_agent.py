"""Agent: ``user_events`` -> PostgreSQL -> ``response_events`` (and dead letters).

Also, for each erased person, a refresh on ``recommendation_requests``,
``apagar_sessoes`` on ``session_events`` and ``esquecer`` on ``title_activity``
for each title they watched: their table entries are deleted.

Each batch's sealed personal fields are opened with their people's keys
(:mod:`app.accounts.sealed_events`, one PostgreSQL round trip), then each
event is decoded and validated, applied to PostgreSQL in one round trip
(``apply_events``: in order, each event at most once, recorded in
``processed_events`` in the same transaction), and answered with one outcome
per event on ``response_events``. The agent is guarded (:mod:`app.guard.guarded`):
its checkpoint moves past a batch only once the outcomes are in Kafka, so a
crash means the batch is read again, and reading it again means the recorded
outcome is sent again, never a second effect.

An erasure (``excluir_usuario``) splits the batch where it stands, so every
event applies in the order sent: PostgreSQL erases the person once
(``erase_user``, recorded in the ledger like every event), then the person's
event-log documents are deleted; its outcome says what each store removed
(``docs/privacy.md``), and the agents owning their recommendations,
sessions and trending traces are asked to delete them. A sign-up read again after its person was erased (a
redelivery or a replay: its key is gone) is answered from the ledger.

Failures: PostgreSQL, Elasticsearch (for an erasure) or Kafka unavailable -> the guard waits and retries the
same batch; an event that is not valid JSON, has wrong fields or an unknown
type, or that PostgreSQL refuses alone -> dead letter with the reason, plus an
``error`` outcome when it names a correlation id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import psycopg2
from faust.types import EventT

from app.accounts.commands import UserErased
from app.accounts.erasure_report import erasure_message
from app.accounts.sealed_events import AccountEvent, decode_sealed_user_event, sealed_user_ids
from app.application import platform
from app.clock import iso_now
from app.eventlog.search_index import SearchUnavailable
from app.guard import (
    Message,
    applied_outcome,
    dead_letter,
    decode_batch,
    guarded_agent,
    outcome_message,
    publish_all,
    send_dead_letters,
)
from app.kafka.topics import user_key
from app.requests.envelope import encode_event
from app.storage.pool import TRANSIENT_ERRORS
from app.viewing.derived_events import forgotten_viewer
from app.viewing.session_commands import SessionsErased
from app.viewing.titles import TitleInfo
from app.viewing.viewing_events import refresh_request

services = platform()

STAGE = "processing"


async def process_user_events(batch: Sequence[EventT]) -> None:
    """Consumes ``user_events``; produces PostgreSQL effects, ``response_events`` and dead letters.

    Guarantees one effect in PostgreSQL and at least one (identical) outcome
    per event; returns once the outcomes and dead letters are in Kafka.
    """
    keys = await services.database.personal_keys(sealed_user_ids(e.value for e in batch))
    decoded = decode_batch(batch, lambda raw: decode_sealed_user_event(raw, keys), STAGE)
    responses = decoded.responses + await _apply_in_order(decoded.valid, decoded.letters)
    await asyncio.gather(
        send_dead_letters(services.topics.dead_letters, decoded.letters),
        publish_all(services.topics.response_events, responses),
    )


processing = guarded_agent(services.topics.user_events, process_user_events, stage=STAGE)


async def _apply_in_order(
    valid: list[tuple[EventT, AccountEvent]], letters: list[Message]
) -> list[Message]:
    """Apply ``valid`` in order: the runs between erasures as batches, each erasure alone."""
    responses: list[Message] = []
    run: list[tuple[EventT, AccountEvent]] = []
    for pair in valid:
        if isinstance(pair[1], UserErased):
            responses += await _apply(run, letters)
            run = []
            responses.append(await _erase(pair[1]))
        else:
            run.append(pair)
    return responses + await _apply(run, letters)


async def _erase(event: UserErased) -> Message:
    """Erase the user in PostgreSQL (once ever), then their event-log documents."""
    result = await services.database.erase_user(event.correlation_id, event.user_id)
    if result["outcome"] != "applied":
        return applied_outcome(event, result["outcome"])
    try:
        documents = await services.search.delete_user_documents(event.user_id)
    except SearchUnavailable as exc:
        # Waited out like PostgreSQL: read again, the PostgreSQL half is a replay.
        raise ConnectionError(f"Elasticsearch unavailable during an erasure: {exc}") from exc
    titles = result.get("titulos") or []
    await _forget_in_tables(event, titles)
    return outcome_message(event, "success", erasure_message(result, documents, len(titles)))


async def _forget_in_tables(event: UserErased, titles: list[int]) -> None:
    """Ask the agents owning the person's table entries to delete them (tombstones).

    The recommendations agent deletes the list of a user who no longer exists;
    the sessions agent forgets every session on ``apagar_sessoes``; the
    trending agent forgets the viewer on each of ``titles`` (``esquecer``).
    """
    key = user_key(event.user_id)
    forget_sessions = SessionsErased(
        correlation_id=event.correlation_id, user_id=event.user_id, requested_by=event.requested_by
    )
    await asyncio.gather(
        publish_all(
            services.topics.recommendation_requests, [(key, refresh_request(event.user_id))]
        ),
        publish_all(services.topics.session_events, [(key, encode_event(forget_sessions))]),
        publish_all(services.topics.title_activity, await _forgotten_on(event.user_id, titles)),
    )


async def _forgotten_on(user_id: int, titles: list[int]) -> list[Message]:
    """The ``title_activity`` messages forgetting ``user_id`` on each of ``titles``."""
    rows = await services.database.title_infos(sorted(titles)) if titles else []
    at = iso_now()
    return [forgotten_viewer(TitleInfo(*row[:4]), user_id, at) for row in rows]


async def _apply(valid: list[tuple[EventT, AccountEvent]], letters: list[Message]) -> list[Message]:
    """Apply ``valid`` events; a batch PostgreSQL refuses is retried one by one."""
    if not valid:
        return []
    events = [decoded for _, decoded in valid]
    try:
        outcomes = await services.database.apply_events([e.model_dump(mode="json") for e in events])
    except TRANSIENT_ERRORS:
        raise  # the guard waits until PostgreSQL is back
    except psycopg2.Error as exc:  # refused: find the event PostgreSQL refuses alone
        if len(valid) > 1:
            return [msg for pair in valid for msg in await _apply([pair], letters)]
        letters.append(dead_letter(valid[0][0], f"PostgreSQL refused the event: {exc}", STAGE))
        return [outcome_message(events[0], "error", "Evento recusado pelo banco de dados")]
    return [applied_outcome(event, o.outcome) for event, o in zip(events, outcomes)]
