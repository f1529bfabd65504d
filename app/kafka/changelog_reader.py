"""Reading changelog partitions raw and fast: the bulk copy's side of Kafka.

A consumer builds a Python record object for every entry (topic, partition,
offset, timestamp, headers, sizes...), which was 55 % of a bulk copy's time.
A table's copy needs only each entry's key and value, so this reader sends
the fetch requests itself, one per partition leader, and takes keys and
values straight from the record batches. It reads one partition span at a
time to its end and no further; any error on a partition (a moved leader, a
bad checksum, an offset out of range) ends that partition's read, leaving the
rest to Faust's own recovery.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field
from typing import Self

from aiokafka import TopicPartition
from aiokafka.client import AIOKafkaClient
from aiokafka.protocol.fetch import FetchRequest
from aiokafka.record.memory_records import MemoryRecords

from app.settings import get_settings

#: Bytes one fetch returns per partition, and in all: large, so a million entries take few round trips.
PARTITION_FETCH_BYTES = 16 * 1024**2
FETCH_BYTES = 64 * 1024**2
#: How long the broker may hold a fetch for its bytes (the data is there: rarely waits).
FETCH_WAIT_MS = 100
READ_UNCOMMITTED = 0

Entry = tuple[bytes, bytes | None]


@dataclass
class Decoded:
    """What one fetched message set holds of a span: its entries, and where reading goes on."""

    entries: list[Entry] = field(default_factory=list)
    #: The next offset to fetch: past every batch read (compaction leaves gaps in offsets).
    position: int = 0
    #: Whether a batch failed its checksum: the partition's read stops before it.
    corrupt: bool = False


def decode_message_set(message_set: bytes, position: int, last: int) -> Decoded:
    """The entries of ``message_set`` at offsets ``position`` to ``last`` (a ``None`` value: a tombstone)."""
    decoded = Decoded(position=position)
    records = MemoryRecords(message_set)
    while records.has_next() and decoded.position <= last:
        batch = records.next_batch()
        if batch is None:
            break
        if not batch.validate_crc():
            decoded.corrupt = True
            break
        if not batch.is_control_batch:
            decoded.entries.extend(
                (record.key, record.value)
                for record in batch
                if decoded.position <= record.offset <= last
            )
        decoded.position = max(decoded.position, batch.next_offset)
    return decoded


@dataclass(frozen=True)
class Fetched:
    """One partition's share of a fetch: its entries and the offsets they cover, to ``through``."""

    tp: TopicPartition
    entries: list[Entry]
    through: int


class ChangelogReader:
    """Reads each partition from its first offset to its last, as raw entries."""

    def __init__(self, spans: Mapping[TopicPartition, tuple[int, int]]) -> None:
        self._positions = {tp: first for tp, (first, _) in spans.items()}
        self._last = {tp: last for tp, (_, last) in spans.items()}
        self._client = AIOKafkaClient(
            bootstrap_servers=get_settings().kafka_bootstrap_servers, client_id="table-restore"
        )

    async def __aenter__(self) -> Self:
        await self._client.bootstrap()
        await self._client.set_topics(sorted({tp.topic for tp in self._positions}))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._client.close()

    async def fetches(self) -> AsyncGenerator[list[Fetched], None]:
        """One round of fetches after another, until every partition is read, has failed, or
        a whole round brought nothing."""
        while self._positions:
            requests = self._requests()
            if not requests:
                return
            responses = await asyncio.gather(
                *(self._client.send(node, request) for node, request in requests.items())
            )
            fetched = [found for response in responses for found in self._decode(response)]
            if not fetched and self._positions:
                return  # a round without progress on any partition: Faust's replay takes over
            yield fetched

    def _requests(self) -> dict[int, FetchRequest]:
        """A fetch per leader of the partitions still being read; a leaderless one is given up."""
        by_leader: dict[int, dict[str, list[tuple[int, int, int]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for tp, position in list(self._positions.items()):
            leader = self._client.cluster.leader_for_partition(tp)
            if leader is None or leader < 0:
                del self._positions[tp]
                continue
            by_leader[leader][tp.topic].append((tp.partition, position, PARTITION_FETCH_BYTES))
        return {
            leader: FetchRequest(
                FETCH_WAIT_MS, 1, FETCH_BYTES, READ_UNCOMMITTED, list(topics.items())
            )
            for leader, topics in by_leader.items()
        }

    def _decode(self, response: object) -> list[Fetched]:
        found = []
        for topic, partitions in response.topics:  # type: ignore[attr-defined]
            for partition, error_code, _highwater, *rest in partitions:
                tp = TopicPartition(topic, partition)
                position = self._positions.get(tp)
                if position is None:
                    continue
                decoded = decode_message_set(rest[-1], position, self._last[tp])
                if error_code or decoded.corrupt or decoded.position > self._last[tp]:
                    del self._positions[tp]  # done, or left to Faust's replay from here
                else:  # nothing this time is no failure: the fetch's byte limit went to others
                    self._positions[tp] = decoded.position
                if decoded.position > position:
                    through = min(decoded.position - 1, self._last[tp])
                    found.append(Fetched(tp, decoded.entries, through))
        return found
