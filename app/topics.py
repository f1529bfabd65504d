"""Every Kafka topic of the system, declared once.

Values travel as raw bytes: the agents decode them themselves, so an event that
is not even JSON becomes a dead letter with its reason instead of a crash.
Every topic is ``internal`` (owned by this app): Faust creates it with the
partition count below before subscribing, instead of the broker auto-creating
it later with its own default. ``user_events`` is keyed by user id (one user's
events stay in order on one partition); ``response_events`` by correlation id,
the key of the status table.

``TOPIC_PREFIX`` (empty by default, so the contract's names) lets a benchmark
or a fault-injection run work on topics of its own beside a live system.
"""

from __future__ import annotations

from faust.types import TopicT

from app.application import app, settings

USER_EVENTS = f"{settings.topic_prefix}user_events"
RESPONSE_EVENTS = f"{settings.topic_prefix}response_events"
DEAD_LETTERS = f"{settings.topic_prefix}dead_letters"


def _raw_topic(name: str, partitions: int) -> TopicT:
    """A topic of raw byte keys and values, created by this app if missing."""
    return app.topic(
        name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        internal=True,
        partitions=partitions,
    )


user_events = _raw_topic(USER_EVENTS, settings.topic_partitions)
response_events = _raw_topic(RESPONSE_EVENTS, settings.topic_partitions)
#: Events that can never be processed, with the reason; kept for inspection.
dead_letters = _raw_topic(DEAD_LETTERS, 1)

ALL_TOPICS = (user_events, response_events, dead_letters)


@app.task
async def declare_topics() -> None:
    """Create any missing topic with its partition count when the worker starts.

    Faust declares only topics that an agent consumes; this also covers the
    ones the app only produces to (dead letters), so the broker never
    auto-creates them with its own defaults.
    """
    for topic in ALL_TOPICS:
        await topic.maybe_declare()
