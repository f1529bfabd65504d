"""What the dashboard's Kafka view shows of the cluster: topics, groups, lag, masked messages.

The answers of :class:`app.kafka.admin.KafkaAdmin` and the pure shaping that
makes them from what the admin API and a consumer read (unit-tested).
Messages leave masked by :mod:`app.masking`, under the same rules as the
documents in Elasticsearch: a value that is JSON is shown as JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from aiokafka import ConsumerRecord, TopicPartition
from pydantic import Field

from app.clock import iso_utc
from app.masking import mask, mask_text
from app.requests.fields import MAX_PAGE_SIZE, Query

#: Most messages one reading returns (newest first, over all partitions).
MAX_MESSAGES = 100
#: A value longer than this is shown as the start of its text, not parsed.
MAX_SHOWN_BYTES = 16 * 1024
#: How a message's value is shown.
ValueFormat = Literal["json", "text", "empty"]


@dataclass(frozen=True, slots=True)
class PartitionOffsets:
    """One partition of a topic: its leader and the offsets it holds."""

    partition: int
    leader: int
    beginning: int
    end: int
    messages: int


@dataclass(frozen=True, slots=True)
class TopicSummary:
    """A topic, its partitions and how many messages it holds now."""

    name: str
    internal: bool
    messages: int
    partitions: list[PartitionOffsets]


@dataclass(frozen=True, slots=True)
class GroupSummary:
    """A consumer group as the coordinator describes it."""

    group_id: str
    state: str
    protocol_type: str
    members: int


@dataclass(frozen=True, slots=True)
class PartitionLag:
    """How far a group is behind on one partition (``None`` where it never committed)."""

    topic: str
    partition: int
    committed: int | None
    end: int
    lag: int | None


@dataclass(frozen=True, slots=True)
class GroupLag:
    """A group's committed offsets and lag, per partition and in total."""

    group_id: str
    state: str
    members: int
    lag: int
    partitions: list[PartitionLag]


@dataclass(frozen=True, slots=True)
class TopicMessage:
    """One message, masked: ``value`` is JSON when the message is, text otherwise."""

    partition: int
    offset: int
    timestamp: str | None
    key: str | None
    size: int
    format: ValueFormat
    value: Any


# ---------- pure shaping (unit-tested) ----------


def group_lag(
    group: GroupSummary,
    committed: Mapping[TopicPartition, int],
    ends: Mapping[TopicPartition, int],
) -> GroupLag:
    """Lag per partition (end minus committed, never negative) and in total.

    A partition the group never committed on (offset -1) has no lag to tell:
    where the group would start there depends on its reset policy.
    """
    partitions = [_partition_lag(tp, committed[tp], ends[tp]) for tp in sorted(committed)]
    total = sum(p.lag for p in partitions if p.lag is not None)
    return GroupLag(group.group_id, group.state, group.members, total, partitions)


def _partition_lag(tp: TopicPartition, committed: int, end: int) -> PartitionLag:
    if committed < 0:
        return PartitionLag(tp.topic, tp.partition, None, end, None)
    return PartitionLag(tp.topic, tp.partition, committed, end, max(0, end - committed))


def masked_value(raw: bytes | None) -> tuple[ValueFormat, Any]:
    """A message value as shown: masked JSON when it parses, else masked text."""
    if not raw:
        return "empty", None
    if len(raw) <= MAX_SHOWN_BYTES:
        try:
            return "json", mask(orjson.loads(raw))
        except orjson.JSONDecodeError:
            pass
    return "text", mask_text(raw[:MAX_SHOWN_BYTES].decode("utf-8", errors="replace"))


def masked_message(record: ConsumerRecord) -> TopicMessage:
    """The masked, JSON-ready form of one consumed record."""
    value = record.value if isinstance(record.value, bytes) else None
    key = record.key if isinstance(record.key, bytes) else None
    value_format, shown = masked_value(value)
    return TopicMessage(
        partition=record.partition,
        offset=record.offset,
        timestamp=_iso_millis(record.timestamp),
        key=mask_text(key.decode("utf-8", errors="replace")) if key is not None else None,
        size=len(value or b""),
        format=value_format,
        value=shown,
    )


def newest(records: Iterable[ConsumerRecord], limit: int) -> list[ConsumerRecord]:
    """The ``limit`` most recent records, newest first (by time, then offset)."""
    ordered = sorted(records, key=lambda r: (r.timestamp or 0, r.offset), reverse=True)
    return ordered[:limit]


def topic_summary(
    topic: Mapping[str, Any],
    beginnings: Mapping[TopicPartition, int],
    ends: Mapping[TopicPartition, int],
) -> TopicSummary:
    partitions = [
        _partition_offsets(part, beginnings, ends, topic["topic"])
        for part in sorted(topic["partitions"], key=lambda p: p["partition"])
    ]
    return TopicSummary(
        name=topic["topic"],
        internal=bool(topic.get("is_internal")),
        messages=sum(p.messages for p in partitions),
        partitions=partitions,
    )


def _partition_offsets(
    part: Mapping[str, Any],
    beginnings: Mapping[TopicPartition, int],
    ends: Mapping[TopicPartition, int],
    topic: str,
) -> PartitionOffsets:
    tp = TopicPartition(topic, part["partition"])
    beginning, end = beginnings.get(tp, 0), ends.get(tp, 0)
    return PartitionOffsets(tp.partition, part["leader"], beginning, end, max(0, end - beginning))


def group_summary(group: Mapping[str, Any]) -> GroupSummary:
    return GroupSummary(
        group_id=group["group"],
        state=group["state"],
        protocol_type=group["protocol_type"],
        members=len(group["members"]),
    )


def _iso_millis(timestamp_ms: int | None) -> str | None:
    if timestamp_ms is None or timestamp_ms < 0:
        return None
    return iso_utc(datetime.fromtimestamp(timestamp_ms / 1000, UTC))


class TopicMessagesQuery(Query):
    """``GET /api/kafka/topics/{topic}/messages``: how many of the newest messages."""

    limit: int = Field(20, ge=1, le=MAX_PAGE_SIZE)
