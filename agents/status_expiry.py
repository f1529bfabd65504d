"""Timer: final statuses leave the status table once ``STATUS_RETENTION_HOURS`` old.

Consumes nothing; every ``RETENTION_INTERVAL_S`` it reads the status table's
partitions this worker actively owns and deletes each final status whose
outcome was produced longer ago than the retention (its ``processed_at``),
through the table: the changelog gets a tombstone, so standbys and any later
recovery lose it too (:class:`app.guard.TableSweep`). Only the owner deletes;
a standby applies the tombstone.

A read after that answers from PostgreSQL (``request_outcomes``, which the
status agent fills before the table and the ledger's pruning keeps as long
as the ledger), then 404 (:mod:`web.status_views`). Runs where the status
agent runs (the api role), on the partitions that agent writes.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from app.application import platform
from app.clock import utc_now
from app.guard import TableSweep
from app.maintenance import maintenance_timer
from app.requests.outcomes import settled_before
from tables.status_table import statuses

services = platform()

log = logging.getLogger(__name__)

INTERVAL_S = services.settings.retention_interval_s
sweep = TableSweep(
    services.guard.ownership, statuses, services.topics.response_events.get_topic_name()
)


@maintenance_timer(services.app, INTERVAL_S, "expiring statuses")
async def expire_statuses() -> None:
    """Deletes the final statuses older than the retention from the owned partitions."""
    retention = timedelta(hours=services.settings.status_retention_hours)
    cutoff = utc_now() - retention
    deleted = await sweep.run(lambda stored: settled_before(stored, cutoff))
    if deleted:
        log.info("expired %d final statuses settled before %s", deleted, cutoff)
