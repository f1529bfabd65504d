"""What every chaos scenario shares: its options, its stage, its row in the table.

A scenario runs on topics of its own (``<run>-s<k>-user_events``, ...) with a
worker of its own (:class:`chaos.faults.ChaosWorker`, the bench's prefixing
shim), so nothing else on the machine feeds or reads them. It drives realistic
pt_BR traffic (:mod:`demo.loadgen.traffic`) through the HTTP API on an open loop
(:func:`demo.loadgen.engine.open_loop`) while a fault runs beside it, then
:func:`chaos.audit.audit` judges what the 202s promised (:func:`run_scenario`).

**Recovery seconds**: from the moment the fault was cleared (service healthy
again, worker restarted, the dead worker's partitions orphaned) until every
request accepted up to that moment had its outcome on ``response_events``
(read straight from Kafka); 0 when nothing was waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import httpx
import orjson

from app.eventlog.indices import SYSTEM_LOGS
from app.guard import ALARM_WORDS
from app.settings import Settings, get_settings
from bench import postgres, progress
from chaos.audit import Verdict, audit
from chaos.evidence import Target, topic_events
from chaos.faults import ChaosWorker
from chaos.recording import Answer, RecordingClient
from demo.loadgen.engine import open_loop
from demo.loadgen.traffic import VIEWING_MIX, Traffic
from harness import broker
from harness.workers import ADMIN, REPO_ROOT, TEST_CALLERS

WORK_DIR = REPO_ROOT / "var" / "chaos"
ADMIN_KEY = TEST_CALLERS[ADMIN][0]
#: Seconds of load before the fault, and after it is cleared.
LEAD_S = 3.0
TAIL_S = 4.0
#: Sign-ups per hundred requests (the rest are commands for accepted users).
SIGNUP_SHARE = 0.2


@dataclass(frozen=True)
class Options:
    """How hard and how long."""

    n: int = 2000
    pg_outage_s: float = 20.0
    #: ``stop`` (``python -m stack stop/start``) or ``freeze`` (SIGSTOP/SIGCONT the JVM).
    es_fault: str = "stop"
    es_outage_s: float = 5.0
    fuzz_examples: int = 20
    #: The Kafka producer's own deadline for a POST (the app's ``PRODUCE_TIMEOUT_S``).
    produce_timeout_s: float = field(default_factory=lambda: get_settings().produce_timeout_s)
    keep: bool = False
    audit_timeout_s: float = 180.0
    tag: str = field(default_factory=lambda: f"chaos{int(time.time())}")


@dataclass
class Row:
    """One line of the table."""

    scenario: str
    verdict: Verdict
    recovery_s: float | None
    notes: list[str] = field(default_factory=list)
    #: Extra conditions of the scenario (e.g. the 503s were quick); all must hold.
    checks: dict[str, bool] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Nothing lost or doubled, every status final, every extra check true."""
        return self.verdict.clean and all(self.checks.values())


