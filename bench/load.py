"""HTTP load against the running pipeline: ingest, latency, CPU per request, sustained rate, trending.

Phases, in order, each starting on an idle pipeline (every earlier request
applied, logged and its status recorded):

* ``ingest_rps``: ``--concurrency`` POSTs always in flight for ``--duration`` s;
* ``ingest_p50_ms``/``ingest_p99_ms``: an open loop at ``--ingest-rate``;
* ``e2e_p50_ms``/``e2e_p99_ms``: an open loop at ``--e2e-rate``, each request
  timed until its outcome is on ``response_events`` (read from Kafka);
* ``cpu_ms_per_request``: an open loop at ``--steady-rate`` for
  ``--steady-duration`` s; every process's CPU from the first request until
  every request is applied, logged and its status recorded, per accepted request
  (and ``api_cpu_ms_per_request``, the API process's part, in a split topology);
* ``sustained_rps``: open loops at each of ``--sustained-rates`` in turn, until
  one does not keep up (see :func:`_sustained`);
* ``trending_lag_ms``: viewings of one title by distinct users at
  ``--trending-rate``; p99 from each 202 until trending counts it.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from app.settings import get_settings
from bench import drain, progress
from bench.context import Run, RunTopics, say
from bench.cpu import TOTAL
from bench.measure import BenchDocuments, percentile
from bench.viewing_load import TrendingWatcher, ViewerTraffic, trending_lags_ms
from demo.loadgen.engine import ApiClient, LoadResult, closed_loop, open_loop
from demo.loadgen.traffic import Traffic
from demo.title_maker import DEMO_IDS

#: A step of the sustained ladder kept up when everything it sent was applied,
#: logged and its status recorded within this long after its scheduled end (the
#: logging agents gather documents for 0.5 s, the bench polls the index every 0.25 s).
KEPT_UP_WITHIN_S = 2.0
SETTLE_TIMEOUT_S = 300.0


@dataclass
class Pipeline:
    """The running workers the load goes to, and what they must have produced so far."""

    run: Run
    url: str
    watcher: progress.OutcomeWatcher
    documents: BenchDocuments
    statuses: drain.StatusAgent
    #: Requests whose outcome (and two documents: request, outcome) are due.
    due: int

    async def settle(self) -> float:
        """Wait until every due request is applied, logged and its status recorded; when (epoch s)."""
        await self.watcher.wait_for(self.due, timeout_s=SETTLE_TIMEOUT_S)
        logged = await drain.searchable(self.documents, 2 * self.due, SETTLE_TIMEOUT_S)
        return max(logged, await self.statuses.caught_up(SETTLE_TIMEOUT_S))

    def sent(self, load: LoadResult) -> None:
        """Expect the outcomes of ``load``'s accepted requests."""
        self.due += load.accepted
        self.run.cleanup.correlation_ids += [cid for cid, _ in load.accepted_ids]


async def load_phases(
    pipeline: Pipeline, topics: RunTopics, viewers: list[int]
) -> dict[str, float]:
    """Every load phase against ``pipeline``; ``viewers`` are users that exist."""
    options = pipeline.run.options
    traffic = Traffic(options.users)
    figures: dict[str, float] = {}
    async with ApiClient(pipeline.url, options.api_key) as client:
        say(f"ingest: {options.concurrency} in flight for {options.duration_s:g}s")
        closed = await closed_loop(client, traffic, options.concurrency, options.duration_s)
        figures["ingest_rps"] = closed.accepted / closed.elapsed_s
        figures |= await _latencies(pipeline, client, traffic, closed)
        figures |= await _steady(pipeline, client, traffic)
        figures["sustained_rps"] = await _sustained(pipeline, client, traffic)
        figures["trending_lag_ms"] = await _trending_lag(pipeline, client, topics, viewers)
    pipeline.run.cleanup.user_ids += traffic.user_ids
    return figures


async def _latencies(
    pipeline: Pipeline, client: ApiClient, traffic: Traffic, closed: LoadResult
) -> dict[str, float]:
    options = pipeline.run.options
    pipeline.sent(closed)
    loads = {}
    for name, rate in (("ingest", options.ingest_rate), ("e2e", options.e2e_rate)):
        await pipeline.settle()
        say(f"{name}: open loop at {rate:g} req/s for {options.duration_s:g}s")
        loads[name] = await open_loop(client, traffic, rate, options.duration_s)
        _report_errors(name, loads[name])
        pipeline.sent(loads[name])
    e2e = _e2e_latencies(loads["e2e"], pipeline.watcher)
    return {
        "ingest_p50_ms": percentile(loads["ingest"].latencies_ms, 50),
        "ingest_p99_ms": percentile(loads["ingest"].latencies_ms, 99),
        "e2e_p50_ms": percentile(e2e, 50),
        "e2e_p99_ms": percentile(e2e, 99),
    }


