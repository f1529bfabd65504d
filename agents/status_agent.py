"""Agent: ``response_events`` -> the correlation-status table.

Guarded (:mod:`app.guard.guarded`): it reads the partitions of ``response_events``
whose table partitions this worker owns, from its checkpoint, so every
request's status reaches the table; the statuses are also kept in PostgreSQL
(``request_outcomes``), and the batch's changelog entries are in Kafka
(:mod:`app.guard.changelog_receipts`), before the agent's checkpoint moves past an outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson
from faust.types import EventT
from pydantic import ValidationError

from app.application import platform
from app.guard import acting_on, guarded_agent
from app.requests.outcomes import StatusRecord
from app.telemetry import live_figures
from tables.status_table import statuses, stored_status

services = platform()

log = logging.getLogger(__name__)


async def record_statuses(batch: Sequence[EventT]) -> None:
    """Consumes outcomes; records each as the final status of its correlation id.

    Produces the statuses in PostgreSQL (``request_outcomes``, one statement
    per batch: any worker reads them when its copy of the table lacks one)
    and in the table's changelog. An outcome for an id that already has its
    final status changes nothing (a replay). A malformed outcome is logged
    and skipped (the logging agent keeps it in Elasticsearch); it never stops
    the stream.
    """
    parsed = []
    for event in batch:
        key, outcome = event.message.key, _outcome(event.message.value)
        if outcome is None or not isinstance(key, bytes):
            log.warning("skipping malformed response event (key=%r)", key)
            continue
        parsed.append((event, key, *outcome))
    await services.database.record_outcomes(
        [(r.correlation_id, r.as_json(), r.replays) for *_, r in parsed if r.is_final]
    )
    recorded = []
    for event, key, response, record in parsed:
        with acting_on(event):  # reads and writes go to the event's own partition
            if record.may_replace(stored_status(key.decode())):
                statuses[key] = record.as_json()
                recorded.append(response)
    live_figures.record_outcomes(recorded)


guarded_agent(services.topics.response_events, record_statuses, stage="status", writes=statuses)


def _outcome(value: object) -> tuple[dict[str, Any], StatusRecord] | None:
    """The parsed outcome and the status it gives, or None when it is malformed."""
    if not isinstance(value, bytes):
        return None
    try:
        response = orjson.loads(value)
        return response, StatusRecord.from_response(response)
    except (orjson.JSONDecodeError, TypeError, KeyError, ValidationError):
        return None
