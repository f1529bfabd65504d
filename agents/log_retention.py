"""Timer: the event log keeps ``LOG_RETENTION_DAYS`` of events, in whole indices.

Each index of ``system_logs`` holds ``LOG_INDEX_HOURS`` of event time
(:mod:`app.eventlog.indices`); once all of it is older than the retention, the
index is deleted (this Elasticsearch has no ILM to do it). Runs in the logging
role, which writes the indices; deleting an index twice is harmless, so every
logging worker may run it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from app.application import platform
from app.maintenance import maintenance_timer

services = platform()

log = logging.getLogger(__name__)

INTERVAL_S = services.settings.retention_interval_s
RETENTION = timedelta(days=services.settings.log_retention_days)


@maintenance_timer(services.app, INTERVAL_S, "pruning the event log")
async def prune_log_indices() -> None:
    """Deletes the event-log indices past the retention; creates the current one."""
    if not services.search.is_ready:
        return
    gone = await services.search.prune_indices(RETENTION)
    if gone:
        log.info("deleted event-log indices past %s: %s", RETENTION, ", ".join(gone))