class Stage:
    """The topics, workers, outcome watcher and load of one scenario."""

    def __init__(
        self,
        options: Options,
        number: int,
        replication: int = 1,
        worker_env: dict[str, str] | None = None,
        topic_config: dict[str, str] | None = None,
    ) -> None:
        self.options = options
        #: Copies of each topic (``TOPIC_REPLICATION_FACTOR`` of the workers).
        self.replication = replication
        #: Settings every worker of the stage gets (e.g. the soak's retention, its
        #: ``LOG_INDEX``), and broker settings of the topics the stage creates.
        self.worker_env = worker_env or {}
        self.topic_config = topic_config or {}
        self.app_id = f"{options.tag}-s{number}"
        self.prefix = self.app_id + "-"
        self.dir = WORK_DIR / self.app_id
        self.workers: list[ChaosWorker] = []
        self.client: RecordingClient | None = None
        self.watcher: progress.OutcomeWatcher | None = None
        self.extra_ids: set[str] = set()
        self._partitions = get_settings().topic_partitions

    def topic(self, base: str) -> str:
        """``base`` under this scenario's prefix."""
        return self.prefix + base

    async def __aenter__(self) -> Self:
        layout = {self.topic(n): self._partitions for n in ("user_events", "response_events")}
        topics = Settings(TOPIC_REPLICATION_FACTOR=self.replication)  # type: ignore[call-arg]
        await broker.create_topics(
            layout | {self.topic("dead_letters"): 1},
            self.replication,
            topics.topic_config | self.topic_config,
        )
        self.watcher = await progress.OutcomeWatcher(
            self.topic("response_events"), self._partitions
        ).start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for worker in self.workers:
            await asyncio.to_thread(worker.stop)
        if self.watcher is not None:
            await self.watcher.stop()

    def worker(self, name: str) -> ChaosWorker:
        """A worker of this scenario (not started), with its own data dir and instance id."""
        worker = ChaosWorker(
            self.dir / name,
            self.prefix,
            APP_ID=self.app_id,
            WORKER_INSTANCE_ID=f"{self.app_id}-{name}",
            TOPIC_REPLICATION_FACTOR=str(self.replication),
            **self.worker_env,
        )
        worker.log_path = WORK_DIR / f"{self.app_id}-{name}.log"
        self.workers.append(worker)
        return worker

    async def start(self, worker: ChaosWorker) -> ChaosWorker:
        """Start ``worker`` and wait until it serves."""
        await asyncio.to_thread(worker.start)
        return worker

    async def load(
        self,
        urls: list[str],
        duration_s: float,
        fault: Callable[[], Awaitable[float | None]],
        client: type[RecordingClient] = RecordingClient,
        traffic: Traffic | None = None,
    ) -> float | None:
        """``options.n`` requests spread over ``duration_s`` while ``fault`` runs.

        ``fault`` returns the loop time at which it was cleared (or None).
        ``traffic`` defaults to the sign-ups first, then commands for them.
        """
        traffic = traffic or Traffic(max(1, int(self.options.n * SIGNUP_SHARE)), mix=VIEWING_MIX)
        self.client = client(urls, ADMIN_KEY)
        rate = self.options.n / duration_s
        async with self.client:
            load = asyncio.create_task(open_loop(self.client, traffic, rate, duration_s))
            try:
                cleared = await fault()
            finally:
                await load
        return cleared

    @property
    def log_alias(self) -> str:
        """The alias the stage's workers log through."""
        return self.worker_env.get("LOG_INDEX", SYSTEM_LOGS)

    def target(self, survivor: ChaosWorker) -> Target:
        """Where the audit finds the run's traces, reading statuses through ``survivor``."""
        data_dirs = [w.data_dir for w in self.workers]
        return Target(self.prefix, survivor.url, ADMIN_KEY, data_dirs, self.log_alias)

    async def audit(self, survivor: ChaosWorker, ghosts: bool = True) -> Verdict:
        """Judge what the 202s promised, reading statuses through ``survivor``."""
        assert self.client is not None
        target = self.target(survivor)
        verdict = await audit(
            target,
            self.client.accepted(),
            timeout_s=self.options.audit_timeout_s,
            not_requests=frozenset(self.extra_ids),
        )
        if not ghosts:
            verdict.ghosts = verdict.ghosts_applied = 0
        return verdict

    def recovery_s(self, cleared: float | None) -> float | None:
        """Seconds from ``cleared`` until every request accepted by then had its outcome."""
        if cleared is None or self.client is None or self.watcher is None:
            return None
        waiting = [
            a.body["correlation_id"]
            for a in self.client.answers
            if a.status == 202 and a.body is not None and a.ended <= cleared
        ]
        arrivals = self.watcher.arrivals
        if any(cid not in arrivals for cid in waiting):
            return None
        return max([0.0] + [arrivals[cid][0] - cleared for cid in waiting])

    async def settled(self, since: float, timeout_s: float) -> float | None:
        """Seconds from ``since`` until every accepted request has its outcome and the
        group's lag is 0 (None if that takes over ``timeout_s``)."""
        assert self.client is not None and self.watcher is not None
        deadline = now() + timeout_s
        while now() < deadline:
            waiting = {a.correlation_id for a in self.client.accepted()}
            final = waiting <= self.watcher.arrivals.keys()
            if final and await progress.pipeline_lag(self.app_id, self.topic) == 0:
                return now() - since
            await asyncio.sleep(0.5)
        return None

    def answers_between(self, start: float, end: float) -> list[Answer]:
        """Answers to requests that were in flight at some point in ``[start, end]``."""
        assert self.client is not None
        return [a for a in self.client.answers if a.started <= end and a.ended >= start]

    async def clean(self) -> None:
        """Remove the scenario's topics, rows, documents and data directories."""
        events = await topic_events(self.topic("user_events"))
        cids = [e["correlation_id"] for e in events if isinstance(e.get("correlation_id"), str)]
        users = [
            e["user_id"]
            for e in events
            if e.get("event_type") == "criar_usuario" and isinstance(e.get("user_id"), int)
        ]
        await asyncio.to_thread(postgres.delete_rows, users, _uuids(cids))
        if self.log_alias == SYSTEM_LOGS:
            await _delete_documents(self.prefix)
        else:  # an event log of its own: its indices and template go whole
            await _delete_logs_named(self.log_alias)
        await broker.delete_topics([self.prefix])
        for worker in self.workers:
            await asyncio.to_thread(_remove_tree, worker.data_dir)


def _uuids(values: list[str]) -> list[str]:
    found = []
    for value in values:
        with contextlib.suppress(ValueError):
            found.append(str(uuid.UUID(value)))
    return found


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


