"""Agent: ``session_events`` -> the session table -> ``response_events`` (and dead letters).

Each batch is decoded and validated; the subscriptions of the users opening a
session are read from PostgreSQL in one query; then each command, in order,
is applied to its user's sessions in the table by the rules of
:mod:`app.viewing.sessions` (screens per plan, idle expiry, first end), and
answered with one outcome on ``response_events``, so ``GET /status`` gives
``success`` or ``error`` with the reason. ``apagar_sessoes`` (a person's
erasure) deletes the user's entry, a tombstone in the changelog, and is
answered by nothing: the erasure has its own outcome.

Exactly once under replays: the guard (:mod:`app.guard.guarded`) hands a batch over
again after a crash or a transient failure, and the rules answer a command
seen before with its first outcome, changing nothing. The table's changelog
is in Kafka before any outcome leaves, so no client reads an outcome whose
effect a crash could still lose.

Failures: PostgreSQL or Kafka unavailable -> the guard waits and retries the
same batch; an event that is not valid JSON, has wrong fields, an unknown
type, or a Kafka key that is not its user -> dead letter with the reason, plus
an ``error`` outcome when it names a correlation id.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from faust.types import EventT

from app.accounts.commands import Subscription
from app.application import platform
from app.guard import (
    DecodedBatch,
    acting_on,
    decode_batch,
    guarded_agent,
    outcome_message,
    publish_all,
    receipts_in_kafka,
    send_dead_letters,
)
from app.kafka.topics import user_key
from app.viewing.session_commands import (
    SessionEvent,
    SessionOpened,
    SessionsErased,
    SessionTopicEvent,
    decode_session_event,
)
from app.viewing.sessions import Outcome, UserSessions, apply
from tables.sessions_table import sessions, store_sessions, stored_sessions

services = platform()

STAGE = "sessions"


async def track_sessions(batch: Sequence[EventT]) -> None:
    """Consumes ``session_events``; produces the session table, outcomes and dead letters.

    Returns once the table's changelog, the outcomes and the dead letters are in Kafka.
    """
    decoded = decode_batch(batch, decode_session_event, STAGE)
    commands = _keyed_by_their_user(decoded)
    subscriptions = await _subscriptions_of_openers(commands)
    idle = timedelta(seconds=services.settings.session_idle_timeout_s)
    responses = decoded.responses
    for event, command in commands:
        with acting_on(event):  # reads and writes go to the event's own partition
            if isinstance(command, SessionsErased):
                store_sessions(command.user_id, UserSessions())
                continue
            outcome = _apply(command, subscriptions, idle)
        responses.append(outcome_message(command, *outcome))
    await receipts_in_kafka()  # the changelog first: see the module's docstring
    await send_dead_letters(services.topics.dead_letters, decoded.letters)
    await publish_all(services.topics.response_events, responses)


guarded_agent(services.topics.session_events, track_sessions, stage=STAGE, writes=sessions)


def _keyed_by_their_user(
    decoded: DecodedBatch[SessionTopicEvent],
) -> list[tuple[EventT, SessionTopicEvent]]:
    """The decoded commands whose Kafka key is their user; the others are refused.

    A command under another key sits in a partition whose table part the
    user's reads are never routed to.
    """
    commands = []
    for event, command in decoded.valid:
        if event.message.key == user_key(command.user_id):
            commands.append((event, command))
        else:
            decoded.refuse(event, "invalid event: Kafka key is not the event's user_id", STAGE)
    return commands


async def _subscriptions_of_openers(
    commands: list[tuple[EventT, SessionTopicEvent]],
) -> dict[int, Subscription | None]:
    """The subscriptions of the users opening a session in the batch (one query, or none)."""
    openers = sorted({c.user_id for _, c in commands if isinstance(c, SessionOpened)})
    return await services.database.subscriptions(openers) if openers else {}


def _apply(
    command: SessionEvent, subscriptions: dict[int, Subscription | None], idle: timedelta
) -> Outcome:
    """Apply ``command`` to its user's sessions in the table; its outcome."""
    state, outcome = apply(stored_sessions(command.user_id), command, subscriptions, idle)
    # Stored even when a replay changed nothing: Faust writes this worker's RocksDB
    # before Kafka acknowledges the changelog entry, so a crash in between leaves the
    # store ahead of the changelog; writing it again puts what the store holds into
    # the changelog, for the standby and the partition's next owner.
    store_sessions(command.user_id, state)
    return outcome
