"""Timer: the ledger, the sign-up claims and the replay records forget what Kafka no longer holds.

``processed_events`` gains a row per event (every viewing heartbeat included),
``signup_user_ids`` one per sign-up sent with an ``Idempotency-Key`` and
``dead_letter_replays`` one per dead letter re-sent (``faust -A app
dead-letters replay``). Each row is what makes a redelivered event, a request
sent again or a replay run again act once; it is needed while Kafka could
deliver that record again: the topics' retention plus one segment (Kafka
deletes whole segments), :attr:`Settings.event_lifetime_s`. Rows are kept
``LEDGER_MARGIN_HOURS`` longer than that, then deleted in small batches
(:meth:`app.storage.ledger_pruning.PruningQueries.prune_expired`) by one processing worker at a
time. Runs in the processing role, which writes the ledger.
"""

from __future__ import annotations

import logging

from app.application import platform
from app.maintenance import maintenance_timer

services = platform()

log = logging.getLogger(__name__)

INTERVAL_S = services.settings.retention_interval_s


@maintenance_timer(services.app, INTERVAL_S, "pruning the ledger")
async def prune_ledger() -> None:
    """Deletes ledger rows, sign-up claims and replay records older than the ledger's retention."""
    if not services.database.is_ready:
        return
    deleted = await services.database.prune_expired(
        services.settings.ledger_retention_s, services.settings.ledger_prune_batch
    )
    if deleted is None:
        log.debug("another worker is pruning the ledger")
    elif any(deleted.values()):
        log.info("pruned expired rows: %s", deleted)
