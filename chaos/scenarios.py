"""The chaos scenarios, by number (``make chaos SCENARIOS=1,5``): one small function each.

Each runs on a :class:`chaos.stage.Stage` of its own (what every scenario
shares is there), grouped by the fault it injects: workers killed
(:mod:`chaos.worker_deaths`), a service down (:mod:`chaos.outages`), bad input
(:mod:`chaos.bad_input`), people erased (:mod:`chaos.erasures`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from chaos.bad_input import fuzz_api, poison_events, signups_sent_twice
from chaos.erasures import erasures_across_a_crash
from chaos.outages import (
    broker_loss,
    elasticsearch_disk_full,
    elasticsearch_outage,
    kafka_restart,
    postgres_outage,
)
from chaos.stage import Options, Row
from chaos.worker_deaths import rebalance, two_workers_killed, worker_crash

SCENARIOS: dict[int, Callable[[Options], Awaitable[Row]]] = {
    1: worker_crash,
    2: postgres_outage,
    3: elasticsearch_outage,
    4: kafka_restart,
    5: rebalance,
    6: poison_events,
    7: fuzz_api,
    8: broker_loss,
    9: two_workers_killed,
    10: elasticsearch_disk_full,
    11: signups_sent_twice,
    12: erasures_across_a_crash,
}
