"""Every Kafka topic of the system, declared once, on the platform's app (:class:`Topics`).

Values travel as raw bytes: the agents decode them themselves, so an event that
is not even JSON becomes a dead letter with its reason instead of a crash.
Every topic is ``internal`` (owned by this app): the worker creates it with
the partition count :class:`Topics` gives it before its consumer starts (:class:`TopicDeclaration`),
instead of the broker auto-creating it later with its own default.
``user_events`` is keyed by user id (one user's events stay in order on one
partition); ``response_events`` by correlation id, the key of the status table.

The viewing side has topics of its own: ``viewing_events`` (every heartbeat of
a player, the platform's largest stream, keyed by user id), ``session_events``
(sessions opened, kept alive and ended, keyed by user id),
``recommendation_requests`` (a user's recommendations to recompute, keyed by
user id), ``title_activity`` (who watched which title when, keyed by title id:
trending is counted per title) and ``trending_tops`` (each partition owner's
current top lists, compacted, read by every worker).

``TOPIC_PREFIX`` (empty by default, so the contract's names) lets a benchmark
or a fault-injection run work on topics of its own beside a live system.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka.errors import KafkaError
from faust.types import AppT, TopicT
from mode import Service

from app.kafka.readers import unlisted_topics
from app.retry import retrying
from app.settings import Settings

log = logging.getLogger(__name__)


def user_key(user_id: int) -> bytes:
    """The key of a user's events on every topic keyed by user id (and of tables fed by them)."""
    return str(user_id).encode()


class Topics:
    """Every topic of the platform: one declaration each, in the order below.

    A topic's name is the contract's, after ``TOPIC_PREFIX``. ``all`` lists
    every topic, ``logged`` those whose every event the event log keeps.
    """

    def __init__(self, app: AppT, settings: Settings) -> None:
        self._app = app
        self._settings = settings
        self.all: list[TopicT] = []
        self.logged: list[TopicT] = []
        self.user_events = self._declare("user_events", logged=True)
        self.response_events = self._declare("response_events", logged=True)
        #: Events that can never be processed, with the reason; kept for inspection.
        self.dead_letters = self._declare("dead_letters", partitions=1, logged=True)
        self.viewing_events = self._declare("viewing_events", logged=True)
        self.session_events = self._declare("session_events", logged=True)
        self.recommendation_requests = self._declare("recommendation_requests", logged=True)
        self.title_activity = self._declare("title_activity")
        #: Only the latest list of each key matters: compaction keeps the topic small.
        self.trending_tops = self._declare("trending_tops", partitions=1, compacting=True)

    def _declare(
        self,
        name: str,
        partitions: int | None = None,
        compacting: bool = False,
        logged: bool = False,
    ) -> TopicT:
        """A topic of raw byte keys and values, created by this app if missing.

        ``partitions`` defaults to ``TOPIC_PARTITIONS``. Created with
        ``TOPIC_REPLICATION_FACTOR`` copies (Faust's ``topic_replication_factor``)
        and ``min.insync.replicas`` from the settings. An event topic keeps its
        events ``EVENT_RETENTION_HOURS`` in segments of ``EVENT_SEGMENT_HOURS``:
        the ledger's retention is derived from both.
        """
        settings = self._settings
        config = dict(settings.topic_config)
        retention = None
        if not compacting:
            retention = settings.event_retention_hours * 3600
            config["segment.ms"] = str(int(settings.event_segment_hours * 3_600_000))
        topic = self._app.topic(
            f"{settings.topic_prefix}{name}",
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            internal=True,
            partitions=partitions or settings.topic_partitions,
            compacting=compacting,
            retention=retention,
            config=config,
        )
        self.all.append(topic)
        if logged:
            self.logged.append(topic)
        return topic


#: Set once every topic of the process's app exists (:class:`TopicDeclaration`).
#: Nothing is produced before (:func:`app.kafka.publishing.publish_all`): producing to a
#: topic still being created was seen to leave aiokafka's producer asking for
#: metadata forever, and one not created yet is created by the broker its own way.
topics_declared = asyncio.Event()


class TopicDeclaration(Service):
    """Creates every missing topic with its partition count before the worker joins its group.

    Faust declares only the topics an agent consumes, and only just before
    subscribing: the consumer's metadata may not know them yet when the group
    leader assigns partitions, and the leader then leaves them out. With static
    membership (``WORKER_INSTANCE_ID``) a restarted worker is handed that same
    assignment back without a rebalance, and those topics stay unread for good
    (make test, chaos scenario 1: a first worker killed seconds after its start
    left ``session_events`` to nobody). A dependency of the app, this starts
    before Faust's producer, web server and consumer, and holds their start
    until every topic exists (waiting out a Kafka that is not up yet); nothing
    is produced to an undeclared topic either, which a broker would create
    with its own defaults.
    """

    def __init__(self, app: AppT, topics: Topics, bootstrap_servers: str, **kwargs: Any) -> None:
        self._app = app
        self._topics = topics
        self._bootstrap_servers = bootstrap_servers
        super().__init__(**kwargs)

    async def on_start(self) -> None:
        """Declare each topic the worker reads or writes, then wait until Kafka lists them all.

        Retries while Kafka refuses. The tables' changelog topics are declared
        here too: created by the tables just before the consumer subscribed,
        one was not listed yet when the leader assigned partitions, so the
        table had no partition of it and refused every write (make test,
        chaos scenario 6: ``PartitionsMismatch``, every viewing dead-lettered).
        """
        tables = self._app.tables.values()
        topics = [*self._topics.all, *(table.changelog_topic for table in tables)]
        for topic in topics:
            await retrying(
                topic.maybe_declare,
                on=(KafkaError, OSError),
                what=f"declaring {topic.get_topic_name()}",
            )
        names = [topic.get_topic_name() for topic in topics]
        await retrying(
            lambda: _listed(self._bootstrap_servers, names),
            on=(KafkaError, OSError, TopicsNotListedYet),
            what="waiting for Kafka to list every topic",
        )
        log.info("Kafka lists every topic of this worker: %s", ", ".join(names))
        topics_declared.set()


class TopicsNotListedYet(Exception):
    """Kafka's metadata does not list some topics just created."""


async def _listed(bootstrap_servers: str, names: list[str]) -> None:
    """Return once Kafka's metadata lists every topic of ``names``."""
    missing = await unlisted_topics(bootstrap_servers, names)
    if missing:
        raise TopicsNotListedYet(", ".join(missing))
