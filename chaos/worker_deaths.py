"""Scenarios 1, 5 and 9: workers killed, and the statuses their survivors must keep answering."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

import httpx

from chaos.evidence import FINAL
from chaos.stage import (
    ADMIN_KEY,
    LEAD_S,
    Options,
    Row,
    Stage,
    now,
    outage_load_s,
    run_scenario,
)
from demo.loadgen.engine import NO_ANSWER

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
            return now()

        notes: list[str] = []
        cleared = await stage.load([worker.url], outage_load_s(options, 8.0), fault)
        verdict = await stage.audit(worker)
        return Row("", verdict, stage.recovery_s(cleared), notes)

    return await run_scenario(options, 1, "1 worker SIGKILL + restart", body)


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
            deadline = now() + duration_s
            while now() < deadline:
                for first in range(0, len(self.ids), PROBE_CONCURRENCY):
                    chunk = self.ids[first : first + PROBE_CONCURRENCY]
                    await asyncio.gather(*(self._read(http, cid) for cid in chunk))
                await asyncio.sleep(PROBE_PAUSE_S)

    async def _read(self, http: httpx.AsyncClient, correlation_id: str) -> None:
        began = now()
        try:
            answer = await http.get(f"/status/{correlation_id}")
            code, status = answer.status_code, answer.json().get("status")
        except (httpx.HTTPError, ValueError):
            code, status = NO_ANSWER, None
        self.reads.append(StatusRead(correlation_id, code, status, now() - began))

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
            began = now()
            await stage.start(second)
            urls.append(second.url)
            # A worker still recovering has no standby copies yet: the kill would
            # test a double fault, not a rebalance (docs/chaos.md, scenario 5).
            await asyncio.to_thread(second.wait_ready)
            notes.append(f"b joined and recovered in {now() - began:.1f}s")
            await asyncio.sleep(3.0)
            probe = StatusProbe(second.url, final_before(stage, now(), PROBE_IDS))
            probes.append(probe)
            reading = asyncio.create_task(probe.run(PROBE_LEAD_S + PROBE_S))
            await asyncio.sleep(PROBE_LEAD_S)
            urls.remove(first.url)
            first.kill()
            killed = now()
            await reading
            return killed

        # Load goes on through the join (recovery takes 10-15 s here), the kill and the probe.
        cleared = await stage.load(urls, outage_load_s(options, 40.0), fault)
        verdict = await stage.audit(second)
        (probe,) = probes
        notes.append(probe.summary())
        row = Row("", verdict, stage.recovery_s(cleared), notes)
        row.checks[
            f">= {100 * STATUS_READ_SHARE:g} % of status reads via the survivor: 200 + final "
            f"within {STATUS_READ_LIMIT_S:g}s"
        ] = probe.good_share >= STATUS_READ_SHARE
        return row

    return await run_scenario(options, 5, "5 join + kill (rebalance)", body)


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
            return now()

        cleared = await stage.load(urls, outage_load_s(options, 10.0), fault)
        assert cleared is not None
        settled = await stage.settled(cleared, options.audit_timeout_s)
        verdict = await stage.audit(survivor)
        notes.append(
            "all final, lag 0: never" if settled is None else f"all final, lag 0 {settled:.1f}s"
        )
        row = Row("", verdict, settled, notes)
        row.checks["every accepted request final and lag 0"] = settled is not None
        return row

    return await run_scenario(options, 9, "9 two of three workers SIGKILL", body)
