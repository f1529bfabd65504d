"""``GET /status/{correlation_id}``: the outcome of one accepted request."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from faust.exceptions import SameNode
from faust.web import Request, Response, View

from app.application import app, correlation_ids
from app.correlation import issued_at
from tables.status import FINAL_STATUSES, PENDING, statuses
from web.auth import caller_name, may_see
from web.errors import NotFound, Unavailable
from web.responses import json_response


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
            return read_status(request, correlation_id)
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


def read_status(request: Request, correlation_id: str) -> web.Response:
    """The status of ``correlation_id`` from this worker's part of the table.

    ``pendente`` for an id we issued to this caller whose outcome has not
    landed yet; 404 for an id never issued, or another caller's (admins read
    every final status); 503 while the table is recovering (an answer then
    could be stale).
    """
    if app.rebalancing or app.in_recovery:
        unavailable = Unavailable("Status em recuperação, tente novamente")
        return read_final_status(request, correlation_id, unavailable)
    record = statuses.get(correlation_id.encode())
    if record is not None and may_see(request, record.get("requested_by")):
        return json_response(record)
    if record is not None or not correlation_ids.is_issued(correlation_id, caller_name(request)):
        raise NotFound("correlation_id desconhecido")
    requested_at = issued_at(correlation_id)
    return json_response(
        {
            "correlation_id": correlation_id,
            "status": PENDING,
            "message": "Requisição em processamento",
            "requested_at": requested_at and requested_at.isoformat().replace("+00:00", "Z"),
        }
    )


@app.task
async def learn_status_partitions() -> None:
    """Fetch the status changelog's partition metadata once the worker is up.

    Faust's router hashes a key with the producer's metadata, which only knows
    topics it has produced to; without this a fresh worker could not route
    ``GET /status`` until it had written a status itself.
    """
    producer = app.producer._ensure_producer()  # type: ignore[attr-defined]
    await producer.partitions_for(statuses.changelog_topic.get_topic_name())
