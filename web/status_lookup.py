"""``GET /status/{correlation_id}``: the outcome of one accepted request."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from faust.web import Request, Response, View

from app.application import app, correlation_ids, database
from app.clock import utc_now
from app.command_batches import describe_code
from app.correlation import issued_at
from app.database import TRANSIENT_ERRORS
from app.status_record import StatusRecord
from tables.correlation_status import statuses, stored_status
from web.auth import caller_name, may_see
from web.errors import NotFound, Unavailable
from web.responses import json_response
from web.routing import TableRoute, Unrouted

UNKNOWN = "correlation_id desconhecido"
#: How long after an event was applied the ledger may answer for its status.
LEDGER_GRACE_S = 10.0

status_route = TableRoute(
    statuses,
    Unrouted(
        recovering="Status em recuperação",
        no_owner_yet="Status ainda não disponível neste worker",
        owner_down="Worker dono deste status indisponível",
    ),
)


@app.page("/status/{correlation_id}")
class StatusView(View):
    """Reads the correlation-status table: this worker's copy first, else the id's owner."""

    async def get(self, request: Request, correlation_id: str) -> Response | web.Response:
        """Consumes a correlation id; produces its :class:`~app.status_record.StatusRecord`.

        A final status never changes, so one held by this worker's copy of the
        table (its own partitions, or a standby replica of another worker's) is
        answered at once, with no forwarding: a survivor keeps answering the
        final statuses of a dead worker's partitions, whatever the group knows.
        Otherwise the request is forwarded (headers included, so the owner
        authenticates it again) to the worker owning the id's table partition
        (:mod:`web.routing`); while the owner's table is recovering, no owner is
        known yet, or the owner does not answer (it died and the group has not
        noticed yet), the answer is a 503.
        """
        record = stored_status(correlation_id)
        if record is not None and record.is_final:
            return answer_record(request, record)

        async def from_owner() -> web.Response:
            return await read_status(request, correlation_id)

        async def from_copy(why: str) -> web.Response:
            return read_copy(request, correlation_id, why)

        key = correlation_id.encode()
        return await status_route.answer(key, self, request, from_owner, from_copy)


async def read_status(request: Request, correlation_id: str) -> web.Response:
    """The owner's answer: the stored status, or ``pendente`` for an id issued to this caller.

    404 for an id never issued, or another caller's (admins read every final
    status). Before answering ``pendente`` for a request issued over
    :data:`LEDGER_GRACE_S` ago, the ledger is asked (:func:`ledger_status`).
    """
    record = stored_status(correlation_id)
    if record is not None and may_see(request, record.requested_by):
        return json_response(record.as_json())
    caller = caller_name(request)
    if record is not None or not correlation_ids.is_issued(correlation_id, caller):
        raise NotFound(UNKNOWN)
    issued = issued_at(correlation_id)
    found = await ledger_status(correlation_id, issued, caller)
    pending = StatusRecord.pending(correlation_id, issued, caller)
    return json_response((found or pending).as_json())


async def ledger_status(
    correlation_id: str, issued: datetime | None, caller: str
) -> StatusRecord | None:
    """The status the ledger implies for an event applied over :data:`LEDGER_GRACE_S` ago.

    A belt to the guarded status agent's braces: a standby copy of the table
    was once seen missing one changelog entry after its owner died, so an
    outcome recorded with its effect in PostgreSQL (``processed_events``) but
    absent from the table long after is answered from the ledger rather than
    read as ``pendente`` forever. Within the grace period every reader gets
    the table's record; no query is made for an id issued more recently (its
    UUIDv7 says when), nor while PostgreSQL is down.
    """
    if issued is not None and (utc_now() - issued).total_seconds() < LEDGER_GRACE_S:
        return None
    try:
        row = await database.recorded_outcome(correlation_id, LEDGER_GRACE_S)
    except TRANSIENT_ERRORS:
        return None
    if row is None:
        return None
    outcome = describe_code(row.event_type, row.outcome, user_id=row.user_id)
    return StatusRecord.recorded(
        correlation_id, outcome, row.event_type, row.user_id, issued, row.processed_at, caller
    )


def read_copy(request: Request, correlation_id: str, why: str) -> web.Response:
    """A final status from this worker's copy of the table, else a 503 saying ``why``.

    Safe without the owner: a final status never changes, so any copy that
    holds one (a standby replica, or partitions this worker owned before) is
    right. Only "pending" or "unknown" need the owner's up-to-date answer.
    """
    record = stored_status(correlation_id)
    if record is None or not record.is_final:
        raise Unavailable(f"{why}, tente novamente")
    return answer_record(request, record)


def answer_record(request: Request, record: StatusRecord) -> web.Response:
    """``record`` for a caller allowed to see it (its requester, or an admin); else 404."""
    if not may_see(request, record.requested_by):
        raise NotFound(UNKNOWN)
    return json_response(record.as_json())
