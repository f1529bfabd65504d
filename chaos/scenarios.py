"""The chaos scenarios: one small function each, all built the same way.

A scenario runs on topics of its own (``<run>-s<k>-user_events``, ...) with a
worker of its own (:class:`chaos.faults.ChaosWorker`, the bench's prefixing
shim), so nothing else on the machine feeds or reads them. It drives realistic
pt_BR traffic (:mod:`demo.loadgen.traffic`) through the HTTP API on an open loop
(:func:`demo.loadgen.engine.open_loop`) while a fault runs beside it, then
:func:`chaos.audit.audit` judges what the 202s promised.

**Recovery seconds**: from the moment the fault was cleared (service healthy
again, worker restarted, the dead worker's partitions orphaned) until every
request accepted up to that moment had its outcome on ``response_events``
(read straight from Kafka); 0 when nothing was waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import aiohttp
import httpx
import orjson
from aiokafka import AIOKafkaProducer

from app.eventlog.indices import SYSTEM_LOGS
from app.guard import ALARM_WORDS
from app.requests.correlation import IDEMPOTENCY_HEADER
from app.settings import Settings, get_settings
from bench import postgres, progress
from chaos import faults
from chaos.audit import (
    FINAL,
    Accepted,
    Target,
    Verdict,
    audit,
    fallback_bytes,
    fetch_statuses,
    topic_events,
)
from chaos.cluster import three_brokers
from chaos.faults import ChaosWorker
from demo.loadgen.engine import NO_ANSWER, ApiClient, open_loop
from demo.loadgen.traffic import VIEWING_MIX, Request, Traffic
from harness import broker
from harness.services import kafka_bootstrap
from harness.workers import ADMIN, REPO_ROOT, TEST_CALLERS

WORK_DIR = REPO_ROOT / "var" / "chaos"
ADMIN_KEY = TEST_CALLERS[ADMIN][0]
#: Seconds of load before the fault, and after it is cleared.
LEAD_S = 3.0
TAIL_S = 4.0
#: Sign-ups per hundred requests (the rest are commands for accepted users).
SIGNUP_SHARE = 0.2
#: Seconds statuses are read through the survivor after the other worker's death,
#: and before it.
PROBE_S = 15.0
PROBE_LEAD_S = 1.0
#: Final statuses the probe reads in turn, how many at once, and the pause between rounds.
PROBE_IDS = 60
PROBE_CONCURRENCY = 6
PROBE_PAUSE_S = 0.2
#: The issue's criterion: this share of status reads answer 200 with the final status
#: within this many seconds, while a worker dies and after.
STATUS_READ_SHARE = 0.99
STATUS_READ_LIMIT_S = 1.0
#: Seconds a killed broker stays down before it is started again.
BROKER_DOWN_S = 10.0
#: Longest wait for Elasticsearch to set (or lift) the flood stage's read-only block:
#: it reads disk usage every 10 s at the most often (5-13 s measured, once over 45 s).
DISK_BLOCK_WAIT_S = 90.0


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


# --------------------------------------------------------------------------- load


@dataclass(frozen=True, slots=True)
class Answer:
    """One HTTP answer, with when the request really went out and came back."""

    kind: str
    path: str
    status: int
    body: dict[str, Any] | None
    started: float
    ended: float


class RecordingClient(ApiClient):
    """:class:`demo.loadgen.engine.ApiClient` that keeps every answer and spreads requests over URLs.

    ``urls`` may change while the load runs (a worker joins, one is killed).
    """

    def __init__(self, urls: list[str], api_key: str) -> None:
        super().__init__(urls[0], api_key)
        self.urls = urls
        self.answers: list[Answer] = []
        self._turn = 0

    async def post(self, request: Request) -> tuple[int, dict[str, Any] | None]:
        """POST to the next URL; record the answer (``NO_ANSWER`` on a transport error)."""
        answer = await self.send(request)
        return answer.status, answer.body

    async def send(self, request: Request, headers: dict[str, str] | None = None) -> Answer:
        """POST ``request`` (with ``headers``) to the next URL; record and return the answer."""
        self._turn += 1
        url = self.urls[self._turn % len(self.urls)].rstrip("/")
        loop = asyncio.get_running_loop()
        started = loop.time()
        status, body = NO_ANSWER, None
        try:
            async with self._session.post(
                url + request.path, data=request.body, headers=headers
            ) as answer:
                status, raw = answer.status, await answer.read()
            with contextlib.suppress(orjson.JSONDecodeError):
                body = orjson.loads(raw)
        except (aiohttp.ClientError, TimeoutError):
            pass
        recorded = Answer(request.kind, request.path, status, body, started, loop.time())
        self.answers.append(recorded)
        return recorded

    def accepted(self) -> list[Accepted]:
        """The requests answered 202, as the audit needs them (a request sent again, once)."""
        found = [_accepted(a) for a in self.answers if a.status == 202 and a.body is not None]
        return list(dict.fromkeys(found))


def _accepted(answer: Answer) -> Accepted:
    assert answer.body is not None
    cid = answer.body["correlation_id"]
    if answer.kind == "usuarios":
        return Accepted(cid, answer.kind, int(answer.body["usuario"]["user_id"]))
    if answer.kind == "visualizacao":
        viewing = answer.body["visualizacao"]
        return Accepted(
            cid, answer.kind, int(viewing["user_id"]), conteudo_id=viewing["conteudo_id"]
        )
    if answer.kind == "sessao":
        session = answer.body["sessao"]
        return Accepted(cid, answer.kind, int(session["user_id"]), session_id=session["session_id"])
    return Accepted(cid, answer.kind, int(answer.path.split("/")[2]))


# --------------------------------------------------------------------------- one scenario's stage


class Stage:
    """The topics, workers, outcome watcher and load of one scenario."""

    def __init__(self, options: Options, number: int, replication: int = 1) -> None:
        self.options = options
        #: Copies of each topic (``TOPIC_REPLICATION_FACTOR`` of the workers).
        self.replication = replication
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
            layout | {self.topic("dead_letters"): 1}, self.replication, topics.topic_config
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

    async def audit(self, survivor: ChaosWorker, ghosts: bool = True) -> Verdict:
        """Judge what the 202s promised, reading statuses through ``survivor``."""
        assert self.client is not None
        target = Target(self.prefix, survivor.url, ADMIN_KEY, [w.data_dir for w in self.workers])
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
        deadline = _now() + timeout_s
        while _now() < deadline:
            waiting = {a.correlation_id for a in self.client.accepted()}
            final = waiting <= self.watcher.arrivals.keys()
            if final and await progress.pipeline_lag(self.app_id, self.topic) == 0:
                return _now() - since
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
        await _delete_documents(self.prefix)
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


def _now() -> float:
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


def _outage_load_s(options: Options, fault_s: float) -> float:
    return LEAD_S + fault_s + TAIL_S


async def _run(
    options: Options,
    number: int,
    name: str,
    body: Callable[[Stage], Awaitable[Row]],
    replication: int = 1,
) -> Row:
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


# --------------------------------------------------------------------------- 1. worker crash


async def worker_crash(options: Options) -> Row:
    """SIGKILL the only worker mid-load, restart it on the same data dir and instance id."""

    async def body(stage: Stage) -> Row:
        worker = await stage.start(stage.worker("a"))

        async def fault() -> float:
            await asyncio.sleep(LEAD_S)
            worker.kill()
            await asyncio.sleep(1.0)
            restart_s = await asyncio.to_thread(worker.restart)
            notes.append(f"restart {restart_s:.1f}s")
            return _now()

        notes: list[str] = []
        cleared = await stage.load([worker.url], _outage_load_s(options, 8.0), fault)
        verdict = await stage.audit(worker)
        return Row("", verdict, stage.recovery_s(cleared), notes)

    return await _run(options, 1, "1 worker SIGKILL + restart", body)


# --------------------------------------------------------------------------- 2. PostgreSQL down


async def postgres_outage(options: Options) -> Row:
    """Stop PostgreSQL for ``pg_outage_s`` under load, then start it again."""

    async def body(stage: Stage) -> Row:
        worker = await stage.start(stage.worker("a"))

        async def fault() -> float:
            await asyncio.sleep(LEAD_S)
            try:
                await asyncio.to_thread(faults.stop_service, "postgresql")
                await asyncio.sleep(options.pg_outage_s)
            finally:
                await asyncio.to_thread(faults.start_service, "postgresql")
            return _now()

        fault_s = options.pg_outage_s + 2.0
        cleared = await stage.load([worker.url], _outage_load_s(options, fault_s), fault)
        verdict = await stage.audit(worker)
        notes = [f"down {options.pg_outage_s:g}s"]
        return Row("", verdict, stage.recovery_s(cleared), notes)

    return await _run(options, 2, "2 PostgreSQL down", body)


# --------------------------------------------------------------------------- 3. Elasticsearch down


class FallbackWatch:
    """Watches the workers' fallback files: their peak size, and when they were last emptied."""

    def __init__(self, data_dirs: list[Path]) -> None:
        self.data_dirs = data_dirs
        self.peak = 0
        self.drained_at: float | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._watch())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _watch(self) -> None:
        while True:
            size = fallback_bytes(self.data_dirs)
            self.peak = max(self.peak, size)
            if size:
                self.drained_at = None
            elif self.peak and self.drained_at is None:
                self.drained_at = _now()
            await asyncio.sleep(0.2)

    def recovery_s(self, cleared: float | None) -> float | None:
        """Seconds from ``cleared`` until the backlog was replayed (outcomes never wait for
        Elasticsearch: its recovery is the replay)."""
        if cleared is None or self.drained_at is None:
            return None
        return max(0.0, self.drained_at - cleared)

    def summary(self, verdict: Verdict) -> str:
        """Peak and leftover size, for the notes."""
        return f"fallback peak {self.peak / 1024:.0f} KiB, left {verdict.fallback_bytes} B"


