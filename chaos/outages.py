"""Scenarios 2, 3, 4, 8 and 10: a service down (PostgreSQL, Elasticsearch, Kafka, a broker, a full disk)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Self

from app.eventlog.indices import SYSTEM_LOGS
from chaos import faults
from chaos.audit import Verdict
from chaos.cluster import three_brokers
from chaos.evidence import fallback_bytes
from chaos.stage import (
    LEAD_S,
    Options,
    Row,
    Stage,
    now,
    outage_load_s,
    run_scenario,
)
from harness import broker

#: Seconds a killed broker stays down before it is started again.
BROKER_DOWN_S = 10.0
#: Longest wait for Elasticsearch to set (or lift) the flood stage's read-only block:
#: it reads disk usage every 10 s at the most often (5-13 s measured, once over 45 s).
DISK_BLOCK_WAIT_S = 90.0


async def postgres_outage(options: Options) -> Row:
    """Stop PostgreSQL for ``pg_outage_s`` under load, then start it again."""

    async def body(stage: Stage) -> Row:
        worker = await stage.start(stage.worker("a"))

        async def fault() -> float:
            await asyncio.sleep(LEAD_S)
            await faults.service_down("postgresql", options.pg_outage_s)
            return now()

        fault_s = options.pg_outage_s + 2.0
        cleared = await stage.load([worker.url], outage_load_s(options, fault_s), fault)
        verdict = await stage.audit(worker)
        notes = [f"down {options.pg_outage_s:g}s"]
        return Row("", verdict, stage.recovery_s(cleared), notes)

    return await run_scenario(options, 2, "2 PostgreSQL down", body)


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
                self.drained_at = now()
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
                await faults.service_down("elasticsearch", options.es_outage_s)
            return now()

        restart = 16.0 if options.es_fault == "stop" else 0.0
        fault_s = options.es_outage_s + restart
        async with fallback:
            cleared = await stage.load([worker.url], outage_load_s(options, fault_s), fault)
            verdict = await stage.audit(worker)
        notes = [f"{options.es_fault} {options.es_outage_s:g}s", fallback.summary(verdict)]
        row = Row("", verdict, fallback.recovery_s(cleared), notes)
        row.checks["fallback file used"] = fallback.peak > 0
        return row

    return await run_scenario(options, 3, "3 Elasticsearch down", body)


async def kafka_restart(options: Options) -> Row:
    """Restart the broker under load: quick 503s during the outage, no accepted request lost."""

    async def body(stage: Stage) -> Row:
        worker = await stage.start(stage.worker("a"))
        window: list[float] = []

        async def fault() -> float:
            await asyncio.sleep(LEAD_S)
            window.append(now())
            await faults.service_down("kafka", 2.0)
            window.append(now())
            return window[-1]

        cleared = await stage.load([worker.url], outage_load_s(options, 10.0), fault)
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

    return await run_scenario(options, 4, "4 Kafka broker restart", body)


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
                window.append(now())
                await asyncio.to_thread(cluster.kill, victim)
                await asyncio.sleep(BROKER_DOWN_S)
                await asyncio.to_thread(cluster.start, victim)
                window.append(now())
                back = window[1] - window[0]
                notes.append(f"{victim} (leader of {led}) killed, serving again {back:.1f}s later")
                return window[1]

            cleared = await stage.load([worker.url], outage_load_s(options, 20.0), fault)
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

        return await run_scenario(options, 8, "8 broker SIGKILL (3 brokers)", body, replication=3)


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
            return now()

        try:
            async with fallback:
                cleared = await stage.load([worker.url], outage_load_s(options, 15.0), fault)
                verdict = await stage.audit(worker)
        finally:
            await asyncio.to_thread(faults.restore_disk)
        notes.append(fallback.summary(verdict))
        row = Row("", verdict, fallback.recovery_s(cleared), notes)
        row.checks["fallback file used"] = fallback.peak > 0
        return row

    return await run_scenario(options, 10, "10 Elasticsearch disk full", body)


async def _flood_until_read_only() -> str:
    """Pass the flood stage and wait for the block (restoring the disk settings on failure)."""
    began = now()
    await asyncio.to_thread(faults.flood_disk)
    try:
        await _until(lambda: faults.read_only(SYSTEM_LOGS), DISK_BLOCK_WAIT_S)
    except TimeoutError:
        await asyncio.to_thread(faults.restore_disk)
        raise
    return f"read-only {now() - began:.1f}s after the watermark"


async def _lift_block() -> str:
    """Wait for Elasticsearch to lift the read-only block itself, else lift it by hand."""
    began = now()
    try:
        await _until(lambda: not faults.read_only(SYSTEM_LOGS), DISK_BLOCK_WAIT_S)
        return f"block lifted by Elasticsearch {now() - began:.1f}s after the restore"
    except TimeoutError:
        await asyncio.to_thread(faults.remove_block, SYSTEM_LOGS)
        return "block removed by hand"


async def _until(condition: Callable[[], bool], timeout_s: float) -> None:
    """Return once ``condition()`` (run in a thread) holds; ``TimeoutError`` after ``timeout_s``."""
    deadline = now() + timeout_s
    while not await asyncio.to_thread(condition):
        if now() > deadline:
            raise TimeoutError(f"not true within {timeout_s:g}s")
        await asyncio.sleep(0.5)
