"""Agent: ``response_events`` -> the correlation-status table."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from faust import StreamT

from app import metrics
from app.application import app
from app.topics import response_events
from tables.status import may_record, status_from_response, statuses

log = logging.getLogger(__name__)


@app.agent(response_events)
async def record_outcomes(stream: StreamT[bytes]) -> None:
    """Consumes outcomes; records each as the final status of its correlation id.

    Not batched: Faust refuses table writes inside ``take()``. Produces nothing
    but the table's changelog. A malformed outcome is logged and skipped (the
    logging agent keeps it in Elasticsearch); it never stops the stream.
    """
    async for key, value in stream.items():
        response = _parse(value)
        if key is None or response is None:
            log.warning("skipping malformed response event (key=%r)", key)
            continue
        record = status_from_response(response)
        if may_record(statuses.get(key), record):
            statuses[key] = record
            metrics.record_outcomes([response])


def _parse(value: bytes) -> dict[str, Any] | None:
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(parsed, dict) or "correlation_id" not in parsed:
        return None
    return parsed