async def elasticsearch_outage(options: Options) -> Row:
    """Stop (or freeze) Elasticsearch under load; every document lands once, fallback empties."""

    async def body(stage: Stage) -> Row:
        worker = await stage.start(stage.worker("a"))
        fallback = FallbackWatch([worker.data_dir])

        async def fault() -> float:
            await asyncio.sleep(LEAD_S)
            if options.es_fault == "freeze":
                pid = await asyncio.to_thread(faults.elasticsearch_pid)
                faults.freeze(pid)
                try:
                    await asyncio.sleep(options.es_outage_s)
                finally:
                    faults.thaw(pid)
            else:
                try:
                    await asyncio.to_thread(faults.stop_service, "elasticsearch")
                    await asyncio.sleep(options.es_outage_s)
                finally:
                    await asyncio.to_thread(faults.start_service, "elasticsearch")
            return _now()

        restart = 16.0 if options.es_fault == "stop" else 0.0
        fault_s = options.es_outage_s + restart
        async with fallback:
            cleared = await stage.load([worker.url], _outage_load_s(options, fault_s), fault)
            verdict = await stage.audit(worker)
        notes = [f"{options.es_fault} {options.es_outage_s:g}s", fallback.summary(verdict)]
        row = Row("", verdict, fallback.recovery_s(cleared), notes)
        row.checks["fallback file used"] = fallback.peak > 0
        return row

    return await _run(options, 3, "3 Elasticsearch down", body)


