"""Maintenance timers: periodic work (pruning, expiry, replay) that never stops a worker.

What one run of such work leaves, the next run does. An exception out of a
Faust timer, though, stops the whole worker: on 2026-12-07 a PostgreSQL
deadlock in the co-viewing pruning took a soak's worker down at minute 56. So
every maintenance timer is registered through :func:`maintenance_timer`, which
logs a failed run and lets the next one try again: a warning for the failures
expected of the services (a database, Kafka or Elasticsearch that errs or is
away), the traceback for anything else, a bug included.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

import psycopg2
from aiokafka.errors import KafkaError
from faust.types import AppT

from app.eventlog.search_index import SearchUnavailable
from app.storage.pool import TRANSIENT_ERRORS

log = logging.getLogger(__name__)

#: What a service may raise at any moment: logged without a traceback.
SERVICE_FAILURES: tuple[type[BaseException], ...] = (
    *TRANSIENT_ERRORS,
    psycopg2.Error,
    KafkaError,
    OSError,
    SearchUnavailable,
)

Run = Callable[[], Awaitable[None]]


def surviving(what: str, interval_s: float) -> Callable[[Run], Run]:
    """Wraps a run of ``what`` so that it logs its failure instead of raising it.

    Cancellation still goes through: it is how the worker stops its timers.
    """

    def wrap(run: Run) -> Run:
        @functools.wraps(run)
        async def logged() -> None:
            try:
                await run()
            except SERVICE_FAILURES as exc:
                log.warning("%s failed (%r); next attempt in %.0f s", what, exc, interval_s)
            except Exception:
                log.exception("%s failed; next attempt in %.0f s", what, interval_s)

        return logged

    return wrap


def maintenance_timer(
    app: AppT, interval_s: float, what: str, *, on_leader: bool = False
) -> Callable[[Run], Run]:
    """``app.timer`` for maintenance: every ``interval_s``, a failed run logged (see the module)."""

    def register(run: Run) -> Run:
        logged = surviving(what, interval_s)(run)
        app.timer(interval=interval_s, on_leader=on_leader)(logged)
        return logged

    return register
