"""The soak's shortened retention: the rules that must act during it, and what they allow.

``make soak`` runs its worker with every retention rule of docs/operations.md
("Retention: every store that grows") shortened, so that pruning acts within
the run: the ledger and its sibling tables, the event log's indices, the status
table and the Kafka topics it creates. Each setting can be overridden by the
environment variable of the same name. From these follow:

* how old a request may be when the rolling audit reaches it
  (:func:`check_audit_fits`): its evidence must still be kept;
* the most rows the pruned PostgreSQL tables and the most indices the event
  log's alias may hold once pruning runs (:func:`row_bound`, :func:`index_bound`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from app.settings import Settings

#: The soak's retention settings (docs/operations.md, "For a soak").
SOAK_RETENTION = {
    "EVENT_RETENTION_HOURS": "0.25",
    "EVENT_SEGMENT_HOURS": "0.05",
    "LEDGER_MARGIN_HOURS": "0.05",
    "LOG_INDEX_HOURS": "1",
    "LOG_RETENTION_DAYS": "0.02",
    "STATUS_RETENTION_HOURS": "0.1",
    "RETENTION_INTERVAL_S": "30",
}
#: A request is audited once it is this much older than its audit needs: the
#: evidence must outlive twice the age at which the rolling audit reaches it.
AUDIT_SAFETY = 2.0
#: The tables may hold this much more than ``rate × (retention + interval)``:
#: rows are dated when written, a moment after the request, and deletions run in batches.
ROW_SLACK = 1.2


@dataclass(frozen=True)
class Kept:
    """What the retention settings mean in seconds."""

    #: Kafka keeps an event at least this long (``EVENT_RETENTION_HOURS``).
    kafka_s: float
    #: The ledger, ``request_outcomes`` and ``keyed_requests`` keep a row this long.
    ledger_s: float
    #: An event-log document is kept at least this long (its index goes after that).
    log_s: float
    #: How often the worker prunes.
    interval_s: float
    #: The period of one event-log index.
    index_s: float


@dataclass(frozen=True)
class SoakRetention:
    """The soak's retention settings, read as the worker reads them."""

    env: Mapping[str, str]

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> SoakRetention:
        """:data:`SOAK_RETENTION`, each overridden by the environment variable of its name."""
        environ = os.environ if environ is None else environ
        return cls({name: environ.get(name, value) for name, value in SOAK_RETENTION.items()})

    @property
    def settings(self) -> Settings:
        """The worker's settings with these values."""
        return Settings(**self.env)  # type: ignore[arg-type]

    @property
    def kept(self) -> Kept:
        """How long each store keeps what it holds, and how often the worker prunes."""
        settings = self.settings
        return Kept(
            kafka_s=settings.event_retention_hours * 3600,
            ledger_s=settings.ledger_retention_s,
            log_s=settings.log_retention_days * 86400,
            interval_s=settings.retention_interval_s,
            index_s=settings.log_index_hours * 3600,
        )

    def topic_config(self) -> dict[str, str]:
        """``retention.ms`` and ``segment.ms`` for the topics the soak creates itself."""
        settings = self.settings
        return {
            "retention.ms": str(int(settings.event_retention_hours * 3_600_000)),
            "segment.ms": str(int(settings.event_segment_hours * 3_600_000)),
        }

    def describe(self) -> str:
        """The settings on one line, for the soak's output."""
        return " ".join(f"{name}={value}" for name, value in self.env.items())


def check_audit_fits(retention: SoakRetention, lag_s: float, every_s: float) -> None:
    """Raise ``ValueError`` unless the rolling audit reaches each request well within retention.

    A slice is audited when its newest request is ``lag_s`` old, every
    ``every_s``: its oldest request is then ``lag_s + every_s`` old, and the
    ledger's rows and the event log's documents must outlive
    :data:`AUDIT_SAFETY` times that. ``user_events`` is read every ``every_s``,
    so Kafka must keep an event :data:`AUDIT_SAFETY` times that.
    ``STATUS_RETENTION_HOURS`` (the shortest, 6 min by default) does not bind: a
    status gone from the table is answered from ``request_outcomes``, kept as
    long as the ledger.
    """
    reached_s = lag_s + every_s
    kept = retention.kept
    needs = {
        "the ledger (EVENT_RETENTION_HOURS + EVENT_SEGMENT_HOURS + LEDGER_MARGIN_HOURS)": (
            kept.ledger_s,
            reached_s,
        ),
        "the event log (LOG_RETENTION_DAYS)": (kept.log_s, reached_s),
        "Kafka (EVENT_RETENTION_HOURS)": (kept.kafka_s, every_s),
    }
    short = [
        f"{what} keeps {kept:g}s, under {AUDIT_SAFETY:g} x {age:g}s"
        for what, (kept, age) in needs.items()
        if kept < AUDIT_SAFETY * age
    ]
    if short:
        raise ValueError(
            f"retention too short for the rolling audit (a slice every {every_s:g}s, "
            f"{lag_s:g}s after its last request): "
            + "; ".join(short)
            + ": lengthen the retention or audit sooner (--audit-every, --audit-lag)"
        )


def evidence_kept_s(retention: SoakRetention) -> float:
    """How long every piece of evidence the audit reads is kept at least (ledger rows and
    event-log documents; an expired status is read from the ledger's ``request_outcomes``)."""
    kept = retention.kept
    return min(kept.ledger_s, kept.log_s)


def row_bound(retention: SoakRetention, rate: float) -> int:
    """The most rows a pruned table may hold: ``rate`` rows a second, kept a retention and an interval."""
    kept = retention.kept
    return math.ceil(rate * (kept.ledger_s + kept.interval_s) * ROW_SLACK)


def index_bound(retention: SoakRetention) -> int:
    """The most event-log indices behind the alias once pruning runs.

    An index goes once its whole period is older than the retention, at the
    next pruning: the periods spanning retention + interval, plus the current one.
    """
    kept = retention.kept
    return math.ceil((kept.log_s + kept.interval_s) / kept.index_s) + 1