# --------------------------------------------------------------------------- 4. Kafka restart


async def kafka_restart(options: Options) -> Row:
    """Restart the broker under load: quick 503s during the outage, no accepted request lost."""

    async def body(stage: Stage) -> Row:
        worker = await stage.start(stage.worker("a"))
        window: list[float] = []

        async def fault() -> float:
            await asyncio.sleep(LEAD_S)
            window.append(_now())
            try:
                await asyncio.to_thread(faults.stop_service, "kafka")
                await asyncio.sleep(2.0)
            finally:
                await asyncio.to_thread(faults.start_service, "kafka")
            window.append(_now())
            return window[-1]

        cleared = await stage.load([worker.url], _outage_load_s(options, 10.0), fault)
        verdict = await stage.audit(worker)
        during = stage.answers_between(window[0], window[1])
        refused = [a for a in during if a.status != 202]
        slowest = max((a.ended - a.started for a in refused), default=0.0)
        codes = sorted({a.status for a in refused})
        back = (
            [a.ended - cleared for a in stage.client.answers if a.status == 202]
            if (stage.client and cleared)
            else []
        )
        first_202 = min((b for b in back if b >= 0), default=None)
        notes = [
            f"outage {window[1] - window[0]:.1f}s",
            f"{len(refused)} non-202 during it (codes {codes}), slowest {slowest:.2f}s",
        ]
        if first_202 is not None:
            notes.append(f"first 202 {first_202:.1f}s after restart")
        row = Row("", verdict, stage.recovery_s(cleared), notes)
        limit = options.produce_timeout_s + 1.0
        row.checks[f"non-202 answers within {limit:g}s"] = slowest <= limit
        row.checks["non-202 answers are 503"] = set(codes) <= {503}
        return row

    return await _run(options, 4, "4 Kafka broker restart", body)


