"""Agents: every topic -> Elasticsearch ``system_logs``, masked, each event exactly once.

One guarded agent per logged topic (:attr:`app.kafka.topics.Topics.logged`), all alike: a batch of events becomes
``system_logs`` documents (:mod:`app.eventlog.documents`: deterministic ids, personal
data masked) written to the log sink (:mod:`app.eventlog.sink`: ``_bulk`` requests,
or the fallback file while Elasticsearch is down). The guard (:mod:`app.guard.guarded`)
moves each agent's checkpoint only once its documents are durable, reads back
what the stream skipped, and waits with backoff while the disk or PostgreSQL
(where checkpoints live) is unavailable: the log falls behind rather than miss
an event. A timer brings the fallback file's backlog in once Elasticsearch is back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from faust.types import EventT

from app.application import platform
from app.eventlog.documents import document_of
from app.eventlog.fallback_file import FallbackFile
from app.eventlog.sink import STAGE, LogSink
from app.guard import guarded_agent
from app.maintenance import maintenance_timer

services = platform()

log = logging.getLogger(__name__)

sink = LogSink(
    services.search, FallbackFile(services.settings.es_fallback_path), services.topics.dead_letters
)
sink.setup()


async def log_events(batch: Sequence[EventT]) -> None:
    """Consumes one topic's events; produces their ``system_logs`` documents.

    Returns once the documents are indexed or in the fallback file.
    """
    await sink.write([document_of(event) for event in batch])


for _topic in services.topics.logged:
    if _topic is services.topics.dead_letters:
        continue  # declared below: its failures must not become dead letters
    guarded_agent(
        _topic,
        log_events,
        stage=STAGE,
        batch_size=services.settings.log_batch_size,
        batch_wait_s=services.settings.log_batch_wait_s,
        name=f"log_{_topic.get_topic_name()}",
    )
# A dead letter about a dead letter could loop forever.
guarded_agent(
    services.topics.dead_letters,
    log_events,
    stage=STAGE,
    batch_size=services.settings.log_batch_size,
    batch_wait_s=services.settings.log_batch_wait_s,
    dead_letter_failures=False,
    name=f"log_{services.topics.dead_letters.get_topic_name()}",
)


@maintenance_timer(services.app, 2.0, "replaying the fallback file into Elasticsearch")
async def replay_fallback_file() -> None:
    """Brings the fallback file's backlog into Elasticsearch once it answers again."""
    if not sink.has_backlog or not services.search.is_ready or not await services.search.ping():
        return
    replayed = await sink.flush()  # interrupted: the file stays for the next run
    if replayed:
        log.info("replayed %d documents from %s into Elasticsearch", replayed, sink.fallback.path)
