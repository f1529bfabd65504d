"""``GET /status/{correlation_id}``: the outcome of one accepted request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiohttp
from aiohttp import web
from faust.exceptions import SameNode
from faust.web import Request, Response, View

from agents.outcomes import describe_outcome
from app.application import app, correlation_ids, database
from app.correlation import issued_at
from app.database import TRANSIENT_ERRORS
from app.models import utc_now
from tables.status import FINAL_STATUSES, PENDING, statuses
from web.auth import caller_name, may_see
from web.errors import NotFound, Unavailable
from web.responses import json_response

#: How long after an event was applied the ledger may answer for its status.
LEDGER_GRACE_S = 10.0


@app.page("/status/{correlation_id}")
class StatusView(View):
    """Reads the correlation-status table on whichever worker owns the id."""

    async def get(self, request: Request, correlation_id: str) -> Response | web.Response:
        """Consumes a correlation id; produces its status record.

        The request is forwarded (headers included, so the owner authenticates
        it again) to the worker owning the id's table partition, as Faust's
        ``table_route`` does. While no owner is known yet, or while the owner
        does not answer (it died and the group has not noticed yet), a final
        status this worker holds in its standby copy is answered from there;
        anything else is a 503.
        """
        try:
            return await app.router.route_req(statuses.name, correlation_id, self.web, request)
        except SameNode:
            return await read_status(request, correlation_id)
        except TypeError:  # aiokafka has no partition metadata for the changelog yet
            unavailable = Unavailable("Status ainda não disponível neste worker, tente novamente")
            return read_final_status(request, correlation_id, unavailable)
        except aiohttp.ClientError:  # the owner died; the group has not noticed yet
            unavailable = Unavailable("Worker dono deste status indisponível, tente novamente")
            return read_final_status(request, correlation_id, unavailable)


def read_final_status(
    request: Request, correlation_id: str, unavailable: Unavailable
) -> web.Response:
    """A final status from this worker's copy of the table, else ``unavailable``.

    Safe without the owner: a final status never changes, so any copy that
    holds one (a standby replica, or partitions this worker owned before) is
    right. Only "pending" or "unknown" need the owner's up-to-date answer.
    """
    record = statuses.get(correlation_id.encode())
    if record is None or record.get("status") not in FINAL_STATUSES:
        raise unavailable  # chained to the routing failure being handled, if any
    if not may_see(request, record.get("requested_by")):
        raise NotFound("correlation_id desconhecido")
    return json_response(record)


async def read_status(request: Request, correlation_id: str) -> web.Response:
    """The status of ``correlation_id`` from this worker's part of the table.

    For an id we issued to this caller that the table does not hold, the
    outcome the ledger recorded over :data:`LEDGER_GRACE_S` ago (Faust can
    skip an outcome before the status agent around a rebalance), else ``pendente``;
    404 for an id never issued, or another caller's (admins read every final
    status); 503 while the table is recovering (an answer then could be stale).
    """
    if app.rebalancing or app.in_recovery:
        unavailable = Unavailable("Status em recuperação, tente novamente")
        return read_final_status(request, correlation_id, unavailable)
    record = statuses.get(correlation_id.encode())
    if record is not None and may_see(request, record.get("requested_by")):
        return json_response(record)
    caller = caller_name(request)
    if record is not None or not correlation_ids.is_issued(correlation_id, caller):
        raise NotFound("correlation_id desconhecido")
    recorded = await ledger_status(correlation_id, caller)
    if recorded is not None:
        return json_response(recorded)
    requested_at = issued_at(correlation_id)
    return json_response(
        {
            "correlation_id": correlation_id,
            "status": PENDING,
            "message": "Requisição em processamento",
            "requested_at": _iso(requested_at),
        }
    )


async def ledger_status(correlation_id: str, caller: str) -> dict[str, Any] | None:
    """The status record implied by the ledger's row for the event, if it was applied.

    Only for rows older than :data:`LEDGER_GRACE_S`: until then the status
    agent is expected to record the outcome itself, and every reader gets the
    table's record (with the outcome's own timestamps); the ledger answers for
    outcomes the table missed, not for ones on their way.
    """
    issued = issued_at(correlation_id)
    if issued is not None and (utc_now() - issued).total_seconds() < LEDGER_GRACE_S:
        return None  # applied after it was issued, so not yet old enough: no query
    try:
        row = await database.recorded_outcome(correlation_id, LEDGER_GRACE_S)
    except TRANSIENT_ERRORS:
        return None  # PostgreSQL down: the caller falls back to the table's answer
    if row is None:
        return None
    status, message = describe_outcome(row.event_type, row.user_id, row.outcome)
    return {
        "correlation_id": correlation_id,
        "status": status,
        "message": message,
        "original_event_type": row.event_type,
        "user_id": row.user_id,
        "requested_at": _iso(issued_at(correlation_id)),
        "processed_at": _iso(row.processed_at),
        "requested_by": caller,
    }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


@app.task
async def learn_status_partitions() -> None:
    """Fetch the status changelog's partition metadata once the worker is up.

    Faust's router hashes a key with the producer's metadata, which only knows
    topics it has produced to; without this a fresh worker could not route
    ``GET /status`` until it had written a status itself.
    """
    producer = app.producer._ensure_producer()  # type: ignore[attr-defined]
    await producer.partitions_for(statuses.changelog_topic.get_topic_name())