# --------------------------------------------------------------------------- 5. rebalance


@dataclass(frozen=True, slots=True)
class StatusRead:
    """One ``GET /status`` of the probe: the id read, HTTP code, the status read, seconds it took."""

    correlation_id: str
    code: int
    status: str | None
    seconds: float

    @property
    def good(self) -> bool:
        """200 with a final status within :data:`STATUS_READ_LIMIT_S` (the issue's criterion)."""
        return self.code == 200 and self.status in FINAL and self.seconds <= STATUS_READ_LIMIT_S


class StatusProbe:
    """Reads final statuses through one worker, over and over, while a fault runs.

    The ids are requests whose outcome was already on ``response_events``
    when the probe started: each read must answer 200 with that final status.
    """

    def __init__(self, url: str, correlation_ids: list[str]) -> None:
        self.url = url
        self.ids = correlation_ids
        self.reads: list[StatusRead] = []

    async def run(self, duration_s: float) -> None:
        """Read every id in turn (a few at once) for ``duration_s``."""
        headers = {"X-API-Key": ADMIN_KEY}
        async with httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30) as http:
            deadline = _now() + duration_s
            while _now() < deadline:
                for first in range(0, len(self.ids), PROBE_CONCURRENCY):
                    chunk = self.ids[first : first + PROBE_CONCURRENCY]
                    await asyncio.gather(*(self._read(http, cid) for cid in chunk))
                await asyncio.sleep(PROBE_PAUSE_S)

    async def _read(self, http: httpx.AsyncClient, correlation_id: str) -> None:
        began = _now()
        try:
            answer = await http.get(f"/status/{correlation_id}")
            code, status = answer.status_code, answer.json().get("status")
        except (httpx.HTTPError, ValueError):
            code, status = NO_ANSWER, None
        self.reads.append(StatusRead(correlation_id, code, status, _now() - began))

    def summary(self) -> str:
        """Codes, share of good reads, the slowest, and the ids most often read wrong."""
        codes = Counter(r.code for r in self.reads)
        slowest = max((r.seconds for r in self.reads), default=0.0)
        bad = Counter((r.correlation_id, r.code, r.status) for r in self.reads if not r.good)
        return (
            f"{len(self.reads)} status reads via {self.url}: {dict(codes)}, "
            f"{100 * self.good_share:.1f} % 200 + final within {STATUS_READ_LIMIT_S:g}s, "
            f"slowest {slowest:.2f}s"
            + "".join(
                f"; {n}x {cid} {code} {status}" for (cid, code, status), n in bad.most_common(3)
            )
        )

    @property
    def good_share(self) -> float:
        """Share of reads that met the criterion (0 when nothing was read)."""
        return sum(r.good for r in self.reads) / len(self.reads) if self.reads else 0.0