async def _delete_documents(prefix: str) -> None:
    """Delete every ``system_logs`` document of the topics under ``prefix``."""
    query = {"prefix": {"topic": prefix}}
    async with httpx.AsyncClient(base_url=get_settings().elasticsearch_host, timeout=60) as es:
        while True:
            await es.post(f"/{SYSTEM_LOGS}/_refresh")
            found = await es.post(
                f"/{SYSTEM_LOGS}/_search",
                json={"query": query, "size": 5000, "_source": False},
            )
            found.raise_for_status()
            hits = found.json()["hits"]["hits"]
            if not hits:
                return
            # Each document from its own index: ``system_logs`` is an alias over several.
            lines = [
                orjson.dumps({"delete": {"_index": hit["_index"], "_id": hit["_id"]}})
                for hit in hits
            ]
            answer = await es.post(
                "/_bulk",
                content=b"\n".join(lines) + b"\n",
                headers={"content-type": "application/x-ndjson"},
            )
            answer.raise_for_status()


async def forget_runs(prefix: str) -> list[str]:
    """Delete what earlier runs whose names start with ``prefix`` left: logs, topics, files.

    A run that fails keeps them as evidence; the next run of its kind clears them, so that
    they cannot pile up (a failed hour's soak leaves over a million documents, which every
    scan of the whole event log then reads). Returns the names that went.
    """
    gone = await _delete_logs_named(prefix)
    gone += await broker.delete_topics([prefix])
    for path in sorted(WORK_DIR.glob(f"{prefix}*")):
        if path.is_dir():
            await asyncio.to_thread(_remove_tree, path)
        else:
            path.unlink(missing_ok=True)
        gone.append(str(path.relative_to(REPO_ROOT)))
    return gone


async def _delete_logs_named(prefix: str) -> list[str]:
    """Delete the indices and index templates whose names start with ``prefix``."""
    async with httpx.AsyncClient(base_url=get_settings().elasticsearch_host, timeout=60) as es:
        found = await es.get(f"/{prefix}*", params={"expand_wildcards": "all"})
        found.raise_for_status()
        indices = list(found.json())
        if indices:  # by name: Elasticsearch refuses a wildcard delete
            (await es.delete("/" + ",".join(indices))).raise_for_status()
        listed = await es.get(f"/_index_template/{prefix}*")
        # No template of that name: 404 on some versions, an empty list on others.
        found_templates = listed.json().get("index_templates", []) if listed.is_success else []
        templates = [template["name"] for template in found_templates]
        for name in templates:
            (await es.delete(f"/_index_template/{name}")).raise_for_status()
    return indices + templates


def now() -> float:
    """The event loop's clock: what answers and recovery times are measured on."""
    return asyncio.get_running_loop().time()


def guard_alarms(logs: list[Path]) -> dict[str, int]:
    """How many log lines of each guard alarm (:data:`app.guard.feeds.ALARM_WORDS`) the workers wrote."""
    counts = dict.fromkeys(ALARM_WORDS, 0)
    for path in logs:
        if not path.exists():
            continue
        with path.open(errors="replace") as lines:
            for line in lines:
                for alarm, word in ALARM_WORDS.items():
                    counts[alarm] += word in line
    return counts


def outage_load_s(options: Options, fault_s: float) -> float:
    """How long to load around a fault of ``fault_s`` seconds: a lead, the fault, a tail."""
    return LEAD_S + fault_s + TAIL_S


async def run_scenario(
    options: Options,
    number: int,
    name: str,
    body: Callable[[Stage], Awaitable[Row]],
    replication: int = 1,
) -> Row:
    """Scenario ``number`` on a stage of its own: ``body`` loads and faults, the audit judges.

    The guard's alarms in the workers' logs are a check of every scenario; the
    stage is cleaned up afterwards unless the row failed (or ``--keep``).
    """
    stage = Stage(options, number, replication)
    async with stage:
        row = await body(stage)
    row.scenario = name
    alarms = guard_alarms([worker.log_path for worker in stage.workers])
    row.notes.append("guard alarms " + ", ".join(f"{k} {v}" for k, v in alarms.items()))
    # A gap, a lost offset or a stall is a record some consumer skipped: zero, always.
    row.checks["no record skipped (guard gaps, lost offsets, stalls: 0)"] = not (
        alarms["gaps"] or alarms["lost"] or alarms["stalls"]
    )
    if row.passed and not options.keep:
        await stage.clean()
    return row


def describe(row: Row) -> dict[str, Any]:
    """A row as plain data (for ``--json``)."""
    v = row.verdict
    return json.loads(
        json.dumps(
            {
                "scenario": row.scenario,
                "accepted": v.accepted,
                "effects": v.effects,
                "lost": v.lost_count,
                "doubled": v.doubled_count,
                "final": v.final,
                "statuses": dict(v.statuses),
                "es_documents": v.es_documents,
                "es_expected": v.es_expected,
                "ghosts": v.ghosts,
                "ghosts_applied": v.ghosts_applied,
                "recovery_s": row.recovery_s,
                "notes": row.notes,
                "checks": row.checks,
                "passed": row.passed,
                "lost_examples": v.lost[:10],
                "doubled_examples": v.doubled[:10],
            }
        )
    )
