"""Kafka as an operator sees it: topics and offsets, consumer groups and their lag, messages.

The dashboard's Kafka view (``web/kafka_view.py``) reads the cluster through
this service, the job Kafka UI does where it runs. It only reads: it creates,
alters and deletes nothing, never joins a consumer group (committed offsets
come from the admin API, messages from a consumer without a group) and
commits nothing.

Every reading is bounded by ``timeout_s``: Kafka down, hung or slow raises
:class:`KafkaUnavailable` within that time, never a request left waiting. The
admin client is made on first use and anew after a failure; offsets and
messages are read by a consumer made for each reading. Nothing names a topic
to the broker that it did not just list: a metadata request naming a missing
topic makes a broker with ``auto.create.topics.enable`` (the default) create it.

What it answers, and how it is shaped from what Kafka says, is
:mod:`app.kafka.cluster_view` (messages leave masked there).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from mode import Service

from app.kafka.cluster_view import (
    MAX_MESSAGES,
    GroupLag,
    GroupSummary,
    TopicMessage,
    TopicSummary,
    group_lag,
    group_summary,
    masked_message,
    newest,
    topic_summary,
)
from app.kafka.readers import stop_consumer

T = TypeVar("T")

#: Most consumer groups described in one reading (each costs a coordinator lookup).
MAX_GROUPS = 200

#: How long one fetch of the message reader waits before checking where it stands.
_FETCH_WAIT_MS = 100


class KafkaUnavailable(Exception):
    """Kafka did not answer in time, or refused: try again later."""


class KafkaAdmin(Service):
    """Reads topics, offsets, groups and messages from Kafka, each reading time-bounded."""

    def __init__(self, bootstrap_servers: str, timeout_s: float, **kwargs: Any) -> None:
        self._bootstrap = bootstrap_servers
        self._timeout_s = timeout_s
        self._admin: AIOKafkaAdminClient | None = None
        self._lock = asyncio.Lock()
        super().__init__(**kwargs)

    async def on_stop(self) -> None:
        """Close the admin client."""
        await self._reset()

    # ---------- the readings ----------

    async def topics(self) -> list[TopicSummary]:
        """Every topic with its partitions' leaders and offsets, by name."""
        return await self._bounded(self._read_topics)

    async def groups(self, first: Callable[[str], bool]) -> list[GroupSummary]:
        """The cluster's consumer groups, those ``first`` picks before the rest, by id.

        At most :data:`MAX_GROUPS`: on a busy cluster the ones left out are
        others', never those ``first`` picks (up to that many).
        """
        return await self._bounded(lambda: self._read_groups(first))

    async def group_lag(self, group_id: str) -> GroupLag | None:
        """A group's lag per partition it committed on; ``None`` for an unknown group."""
        return await self._bounded(lambda: self._read_group_lag(group_id))

    async def latest_messages(self, topic: str, limit: int) -> list[TopicMessage] | None:
        """The newest ``limit`` messages of ``topic``, newest first; ``None`` if no such topic."""
        return await self._bounded(lambda: self._read_latest(topic, min(limit, MAX_MESSAGES)))

    # ---------- how each is read ----------

    async def _read_topics(self) -> list[TopicSummary]:
        described = await self._described_topics(None)
        tps = [tp for topic in described for tp in _partitions_of(topic)]
        async with self._reader() as reader:
            beginnings, ends = await _bounds(reader, tps)
        return [topic_summary(topic, beginnings, ends) for topic in described]

    async def _read_groups(self, first: Callable[[str], bool]) -> list[GroupSummary]:
        admin = await self._admin_client()
        listed = [group[0] for group in await admin.list_consumer_groups()]
        ids = sorted(listed, key=lambda group_id: (not first(group_id), group_id))[:MAX_GROUPS]
        if not ids:
            return []
        groups = await asyncio.gather(*(_describe_group(admin, group_id) for group_id in ids))
        return [group_summary(group) for group in groups]

    async def _read_group_lag(self, group_id: str) -> GroupLag | None:
        admin = await self._admin_client()
        group = await _describe_group(admin, group_id)
        committed = await admin.list_consumer_group_offsets(group_id)
        if group["state"] == "Dead" and not committed:
            return None
        # Offsets of a topic deleted since are left out: asking its end would wait for nothing.
        existing = {t["topic"] for t in await self._described_topics(_topic_names(committed))}
        tps = sorted(tp for tp in committed if tp.topic in existing)
        async with self._reader() as reader:
            _, ends = await _bounds(reader, tps)
        offsets = {tp: committed[tp].offset for tp in tps}
        return group_lag(group_summary(group), offsets, ends)

    async def _read_latest(self, topic: str, limit: int) -> list[TopicMessage] | None:
        described = await self._described_topics([topic])
        if not described:
            return None
        tps = _partitions_of(described[0])
        async with self._reader() as reader:
            beginnings, ends = await _bounds(reader, tps)
            starts = {tp: max(beginnings[tp], ends[tp] - limit) for tp in tps}
            records = await _read_ranges(reader, starts, ends)
        return [masked_message(record) for record in newest(records, limit)]

    # ---------- clients ----------

    async def _described_topics(self, names: list[str] | None) -> list[dict[str, Any]]:
        """Metadata of ``names`` (every topic when ``None``) that exist, sorted by name.

        Always asks for every topic, then picks: a metadata request naming a
        topic that does not exist makes a broker with ``auto.create.topics.enable``
        (the default) create it, and a look at a mistyped name must change nothing.
        """
        admin = await self._admin_client()
        described = await admin.describe_topics(None)
        wanted = set(names) if names is not None else None
        return sorted(
            (
                t
                for t in described
                if t["error_code"] == 0 and (wanted is None or t["topic"] in wanted)
            ),
            key=lambda t: t["topic"],
        )

    @contextlib.asynccontextmanager
    async def _reader(self) -> AsyncIterator[AIOKafkaConsumer]:
        """A consumer without a group for one reading, stopped after it.

        Never kept between readings: the topics it was asked about would stay in
        its metadata, refreshed in the background, and a metadata request naming
        a topic deleted since makes the broker create it again.
        """
        reader = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False)
        try:
            await reader.start()
            yield reader
        finally:
            await stop_consumer(reader)

    async def _bounded(self, reading: Callable[[], Awaitable[T]]) -> T:
        """``reading``'s result within ``timeout_s``; :class:`KafkaUnavailable` otherwise."""
        try:
            async with asyncio.timeout(self._timeout_s):
                return await reading()
        except (KafkaError, OSError) as exc:  # TimeoutError is an OSError
            # An admin client that timed out may be stuck on a dead connection: start afresh.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._timeout_s):
                    await self._reset()
            raise KafkaUnavailable(_describe(exc)) from exc

    async def _admin_client(self) -> AIOKafkaAdminClient:
        async with self._lock:
            if self._admin is None:
                admin = AIOKafkaAdminClient(
                    bootstrap_servers=self._bootstrap,
                    request_timeout_ms=int(self._timeout_s * 1000),
                )
                try:
                    await admin.start()
                except BaseException:
                    await admin.close()
                    raise
                self._admin = admin
            return self._admin

    async def _reset(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            await _close_admin(admin)


def _partitions_of(topic: Mapping[str, Any]) -> list[TopicPartition]:
    return [TopicPartition(topic["topic"], p["partition"]) for p in topic["partitions"]]


def _topic_names(tps: Iterable[TopicPartition]) -> list[str]:
    return sorted({tp.topic for tp in tps})


async def _describe_group(admin: AIOKafkaAdminClient, group_id: str) -> dict[str, Any]:
    """One group's description, alone in its request.

    aiokafka 0.14 cannot decode Kafka 4.4's answer describing two groups or
    more ("Buffer underrun decoding string", the connection is then closed).
    """
    (response,) = await admin.describe_consumer_groups([group_id])
    group: dict[str, Any] = response.to_object()["groups"][0]
    return group


async def _bounds(
    reader: AIOKafkaConsumer, tps: list[TopicPartition]
) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
    """The first and end offsets of ``tps``."""
    if not tps:
        return {}, {}
    _track_topics(reader, _topic_names(tps))
    return await reader.beginning_offsets(tps), await reader.end_offsets(tps)


async def _read_ranges(
    reader: AIOKafkaConsumer,
    starts: Mapping[TopicPartition, int],
    ends: Mapping[TopicPartition, int],
) -> list[ConsumerRecord]:
    """The records between ``starts`` and ``ends`` of each partition."""
    wanted = [tp for tp in starts if starts[tp] < ends[tp]]
    if not wanted:
        return []
    reader.assign(wanted)
    for tp in wanted:
        reader.seek(tp, starts[tp])
    return await _drain(reader, {tp: ends[tp] for tp in wanted})


def _track_topics(consumer: AIOKafkaConsumer, names: list[str]) -> None:
    """Have ``consumer`` fetch the metadata of all ``names`` in one request.

    Asked for offsets of partitions it has no metadata for, aiokafka adds their
    topics one at a time, each after a retry backoff: seconds for a few dozen
    topics. Its client's topic set is not public; setting it is the one way to
    ask for them together (and to forget deleted ones).
    """
    consumer._client.set_topics(names)


async def _drain(reader: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> list[ConsumerRecord]:
    """Fetch until every partition's position reached its end (the caller bounds the time)."""
    records: list[ConsumerRecord] = []
    pending = set(ends)
    while pending:
        fetched = await reader.getmany(*pending, timeout_ms=_FETCH_WAIT_MS)
        for tp, batch in fetched.items():
            records += [record for record in batch if record.offset < ends[tp]]
        pending = {tp for tp in pending if await reader.position(tp) < ends[tp]}
    return records


async def _close_admin(admin: AIOKafkaAdminClient) -> None:
    with contextlib.suppress(KafkaError, OSError):  # being thrown away
        await admin.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "Kafka did not answer in time"
    return f"{type(exc).__name__}: {exc}"