def final_before(stage: Stage, moment: float, count: int) -> list[str]:
    """Up to ``count`` accepted ids whose outcome had arrived by ``moment``, spread over the run."""
    assert stage.watcher is not None
    arrived = stage.watcher.arrivals
    ids = [cid for cid, (at, _) in arrived.items() if at <= moment]
    step = max(1, len(ids) // count)
    return ids[::step][:count]


async def rebalance(options: Options) -> Row:
    """A second worker joins under load, then the first is killed: final statuses stay
    readable through the survivor (>= 99 % answer 200 with the final status within 1 s)."""

    async def body(stage: Stage) -> Row:
        first = await stage.start(stage.worker("a"))
        second = stage.worker("b")
        urls = [first.url]
        notes: list[str] = []
        probes: list[StatusProbe] = []

        async def fault() -> float:
            await asyncio.sleep(LEAD_S)
            began = _now()
            await stage.start(second)
            urls.append(second.url)
            # A worker still recovering has no standby copies yet: the kill would
            # test a double fault, not a rebalance (docs/chaos.md, scenario 5).
            await asyncio.to_thread(second.wait_ready)
            notes.append(f"b joined and recovered in {_now() - began:.1f}s")
            await asyncio.sleep(3.0)
            probe = StatusProbe(second.url, final_before(stage, _now(), PROBE_IDS))
            probes.append(probe)
            reading = asyncio.create_task(probe.run(PROBE_LEAD_S + PROBE_S))
            await asyncio.sleep(PROBE_LEAD_S)
            urls.remove(first.url)
            first.kill()
            killed = _now()
            await reading
            return killed

        # Load goes on through the join (recovery takes 10-15 s here), the kill and the probe.
        cleared = await stage.load(urls, _outage_load_s(options, 40.0), fault)
        verdict = await stage.audit(second)
        (probe,) = probes
        notes.append(probe.summary())
        row = Row("", verdict, stage.recovery_s(cleared), notes)
        row.checks[
            f">= {100 * STATUS_READ_SHARE:g} % of status reads via the survivor: 200 + final "
            f"within {STATUS_READ_LIMIT_S:g}s"
        ] = probe.good_share >= STATUS_READ_SHARE
        return row

    return await _run(options, 5, "5 join + kill (rebalance)", body)


# --------------------------------------------------------------------------- 6. poison events


def poison_records(topic_max_bytes: int = 1_000_000) -> list[tuple[str, bytes | None, bytes]]:
    """``(what, key, value)`` of each poison event; those with a correlation id name it."""

    def event(**fields: Any) -> bytes:
        return orjson.dumps({"correlation_id": str(uuid.uuid4()), **fields})

    huge_name = "x" * topic_max_bytes
    return [
        ("not JSON", b"1", b"\xff{not json at all"),
        ("JSON but not an object", b"1", b"[1, 2, 3]"),
        (
            "wrong types",
            b"7",
            event(event_type="pagamento_realizado", user_id="sete", valor="dez reais"),
        ),
        ("missing fields", b"7", event(event_type="criar_usuario", user_id=7)),
        ("unknown event_type", b"7", event(event_type="apagar_tudo", user_id=7)),
        (
            "1 MB value",
            b"7",
            event(event_type="criar_usuario", user_id=7, nome=huge_name)[: topic_max_bytes - 100]
            + b'"}',
        ),
    ]


async def _produce_poison(topic: str) -> list[tuple[str, int, int, str | None]]:
    """Write the poison events; ``(what, partition, offset, correlation id)`` of each."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap(), max_request_size=4 * 1024**2)
    await producer.start()
    written = []
    try:
        for what, key, value in poison_records():
            meta = await producer.send_and_wait(topic, value=value, key=key)
            cid = None
            with contextlib.suppress(orjson.JSONDecodeError, TypeError, AttributeError):
                cid = orjson.loads(value).get("correlation_id")
            written.append((what, meta.partition, meta.offset, cid))
    finally:
        await producer.stop()
    return written


async def poison_events(options: Options) -> Row:
    """Poison events straight on ``user_events``: each a dead letter with its reason; then
    valid requests still succeed."""

    async def body(stage: Stage) -> Row:
        worker = await stage.start(stage.worker("a"))
        written = await _produce_poison(stage.topic("user_events"))
        stage.extra_ids = {cid for *_, cid in written if cid}

        async def no_fault() -> None:
            return None

        await stage.load([worker.url], max(5.0, options.n / 100), no_fault)
        verdict = await stage.audit(worker)
        letters = await _dead_letters_of(stage, written)
        row = Row("", verdict, None, [f"dead letters {len(letters)}/{len(written)}"])
        for what, partition, offset, _ in written:
            letter = letters.get((partition, offset))
            reason = letter.get("reason") if letter else None
            row.checks[f"dead letter for {what}"] = bool(reason)
            if reason:
                row.notes.append(f"{what}: {reason[:60]}")
        statuses: dict[str, str] = {}
        target = Target(stage.prefix, worker.url, ADMIN_KEY, [worker.data_dir])
        named = [cid for *_, cid in written if cid]
        await fetch_statuses(target, named, statuses)
        row.checks["poison with a correlation id reads as error"] = all(
            statuses.get(cid) == "error" for cid in named
        )
        row.checks["dead letters logged in Elasticsearch"] = await _dead_letter_documents(
            stage, written
        )
        return row

    return await _run(options, 6, "6 poison events", body)


async def _dead_letters_of(
    stage: Stage, written: list[tuple[str, int, int, str | None]], timeout_s: float = 60.0
) -> dict[tuple[int, int], dict[str, Any]]:
    """The dead letters of the poison events, by (partition, offset) of the refused record."""
    wanted = {(p, o) for _, p, o, _ in written}
    deadline = time.monotonic() + timeout_s
    while True:
        letters = {
            (e.get("partition"), e.get("offset")): e
            for e in await topic_events(stage.topic("dead_letters"))
            if e.get("topic") == stage.topic("user_events") and e.get("stage") == "processing"
        }
        if wanted <= set(letters) or time.monotonic() > deadline:
            return {k: v for k, v in letters.items() if k in wanted}
        await asyncio.sleep(1.0)


async def _dead_letter_documents(
    stage: Stage, written: list[tuple[str, int, int, str | None]]
) -> bool:
    """Each poison event's dead letter is one ``system_logs`` document (deterministic id)."""
    ids = [
        f"{stage.topic('dead_letters')}:processing:{stage.topic('user_events')}:{p}:{o}"
        for _, p, o, _ in written
    ]
    async with httpx.AsyncClient(base_url=get_settings().elasticsearch_host, timeout=30) as es:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            # A search, not _mget: the alias spans several indices.
            body = {"query": {"ids": {"values": ids}}, "size": 0, "track_total_hits": True}
            answer = await es.post(f"/{SYSTEM_LOGS}/_search", json=body)
            if answer.status_code == 200 and answer.json()["hits"]["total"]["value"] == len(ids):
                return True
            await asyncio.sleep(1.0)
    return False


# --------------------------------------------------------------------------- 7. fuzzing


#: Schemathesis checks of scenario 7: no 5xx, and every answer as ``/openapi.json`` says
#: (its status code, content type, headers and body schema), on every operation.
SCHEMATHESIS_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)


