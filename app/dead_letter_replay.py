"""Dead letters read back, chosen, and re-sent to their source topic, each once.

What ``faust -A app dead-letters`` (:mod:`app.dead_letter_cli`) does, without
the command line:

* **read**: every record of the dead-letter topic (Kafka is the record of
  them; Elasticsearch holds a masked copy), each with its replay, if any, from
  the ledger ``dead_letter_replays`` (migration 0009);
* **choose**: by a part of the reason and by age;
* **re-send**: the refused event, byte for byte, with ``replays`` raised by
  one, keyed as it was (so to its partition), under a claim in the ledger that
  commits only once Kafka has the event: a dead letter is replayed once,
  however often the command runs.

What makes a replayed event take effect once is the agents' own dedup, by
event id: ``processed_events`` for user events and heartbeats, the session
rules (a command seen before answers its first outcome), recomputation for
recommendations, deterministic ids in Elasticsearch. An event refused again
comes back to the dead letters with its count raised (:mod:`app.guard.dead_letters`),
and its outcome supersedes the status the earlier attempt gave
(:meth:`app.requests.outcomes.StatusRecord.may_replace`).

Some dead letters cannot be re-sent, and are said so, never sent half: one
whose payload was cut (:data:`app.guard.dead_letters.MAX_PAYLOAD_CHARS`) and whose
original record Kafka no longer holds; one that is not a JSON object (no
reader of any version accepts it); one from a topic this app does not own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import orjson
from aiokafka import AIOKafkaProducer
from pydantic import ValidationError

from app.guard import DeadLetter
from app.kafka.readers import LogReader, Record
from app.storage.database import Database
from app.storage.dead_letter_replays import DeadLetterKey, DeadLetterReplay

_AGE = re.compile(r"^(\d+)([smhd])$")
_AGE_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True, slots=True)
class StoredLetter:
    """A dead letter as its topic holds it, and its replay if it had one."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    letter: DeadLetter
    replay: DeadLetterReplay | None = None

    @property
    def ledger_key(self) -> DeadLetterKey:
        """How the replay ledger names this dead letter."""
        return DeadLetterKey(self.topic, self.partition, self.offset, self.letter.timestamp)


@dataclass(frozen=True, slots=True)
class DeadLetterLog:
    """Every dead letter of the topic, oldest first, and the records that were not one."""

    letters: list[StoredLetter]
    unreadable: int


@dataclass(frozen=True, slots=True)
class Replayed:
    """What one replay did: re-sent to ``resent_to`` (topic, partition, offset), or why not."""

    letter: StoredLetter
    resent_to: tuple[str, int, int] | None = None
    skipped: str | None = None


def parse_since(text: str, now: datetime) -> datetime:
    """The moment ``--since`` names: an ISO 8601 instant, or an age (``90s``, ``30m``, ``2h``, ``7d``).

    Raises ``ValueError`` with what is accepted.
    """
    age = _AGE.match(text.strip())
    if age:
        return now - timedelta(**{_AGE_UNITS[age.group(2)]: int(age.group(1))})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r}: give an ISO 8601 instant or an age like 90s, 30m, 2h, 7d"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=now.tzinfo)


def chosen(
    letters: Sequence[StoredLetter], reason: str | None, since: datetime | None
) -> list[StoredLetter]:
    """The letters whose reason contains ``reason`` (any case) and written at or after ``since``."""
    part = reason.casefold() if reason else None
    return [
        stored
        for stored in letters
        if (part is None or part in stored.letter.reason.casefold())
        and (since is None or stored.letter.timestamp >= since)
    ]


def with_replays(raw: bytes, replays: int) -> bytes | None:
    """``raw`` with its ``replays`` count set, or None when it is not a JSON object."""
    try:
        fields = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(fields, dict):
        return None
    return orjson.dumps({**fields, "replays": replays})


async def read_dead_letters(
    reader: LogReader, database: Database, topic: str, partitions: int
) -> DeadLetterLog:
    """Every record of the dead-letter ``topic``, with the replays the ledger holds."""
    replays = await database.dead_letter_replays(topic)
    bounds = await reader.log_bounds(topic, list(range(partitions)))
    letters: list[StoredLetter] = []
    unreadable = 0
    for partition, offsets in sorted(bounds.items()):
        for record in (await reader.read_back(topic, partition, offsets)).records:
            stored = _stored(record)
            if stored is None:
                unreadable += 1
                continue
            letters.append(replace(stored, replay=replays.get(stored.ledger_key)))
    letters.sort(key=lambda s: (s.letter.timestamp, s.partition, s.offset))
    return DeadLetterLog(letters, unreadable)


def _stored(record: Record) -> StoredLetter | None:
    try:
        letter = DeadLetter.model_validate_json(record.value)
    except ValidationError:
        return None
    return StoredLetter(record.topic, record.partition, record.offset, record.key, letter)


class Replayer:
    """Re-sends dead letters to the topics of this app, each once (see the module's docstring)."""

    def __init__(
        self,
        database: Database,
        reader: LogReader,
        producer: AIOKafkaProducer,
        own_topics: frozenset[str],
    ) -> None:
        self.database = database
        self.reader = reader
        self.producer = producer
        self.own_topics = own_topics

    async def replay(self, stored: StoredLetter) -> Replayed:
        """Re-send ``stored``'s event once; or say why it was not."""
        letter = stored.letter
        if stored.replay is not None:
            return Replayed(stored, skipped=f"replayed before: {describe_replay(stored.replay)}")
        if letter.topic not in self.own_topics:
            return Replayed(stored, skipped=f"{letter.topic} is not a topic of this app")
        raw = await self._refused_event(letter)
        if raw is None:
            return Replayed(
                stored,
                skipped=f"payload cut at {len(letter.payload)} of {letter.payload_bytes} bytes, "
                "and Kafka no longer holds the original record",
            )
        count = letter.replays + 1
        value = with_replays(raw, count)
        if value is None:
            return Replayed(
                stored, skipped="not a JSON object: no reader of any version accepts it"
            )
        sent = await self.database.replay_once(
            stored.ledger_key, count, letter.topic, lambda: self._send(letter.topic, stored, value)
        )
        if sent is None:
            return Replayed(stored, skipped="replayed meanwhile by another run")
        return Replayed(stored, resent_to=(letter.topic, *sent))

    async def _send(self, topic: str, stored: StoredLetter, value: bytes) -> tuple[int, int]:
        metadata = await self.producer.send_and_wait(topic, value, key=stored.key)
        return int(metadata.partition), int(metadata.offset)

    async def _refused_event(self, letter: DeadLetter) -> bytes | None:
        """The event as it was refused: the dead letter's copy when whole, else Kafka's record."""
        if letter.payload_is_whole:
            return letter.payload.encode()
        bounds = await self.reader.log_bounds(letter.topic, [letter.partition])
        if letter.offset not in bounds.get(letter.partition, range(0)):
            return None
        wanted = range(letter.offset, letter.offset + 1)
        records = (await self.reader.read_back(letter.topic, letter.partition, wanted)).records
        if not records or not letter.refuses(records[0].value):
            return None
        return records[0].value


def describe_replay(replay: DeadLetterReplay) -> str:
    """When a dead letter was replayed, with which count, and where its event went."""
    place = replay.resent_topic
    if replay.resent_partition is not None:
        place = f"{place}:{replay.resent_partition}:{replay.resent_offset}"
    moment = replay.replayed_at.isoformat(timespec="seconds")
    return f"#{replay.replays} at {moment} to {place}"