async def _steady(pipeline: Pipeline, client: ApiClient, traffic: Traffic) -> dict[str, float]:
    """Milliseconds of CPU per request accepted at a steady rate: all processes, and the
    API process's own when the topology has one."""
    options = pipeline.run.options
    await pipeline.settle()
    say(f"steady: {options.steady_rate:g} req/s for {options.steady_duration_s:g}s")
    start = time.time()
    pipeline.watcher.pause()
    load = await open_loop(client, traffic, options.steady_rate, options.steady_duration_s)
    pipeline.watcher.resume()
    _report_errors("steady", load)
    pipeline.sent(load)
    done = await pipeline.settle()
    await drain.let_sampler_pass()
    used = pipeline.run.charge("steady", start, done, load.accepted)
    figures = {"cpu_ms_per_request": used[TOTAL] / 1000}
    if "api" in used:
        figures["api_cpu_ms_per_request"] = used["api"] / 1000
    return figures


async def _sustained(pipeline: Pipeline, client: ApiClient, traffic: Traffic) -> float:
    """The highest offered rate the pipeline kept up with, end to end.

    Each step sends ``--duration`` s of load at one rate; it kept up when every
    request was accepted and everything it sent was applied, logged and its
    status recorded within :data:`KEPT_UP_WITHIN_S` of the step's scheduled end
    (neither the API nor the stages behind it fell behind). The ladder stops at
    the first step that did not keep up. If none did, the figure is what the first step achieved:
    requests / (first sent -> all applied, logged and recorded).
    """
    options = pipeline.run.options
    best = 0.0
    for rate in options.sustained_rates:
        await pipeline.settle()
        start = time.time()
        pipeline.watcher.pause()
        load = await open_loop(client, traffic, rate, options.duration_s)
        pipeline.watcher.resume()
        pipeline.sent(load)
        done = await pipeline.settle()
        late_s = done - start - options.duration_s
        kept_up = not load.errors and late_s <= KEPT_UP_WITHIN_S
        say(
            f"sustained: {rate:g} req/s -> all applied, logged and recorded {late_s:.1f}s after the end"
        )
        _report_errors("sustained", load)
        if not kept_up:
            return best or load.accepted / (done - start)
        best = rate
    return best


async def _trending_lag(
    pipeline: Pipeline, client: ApiClient, topics: RunTopics, viewers: list[int]
) -> float:
    """p99 ms from a viewing's 202 until the title's trending count includes it.

    Each viewing is of one title (new to this run's trending) by a user who
    never watched it, so the count grows by one per viewing; the k-th
    accepted viewing is counted once a published top list shows k.
    """
    options = pipeline.run.options
    settings = get_settings()
    title = random.choice(DEMO_IDS)
    window = settings.trending_windows[0].name
    watcher = await TrendingWatcher(topics.name("trending_tops"), title, window).start()
    try:
        count = min(len(viewers), round(options.trending_rate * options.duration_s))
        say(f"trending: {count} viewings of title {title} at {options.trending_rate:g}/s")
        traffic = ViewerTraffic(title, viewers)
        start = time.time()
        load = await open_loop(
            client, traffic, options.trending_rate, count / options.trending_rate
        )
        _report_errors("trending", load)
        pipeline.run.cleanup.correlation_ids += [cid for cid, _ in load.accepted_ids]
        await watcher.wait_for(load.accepted, timeout_s=SETTLE_TIMEOUT_S)
        await drain.let_sampler_pass()
        pipeline.run.charge("trending", start, time.time(), load.accepted)
        return percentile(trending_lags_ms(load.answered_at, watcher.reached), 99)
    finally:
        await watcher.stop()


def _e2e_latencies(load: LoadResult, watcher: progress.OutcomeWatcher) -> list[float]:
    return [
        (watcher.arrivals[cid][0] - due) * 1000
        for cid, due in load.accepted_ids
        if cid in watcher.arrivals
    ]


def _report_errors(name: str, load: LoadResult) -> None:
    if load.errors:
        say(f"{name}: answers other than 202: {load.errors}")