def run_schemathesis(url: str, max_examples: int, report: Path) -> tuple[int, str]:
    """Schemathesis 4 against ``url``'s ``/openapi.json``, admin key, the conformance checks."""
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{url}/openapi.json",
        "--header",
        f"X-API-Key: {ADMIN_KEY}",
        "--checks",
        ",".join(SCHEMATHESIS_CHECKS),
        "--max-examples",
        str(max_examples),
        "--phases",
        "examples,coverage,fuzzing",
        "--generation-database",
        "none",
        "--seed",
        "7",
        # One worker thread: with two, Hypothesis once failed inside itself ("AST
        # constructor recursion depth mismatch") and the run read as failed.
        "--workers",
        "1",
        "--request-timeout",
        "15",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]
    done = subprocess.run(
        command, cwd=WORK_DIR, capture_output=True, text=True, check=False, timeout=900
    )
    return done.returncode, done.stdout + done.stderr


async def fuzz_api(options: Options) -> Row:
    """Schemathesis on every operation of ``/openapi.json``: no 5xx and every answer as
    documented, the worker survives, and valid requests afterwards have exactly one effect each."""

    async def body(stage: Stage) -> Row:
        worker = await stage.start(stage.worker("a"))
        # A worker still recovering its table answers GET /status with 503, by design:
        # fuzzing must start once it is up, or that 503 reads as a server error.
        await asyncio.to_thread(worker.wait_ready)
        report = WORK_DIR / f"{stage.app_id}-schemathesis.xml"
        code, output = await asyncio.to_thread(
            run_schemathesis, worker.url, options.fuzz_examples, report
        )
        (WORK_DIR / f"{stage.app_id}-schemathesis.txt").write_text(output)
        summary = _schemathesis_summary(output)

        async def no_fault() -> None:
            return None

        await stage.load([worker.url], max(5.0, options.n / 100), no_fault)
        verdict = await stage.audit(worker, ghosts=False)
        row = Row("", verdict, None, [f"schemathesis exit {code}: {summary}"])
        row.checks["schemathesis: no 5xx, every answer as documented"] = code == 0
        row.checks["worker alive after fuzzing"] = worker.alive
        return row

    return await _run(options, 7, "7 API fuzzing", body)


