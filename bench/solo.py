"""Each stage alone on the machine: processing, viewing and logging, one worker at a time.

In the full pipeline the stages share the two cores; here each drains a
backlog with no other worker running, which is what the stage itself can do:

1. ``process_alone_eps``: a processing worker on a backlog of user events
   (topics ``<tag>s-*``);
2. ``viewing_eps``: a processing worker on a backlog of heartbeats of the
   users phase 1 created (topics ``<tag>v-*``, so nothing else is pending);
3. ``es_alone_docs_per_s``: a logging worker on phase 1's events and outcomes.

Each phase charges the CPU every process used in its window to its backlog.
"""

from __future__ import annotations

from app.settings import get_settings
from bench import drain, progress
from bench.backlog import Backlog
from bench.context import Run, say, stop_all
from bench.measure import BenchDocuments

SOLO, VIEWING = "s", "v"


async def solo_phases(run: Run, backlog: Backlog, viewing: Backlog) -> dict[str, float]:
    """Every stage alone on pre-loaded backlogs (produced by the caller)."""
    figures = {"process_alone_eps": await _processing_alone(run, backlog)}
    figures["viewing_eps"] = await _viewing_alone(run, viewing)
    figures["es_alone_docs_per_s"] = await _logging_alone(run, 2 * len(backlog.records))
    return figures


async def _processing_alone(run: Run, backlog: Backlog) -> float:
    topics = run.topics(SOLO)
    say(f"processing alone: {len(backlog.records)} events")
    window = await _drain_with_processing(run, SOLO, backlog, topics.name("response_events"))
    run.charge("processing_alone", *window, len(backlog.records))
    return drain.rate(len(backlog.records), window)


async def _viewing_alone(run: Run, viewing: Backlog) -> float:
    topics = run.topics(VIEWING)
    say(f"viewing alone: {len(viewing.records)} heartbeats")
    window = await _drain_with_processing(run, VIEWING, viewing, topics.name("response_events"))
    run.charge("viewing_alone", *window, len(viewing.records))
    return drain.rate(len(viewing.records), window)


async def _drain_with_processing(
    run: Run, suffix: str, backlog: Backlog, responses: str
) -> tuple[float, float]:
    partitions = get_settings().topic_partitions
    watcher = await progress.OutcomeWatcher(responses, partitions).start()
    worker = run.worker("processing", suffix)
    try:
        await run.start([("processing", worker)])
        return await drain.applied(backlog.correlation_ids, watcher, len(backlog.records))
    finally:
        await stop_all([worker])
        await watcher.stop()


async def _logging_alone(run: Run, expected: int) -> float:
    topics = run.topics(SOLO)
    say(f"logging alone: {expected} documents")
    documents = BenchDocuments([topics.name("user_events"), topics.name("response_events")])
    worker = run.worker("logging", SOLO)
    try:
        await run.start([("logging", worker)])
        window = await drain.indexed(documents, expected)
    finally:
        await stop_all([worker])
        await documents.close()
    run.charge("logging_alone", *window, expected)
    return drain.rate(expected, window)
