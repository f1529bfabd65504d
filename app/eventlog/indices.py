"""The event log's indices: one per period of event time, all read as ``system_logs``.

The contract names the index ``system_logs``; it is an alias over time-based
indices, ``system_logs-YYYY.MM.DD`` (or ``system_logs-YYYY.MM.DD-HH`` when
``LOG_INDEX_HOURS`` is under 24), so old documents leave by whole indices: this
Elasticsearch has neither ILM nor ``_delete_by_query``. Readers, Kibana's data
view included, keep using ``system_logs``; writers name the dated index.

A document's index comes from its own ``timestamp`` (the event's time), never
from the clock: written again (a redelivery, the fallback file's replay) it
goes to the same index, and its ``_id`` overwrites it there.

:class:`LogIndices` names them; a test gives it a name of its own, so that it
works on indices, an alias and a template no other run touches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

#: The alias every reader uses, and the contract's index name.
SYSTEM_LOGS = "system_logs"
_DATED = r"(\d{4})\.(\d{2})\.(\d{2})(?:-(\d{2}))?"

_KEYWORD = {"type": "keyword", "ignore_above": 1024}
# A sane, fixed subset of the event: business fields worth charting. Everything
# else stays in ``_source`` unindexed, so no event can add or break a mapping.
_EVENT_FIELDS: dict[str, Any] = {
    "plano": _KEYWORD,
    "forma_pagamento": _KEYWORD,
    "status": _KEYWORD,
    # (``scaled_float`` lives in the mapper-extras module, absent from this distribution.)
    "valor": {"type": "double"},
    # The viewing side: what was watched, how far, on which device.
    "conteudo_id": {"type": "integer"},
    "tipo": _KEYWORD,
    "posicao": {"type": "float"},
    "tempo_assistido": {"type": "integer"},
    "dispositivo": _KEYWORD,
}
MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "timestamp": {"type": "date"},
        "logged_at": {"type": "date"},
        "topic": _KEYWORD,
        "partition": {"type": "integer"},
        "offset": {"type": "long"},
        "correlation_id": _KEYWORD,
        "event_type": _KEYWORD,
        "original_event_type": _KEYWORD,
        "source": _KEYWORD,
        "target": _KEYWORD,
        "status": _KEYWORD,
        "stage": _KEYWORD,
        "user_id": {"type": "long"},
        # The API key's name that made the request: the log explorer shows a
        # non-admin caller only its own documents (``event`` is not indexed).
        "requested_by": _KEYWORD,
        "latency_ms": {"type": "float"},
        "event": {
            "type": "object",
            "dynamic": False,
            "properties": {
                **_EVENT_FIELDS,
                "dados": {"type": "object", "dynamic": False, "properties": _EVENT_FIELDS},
            },
        },
    },
}
INDEX_SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    # One node: a replica could never be assigned (the index would stay yellow).
    "number_of_replicas": 0,
    # A malformed number or date inside ``event`` is skipped, not a rejection.
    "mapping.ignore_malformed": True,
}


@dataclass(frozen=True, slots=True)
class LogIndices:
    """The dated indices read through the alias ``name``, each holding ``hours`` of events."""

    name: str = SYSTEM_LOGS
    #: A divisor of 24 (``LOG_INDEX_HOURS``).
    hours: int = 24

    @property
    def pattern(self) -> str:
        """Every dated index (and nothing else of the cluster's)."""
        return f"{self.name}-*"

    @property
    def template_name(self) -> str:
        """The index template giving each new index the mapping and the alias."""
        return f"{self.name}-by-time"

    def template(self) -> dict[str, Any]:
        """The ``put_index_template`` body: every dated index mapped, in the alias."""
        return {
            "index_patterns": [self.pattern],
            "template": {
                "settings": INDEX_SETTINGS,
                "mappings": MAPPINGS,
                "aliases": {self.name: {}},
            },
            "priority": 100,
        }

    def index_for(self, moment: datetime) -> str:
        """The index holding the documents of ``moment``."""
        utc = moment.astimezone(UTC)
        day = f"{self.name}-{utc:%Y.%m.%d}"
        return day if self.hours == 24 else f"{day}-{utc.hour - utc.hour % self.hours:02d}"

    def of_document(self, source: dict[str, Any]) -> str:
        """The index of a document: the period of its own ``timestamp``."""
        return self.index_for(datetime.fromisoformat(source["timestamp"]))

    def period(self, index: str) -> tuple[datetime, timedelta] | None:
        """When a dated index's period begins and how long it is; ``None`` for other names.

        A daily name spans 24 hours, an hourly one ``hours`` (the current setting).
        """
        found = re.fullmatch(re.escape(f"{self.name}-") + _DATED, index)
        if found is None:
            return None
        year, month, day, hour = found.groups()
        try:
            start = datetime(int(year), int(month), int(day), int(hour or 0), tzinfo=UTC)
        except ValueError:
            return None
        return start, timedelta(hours=24 if hour is None else self.hours)

    def expired(self, indices: Iterable[str], now: datetime, retention: timedelta) -> list[str]:
        """The dated indices whose whole period is older than ``retention`` at ``now``."""
        gone = []
        for index in indices:
            found = self.period(index)
            if found is not None and found[0] + found[1] <= now - retention:
                gone.append(index)
        return sorted(gone)