def _schemathesis_summary(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in reversed(lines):
        if re.search(r"\d+ (passed|failed|errors?)|No issues found|test cases", line):
            return line.strip("= ")
    return lines[-1] if lines else "no output"


# --------------------------------------------------------------------------- 8. a broker lost


async def broker_loss(options: Options) -> Row:
    """Three brokers, topics with three copies (two in sync); the broker leading most of
    ``user_events`` SIGKILLed under load, restarted: no request refused, nothing lost or doubled."""
    async with three_brokers() as cluster:

        async def body(stage: Stage) -> Row:
            worker = await stage.start(stage.worker("a"))
            notes = ["a cluster of its own" if cluster.own else "the stack's cluster"]
            window: list[float] = []

            async def fault() -> float:
                await asyncio.sleep(LEAD_S)
                leaders = await broker.partition_leaders(stage.topic("user_events"))
                (node_id, led), *_ = leaders.most_common(1)
                victim = cluster.node_name(node_id)
                window.append(_now())
                await asyncio.to_thread(cluster.kill, victim)
                await asyncio.sleep(BROKER_DOWN_S)
                await asyncio.to_thread(cluster.start, victim)
                window.append(_now())
                back = window[1] - window[0]
                notes.append(f"{victim} (leader of {led}) killed, serving again {back:.1f}s later")
                return window[1]

            cleared = await stage.load([worker.url], _outage_load_s(options, 20.0), fault)
            verdict = await stage.audit(worker)
            assert stage.client is not None
            refused = [a for a in stage.client.answers if a.status != 202]
            during = [a for a in stage.answers_between(*window) if a.status == 202]
            slowest = max((a.ended - a.started for a in during), default=0.0)
            notes.append(f"{len(during)} answered 202 during the outage, slowest {slowest:.2f}s")
            notes.append(f"refused {Counter(a.status for a in refused)}")
            row = Row("", verdict, stage.recovery_s(cleared), notes)
            row.checks["no request refused"] = not refused
            return row

        return await _run(options, 8, "8 broker SIGKILL (3 brokers)", body, replication=3)


# --------------------------------------------------------------------------- 9. two of three workers


async def two_workers_killed(options: Options) -> Row:
    """Three workers share the group; two are SIGKILLed at once under load, then restarted:
    nothing lost or doubled; recovery = until every accepted request is final and lag is 0."""

    async def body(stage: Stage) -> Row:
        workers = [await stage.start(stage.worker(name)) for name in ("a", "b", "c")]
        await asyncio.gather(*(asyncio.to_thread(w.wait_ready) for w in workers))
        victims, survivor = workers[:2], workers[2]
        urls = [w.url for w in workers]
        notes: list[str] = []

        async def fault() -> float:
            await asyncio.sleep(LEAD_S)
            for victim in victims:
                urls.remove(victim.url)
                victim.kill()
            await asyncio.sleep(1.0)
            restarts = await asyncio.gather(*(asyncio.to_thread(v.restart) for v in victims))
            urls.extend(v.url for v in victims)
            notes.append(f"restarted in {max(restarts):.1f}s")
            return _now()

        cleared = await stage.load(urls, _outage_load_s(options, 10.0), fault)
        assert cleared is not None
        settled = await stage.settled(cleared, options.audit_timeout_s)
        verdict = await stage.audit(survivor)
        notes.append(
            "all final, lag 0: never" if settled is None else f"all final, lag 0 {settled:.1f}s"
        )
        row = Row("", verdict, settled, notes)
        row.checks["every accepted request final and lag 0"] = settled is not None
        return row

    return await _run(options, 9, "9 two of three workers SIGKILL", body)


# --------------------------------------------------------------------------- 10. Elasticsearch disk full


async def elasticsearch_disk_full(options: Options) -> Row:
    """Elasticsearch's flood-stage watermark passed: ``system_logs`` turns read-only under
    load; documents wait in the fallback file and land exactly once when it is lifted."""

    async def body(stage: Stage) -> Row:
        worker = await stage.start(stage.worker("a"))
        fallback = FallbackWatch([worker.data_dir])
        # Elasticsearch sets the block at its next disk reading (10 s apart at best,
        # up to a minute measured): the load starts once the index is read-only.
        notes = [await _flood_until_read_only()]

        async def fault() -> float:
            await asyncio.sleep(LEAD_S + options.es_outage_s)
            await asyncio.to_thread(faults.restore_disk)
            notes.append(await _lift_block())
            return _now()

        try:
            async with fallback:
                cleared = await stage.load([worker.url], _outage_load_s(options, 15.0), fault)
                verdict = await stage.audit(worker)
        finally:
            await asyncio.to_thread(faults.restore_disk)
        notes.append(fallback.summary(verdict))
        row = Row("", verdict, fallback.recovery_s(cleared), notes)
        row.checks["fallback file used"] = fallback.peak > 0
        return row

    return await _run(options, 10, "10 Elasticsearch disk full", body)


async def _flood_until_read_only() -> str:
    """Pass the flood stage and wait for the block (restoring the disk settings on failure)."""
    began = _now()
    await asyncio.to_thread(faults.flood_disk)
    try:
        await _until(lambda: faults.read_only(SYSTEM_LOGS), DISK_BLOCK_WAIT_S)
    except TimeoutError:
        await asyncio.to_thread(faults.restore_disk)
        raise
    return f"read-only {_now() - began:.1f}s after the watermark"


async def _lift_block() -> str:
    """Wait for Elasticsearch to lift the read-only block itself, else lift it by hand."""
    began = _now()
    try:
        await _until(lambda: not faults.read_only(SYSTEM_LOGS), DISK_BLOCK_WAIT_S)
        return f"block lifted by Elasticsearch {_now() - began:.1f}s after the restore"
    except TimeoutError:
        await asyncio.to_thread(faults.remove_block, SYSTEM_LOGS)
        return "block removed by hand"


async def _until(condition: Callable[[], bool], timeout_s: float) -> None:
    """Return once ``condition()`` (run in a thread) holds; ``TimeoutError`` after ``timeout_s``."""
    deadline = _now() + timeout_s
    while not await asyncio.to_thread(condition):
        if _now() > deadline:
            raise TimeoutError(f"not true within {timeout_s:g}s")
        await asyncio.sleep(0.5)


# --------------------------------------------------------------------------- 11. sign-ups sent twice


class SignupRetryingClient(RecordingClient):
    """Sends every sign-up twice with one ``Idempotency-Key``: alternately both at once
    (racing for the user id) and one after the other's answer (a client retrying)."""

    def __init__(self, urls: list[str], api_key: str) -> None:
        super().__init__(urls, api_key)
        self.pairs: list[tuple[Answer, Answer]] = []

    async def post(self, request: Request) -> tuple[int, dict[str, Any] | None]:
        """A sign-up twice (the first answer is returned); anything else once."""
        if request.kind != "usuarios":
            return await super().post(request)
        headers = {IDEMPOTENCY_HEADER: uuid.uuid4().hex}
        if len(self.pairs) % 2:
            first = await self.send(request, headers)
            second = await self.send(request, headers)
        else:
            first, second = await asyncio.gather(
                self.send(request, headers), self.send(request, headers)
            )
        self.pairs.append((first, second))
        return first.status, first.body

    def mismatched(self) -> list[tuple[Answer, Answer]]:
        """Pairs both answered 202 that disagree on the correlation id or the user id."""
        return [
            (a, b)
            for a, b in self.pairs
            if a.status == b.status == 202 and _signup_ids(a) != _signup_ids(b)
        ]


def _signup_ids(answer: Answer) -> tuple[str, int]:
    assert answer.body is not None
    return answer.body["correlation_id"], int(answer.body["usuario"]["user_id"])


async def signups_sent_twice(options: Options) -> Row:
    """Every sign-up sent twice with one ``Idempotency-Key`` (at once, or after the answer):
    both answers carry the same ``user_id``; one user each, nothing doubled."""

    async def body(stage: Stage) -> Row:
        worker = await stage.start(stage.worker("a"))

        async def no_fault() -> None:
            return None

        duration = max(5.0, options.n / 100)
        await stage.load([worker.url], duration, no_fault, SignupRetryingClient)
        client = stage.client
        assert isinstance(client, SignupRetryingClient)
        verdict = await stage.audit(worker)
        both = sum(a.status == b.status == 202 for a, b in client.pairs)
        wrong = client.mismatched()
        notes = [f"{len(client.pairs)} sign-ups sent twice, {both} answered 202 twice"]
        notes += [f"{_signup_ids(a)} then {_signup_ids(b)}" for a, b in wrong[:3]]
        row = Row("", verdict, None, notes)
        row.checks["both answers of a sign-up carry one user_id"] = both > 0 and not wrong
        return row

    return await _run(options, 11, "11 sign-ups sent twice", body)


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
}


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
