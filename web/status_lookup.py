"""``GET /status/{correlation_id}``: the outcome of one accepted request."""

from __future__ import annotations

from aiohttp import web
from faust.web import Request, Response, View

from app.application import app, correlation_ids
from app.correlation import issued_at
from app.status_record import StatusRecord
from tables.correlation_status import statuses, stored_status
from web.auth import caller_name, may_see
from web.errors import NotFound, Unavailable
from web.responses import json_response
from web.routing import TableRoute, Unrouted

UNKNOWN = "correlation_id desconhecido"

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
            return read_status(request, correlation_id)

        async def from_copy(why: str) -> web.Response:
            return read_copy(request, correlation_id, why)

        key = correlation_id.encode()
        return await status_route.answer(key, self, request, from_owner, from_copy)


def read_status(request: Request, correlation_id: str) -> web.Response:
    """The owner's answer: the stored status, or ``pendente`` for an id issued to this caller.

    404 for an id never issued, or another caller's (admins read every final
    status).
    """
    record = stored_status(correlation_id)
    if record is not None and may_see(request, record.requested_by):
        return json_response(record.as_json())
    caller = caller_name(request)
    if record is not None or not correlation_ids.is_issued(correlation_id, caller):
        raise NotFound(UNKNOWN)
    pending = StatusRecord.pending(correlation_id, issued_at(correlation_id), caller)
    return json_response(pending.as_json())


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
