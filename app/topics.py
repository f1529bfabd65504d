"""Every Kafka topic of the system, declared once.

Values travel as raw bytes: the agents decode them themselves, so an event that
is not even JSON becomes a dead letter with its reason instead of a crash.
Every topic is ``internal`` (owned by this app): Faust creates it with the
partition count below before subscribing, instead of the broker auto-creating
it later with its own default. ``user_events`` is keyed by user id (one user's events stay in order on one
partition); ``response_events`` by correlation id, the key of the status table.
"""

from __future__ import annotations

from app.application import app, settings

USER_EVENTS = "user_events"
RESPONSE_EVENTS = "response_events"
DEAD_LETTERS = "dead_letters"

user_events = app.topic(
    USER_EVENTS,
    key_type=bytes,
    value_type=bytes,
    key_serializer="raw",
    value_serializer="raw",
    internal=True,
    partitions=settings.topic_partitions,
)
response_events = app.topic(
    RESPONSE_EVENTS,
    key_type=bytes,
    value_type=bytes,
    key_serializer="raw",
    value_serializer="raw",
    internal=True,
    partitions=settings.topic_partitions,
)
#: Events that can never be processed, with the reason; kept for inspection.
dead_letters = app.topic(
    DEAD_LETTERS,
    key_type=bytes,
    value_type=bytes,
    key_serializer="raw",
    value_serializer="raw",
    internal=True,
    partitions=1,
)

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
