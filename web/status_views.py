"""``GET /status/{correlation_id}``: the outcome of one accepted request."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from aiohttp import web
from faust.web import Request, Response, View

from app.application import platform
from app.requests.envelope import issued_at
from app.requests.outcomes import StatusRecord, describe_code
from app.storage.pool import TRANSIENT_ERRORS
from tables.status_table import statuses, stored_status
from web.auth import caller_name, may_see
from web.errors import NotFound, Unavailable
from web.responses import json_response
from web.routing import TableRoute, Unrouted

UNKNOWN = "correlation_id desconhecido"
#: How old an applied event's ledger row must be before it answers an owner's read
#: that the table cannot: the status agent's own record (whose message names what
#: was refused, e.g. the title) normally lands well within it. Reads without an
#: owner at hand use the ledger at once.
LEDGER_GRACE_S = 2.0

status_route = TableRoute(
    statuses,
    Unrouted(
        recovering="Status em recuperação",
        no_owner_yet="Status ainda não disponível neste worker",
        owner_down="Worker dono deste status indisponível",
    ),
)

services = platform()


@services.app.page("/status/{correlation_id}")
class StatusView(View):
    """Reads the correlation-status table: this worker's copy first, else the id's owner."""

    async def get(self, request: Request, correlation_id: str) -> Response | web.Response:
        """Consumes a correlation id; produces its :class:`~app.requests.outcomes.StatusRecord`.

        A final status never changes, so one held by this worker's copy of the
        table (its own partitions, or a standby replica of another worker's) is
        answered at once, with no forwarding: a survivor keeps answering the
        final statuses of a dead worker's partitions, whatever the group knows.
        Otherwise the request is forwarded (headers included, so the owner
        authenticates it again) to the worker owning the id's table partition
        (:mod:`web.routing`); while the owner's table is recovering, no owner is
        known yet, or the owner does not answer (it died and the group has not
        noticed yet), the status recorded in PostgreSQL is answered, and only
        an id with none there is a 503 (ask again).
        """
        if not is_uuid(correlation_id):
            raise NotFound(UNKNOWN)  # every correlation id ever issued is a UUID
        record = stored_status(correlation_id)
        if record is not None and record.is_final:
            return answer_record(request, record)

        async def from_owner() -> web.Response:
            return await read_status(request, correlation_id)

        async def from_copy(why: str) -> web.Response:
            return await read_copy(request, correlation_id, why)

        key = correlation_id.encode()
        return await status_route.answer(key, self, request, from_owner, from_copy)


async def read_status(request: Request, correlation_id: str) -> web.Response:
    """The owner's answer: the stored status, or ``pendente`` for an id issued to this caller.

    404 for an id never issued, or another caller's (admins read every final
    status). Before answering ``pendente`` PostgreSQL is asked (:func:`ledger_status`).
    """
    record = stored_status(correlation_id)
    if record is not None:
        return answer_record(request, record)
    caller = caller_name(request)
    issued_to_caller = services.correlation_ids.is_issued(correlation_id, caller)
    issued = issued_at(correlation_id)
    asked_by = caller if issued_to_caller else ""
    found = await ledger_status(correlation_id, issued, asked_by, LEDGER_GRACE_S)
    if found is not None and may_see(request, found.requested_by):
        return json_response(found.as_json())
    if not issued_to_caller:
        raise NotFound(UNKNOWN)
    return json_response(StatusRecord.pending(correlation_id, issued, caller).as_json())


async def ledger_status(
    correlation_id: str, issued: datetime | None, caller: str, grace_s: float = 0.0
) -> StatusRecord | None:
    """The final status PostgreSQL holds for ``correlation_id``, if any.

    The status agent keeps every final status there too (``request_outcomes``);
    an applied account or viewing event has its outcome in the ledger
    (``processed_events``) from the moment it is applied, before the status
    agent records it: a read that finds nothing else gets it from there once it
    is ``grace_s`` old (its ``processed_at`` is the ledger's, a few milliseconds
    from the agent's; its message names no detail the ledger lacks), and
    ``caller`` (the caller the id was issued to; empty for anyone else, who is
    not answered from there) is named as its requester, which the ledger does
    not say. None while PostgreSQL is down: the caller answers as it can
    without.
    """
    try:
        found = await services.database.recorded_outcome(correlation_id, grace_s)
    except TRANSIENT_ERRORS:
        return None
    if found is None:
        return None
    if isinstance(found, dict):
        return StatusRecord.model_validate(found)
    if not caller:
        return None  # the ledger names no requester: only the one the id was issued to reads it
    outcome = describe_code(found.event_type, found.outcome, user_id=found.user_id)
    return StatusRecord.recorded(
        correlation_id,
        outcome,
        found.event_type,
        found.user_id,
        issued,
        found.processed_at,
        caller,
    )


async def read_copy(request: Request, correlation_id: str, why: str) -> web.Response:
    """A final status from this worker's copy of the table or from PostgreSQL, else a 503
    saying ``why``.

    Safe without the owner: a final status never changes (but by a replay,
    which only the status agent writes), so any copy that holds one is right.
    Only "pending" or "unknown" need the owner's up-to-date answer.
    """
    record = stored_status(correlation_id)
    if record is None or not record.is_final:
        caller = caller_name(request)
        # The ledger of applied events does not say who asked: an id issued to
        # the caller is theirs.
        asked_by = caller if services.correlation_ids.is_issued(correlation_id, caller) else ""
        record = await ledger_status(correlation_id, issued_at(correlation_id), asked_by)
    if record is None:
        raise Unavailable(f"{why}, tente novamente")
    return answer_record(request, record)


def is_uuid(text: str) -> bool:
    """Whether ``text`` is a UUID (every correlation id ever issued is one)."""
    try:
        UUID(text)
    except ValueError:
        return False
    return True


def answer_record(request: Request, record: StatusRecord) -> web.Response:
    """``record`` for a caller allowed to see it (its requester, or an admin); else 404."""
    if not may_see(request, record.requested_by):
        raise NotFound(UNKNOWN)
    return json_response(record.as_json())
