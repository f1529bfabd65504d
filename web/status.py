"""``GET /status/{correlation_id}``: the outcome of one accepted request."""

from __future__ import annotations

from aiohttp import web
from faust.web import Request, View

from app.application import app, correlation_ids
from app.correlation import issued_at
from tables.status import PENDING, statuses
from web.errors import NotFound, Unavailable
from web.responses import json_response


@app.page("/status/{correlation_id}")
class StatusView(View):
    """Reads the correlation-status table on whichever worker owns the id."""

    @app.table_route(table=statuses, match_info="correlation_id")  # type: ignore[arg-type]
    async def get(self, request: Request, correlation_id: str) -> web.Response:
        """Consumes a correlation id; produces its status record.

        ``pendente`` for an id we issued whose outcome has not landed yet; 404
        for an id never issued; 503 while this worker's table is recovering
        (an answer then could be stale).
        """
        if app.rebalancing or app.in_recovery:
            raise Unavailable("Status em recuperação, tente novamente")
        record = statuses.get(correlation_id.encode())
        if record is not None:
            return json_response(record)
        if not correlation_ids.is_issued(correlation_id):
            raise NotFound("correlation_id desconhecido")
        return json_response(
            {
                "correlation_id": correlation_id,
                "status": PENDING,
                "message": "Requisição em processamento",
                "requested_at": issued_at(correlation_id).isoformat().replace("+00:00", "Z"),
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
