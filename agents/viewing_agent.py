"""Agent: ``viewing_events`` -> PostgreSQL viewing state -> outcomes, trending, recommendations.

Each batch of heartbeats is decoded, applied in one statement
(``apply_viewings``: each heartbeat at most once ever, collapsed into the
latest state of each (user, title), a late heartbeat never rewinding it,
co-viewing counted on first viewings) and answered with one outcome per
heartbeat. From the states the batch moved it derives, for the stages after it:

* ``title_activity`` (keyed by title): a viewer's new last-seen time, when it
  moved to another trending hop (or the pair was only replayed, so that what a
  crash interrupted is sent again; trending takes the latest time, so a repeat
  counts nothing twice);
* ``recommendation_requests`` (keyed by user): when a user started or finished
  a title, their recommendations are recomputed.

Guarded (:mod:`app.guard.guarded`): the checkpoint moves only once all of it is in
Kafka; PostgreSQL or Kafka down -> the batch waits and is retried.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from faust.types import EventT

from app.application import platform
from app.guard import (
    Message,
    applied_outcome,
    decode_batch,
    guarded_agent,
    publish_all,
    send_dead_letters,
)
from app.kafka.topics import user_key
from app.maintenance import maintenance_timer
from app.requests.envelope import SCHEMA_VERSION
from app.trending_windows import finest_hop_s
from app.viewing.recommending import NEIGHBOURS_KEPT
from app.viewing.viewing_events import decode_viewing, refresh_request

services = platform()

STAGE = "viewing"
#: How often the co-viewing table is pruned (by the leader only).
PRUNE_INTERVAL_S = 60.0
_HOP_S = finest_hop_s(services.settings.trending_windows)


async def record_viewings(batch: Sequence[EventT]) -> None:
    """Consumes heartbeats; produces viewing state, outcomes, title activity and dead letters.

    Returns once everything it produced is in Kafka.
    """
    decoded = decode_batch(batch, decode_viewing, STAGE)
    events = [viewing for _, viewing in decoded.valid]
    responses, changes = decoded.responses, []
    if events:
        applied = await services.database.apply_viewings(
            [e.model_dump(mode="json") for e in events]
        )
        responses += [applied_outcome(e, o.outcome) for e, o in zip(events, applied.outcomes)]
        changes = applied.changes
    # Four topics, no order between them: their acknowledgements are awaited together.
    await asyncio.gather(
        publish_all(services.topics.response_events, responses),
        publish_all(
            services.topics.title_activity, [_activity(c) for c in changes if _moves_trending(c)]
        ),
        publish_all(
            services.topics.recommendation_requests,
            [_refresh(c) for c in changes if _moves_taste(c)],
        ),
        send_dead_letters(services.topics.dead_letters, decoded.letters),
    )


guarded_agent(services.topics.viewing_events, record_viewings, stage=STAGE)


@maintenance_timer(services.app, PRUNE_INTERVAL_S, "pruning co-viewings", on_leader=True)
async def prune_co_viewing() -> None:
    """Keeps each title's strongest co-viewing neighbours only (a bound on the table).

    It can deadlock with the agent's own upserts of the same rows; PostgreSQL then
    aborts one of the two, and the next run (or the agent's retry) goes on.
    """
    if services.database.is_ready:
        await services.database.prune_co_viewings(NEIGHBOURS_KEPT)


def _moves_trending(change: dict[str, Any]) -> bool:
    """Whether trending must hear of this change: a new viewer, a new hop, or a replay."""
    if change["reenvio"] or change["anterior"] is None:
        return True
    return _hop(change["anterior"]) != _hop(change["ultimo_acesso"])


def _moves_taste(change: dict[str, Any]) -> bool:
    """Whether the user's recommendations change: a title started or finished (or a replay)."""
    return bool(
        change["reenvio"] or change["primeira"] or change["concluido"] != change["concluido_antes"]
    )


def _activity(change: dict[str, Any]) -> Message:
    value = {
        "schema_version": SCHEMA_VERSION,
        "conteudo_id": change["conteudo_id"],
        "user_id": change["user_id"],
        "titulo": change["titulo"],
        "tipo": change["tipo"],
        "categoria": change["categoria"],
        "visto_em": change["ultimo_acesso"],
    }
    return str(change["conteudo_id"]).encode(), orjson.dumps(value)


def _refresh(change: dict[str, Any]) -> Message:
    return user_key(change["user_id"]), refresh_request(change["user_id"])


def _hop(moment: str) -> int:
    return int(datetime.fromisoformat(moment).timestamp()) // _HOP_S
