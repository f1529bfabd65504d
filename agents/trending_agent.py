"""Agent: ``title_activity`` -> who watched each title when -> trending top lists.

Each batch moves viewers' last-seen times in the trending table
(:mod:`tables.trending_table`, a maximum per viewer: a replayed update changes
nothing) and the in-memory counts derived from it (:class:`app.viewing.trending.PartitionIndex`,
rebuilt from the table whenever this worker's partitions change). A timer
publishes each owned partition's top lists, per window and per ``tipo`` and
``categoria``, to ``trending_tops`` whenever they change; every worker's
board (:mod:`app.kafka.trending_board`) reads them. An activity with
``esquecer`` (a person's erasure, sent by the accounts agent) forgets the viewer.
Another timer forgets, in shards no viewer has moved lately, the viewers
outside every window.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from faust.types import EventT

from app.application import platform
from app.clock import iso_now
from app.guard import KEEP, Message, TableSweep, acting_on, guarded_agent, publish_all
from app.kafka.publishing import partition_of
from app.maintenance import maintenance_timer
from app.requests.envelope import SCHEMA_VERSION
from app.viewing.titles import TitleInfo
from app.viewing.trending import Move, PartitionIndex, ViewerShard, forget_idle, shard_key
from tables.trending_table import trending_viewers

services = platform()

log = logging.getLogger(__name__)
STAGE = "trending"
WINDOWS = services.settings.trending_windows
#: A viewer is forgotten once outside the longest window.
HORIZON_S = max(window.size_s for window in WINDOWS)


@dataclass(frozen=True, slots=True)
class Activity:
    """One ``title_activity`` value: a viewer of a title, last seen at ``seen_at``."""

    info: TitleInfo
    user_id: int
    seen_at: int
    #: The viewer was erased: forget them on this title (``esquecer``).
    forget: bool = False


class Indexes:
    """This worker's counts, one :class:`PartitionIndex` per owned partition."""

    def __init__(self) -> None:
        self.by_partition: dict[int, PartitionIndex] = {}
        #: The partitions the last rebuild read from the table: until a partition is
        #: rebuilt, its index holds only the moves since, not the table's history.
        self.built: set[int] = set()
        self.published: dict[str, bytes] = {}

    def of(self, partition: int) -> PartitionIndex:
        """The index of ``partition`` (empty until rebuilt or moved into)."""
        if partition not in self.by_partition:
            self.by_partition[partition] = PartitionIndex(WINDOWS)
        return self.by_partition[partition]

    def rebuild(self, partitions: set[int], now: float) -> None:
        """Counts of ``partitions`` recomputed from the table (it holds only owned ones)."""
        self.by_partition = {p: PartitionIndex(WINDOWS) for p in partitions}
        self.built = set(partitions)
        for value in trending_viewers.values():
            shard = ViewerShard.from_json(value)
            partition = title_partition(shard.info.conteudo_id)
            index = self.by_partition.get(partition)
            if index is None:
                continue
            index.learn(shard.info)
            for user, seen in shard.last_seen.items():
                index.move(Move(shard.info.conteudo_id, user, None, seen), now)


indexes = Indexes()


async def count_viewers(batch: Sequence[EventT]) -> None:
    """Consumes title activity; produces the trending table's changelog and moved counts."""
    now = time.time()
    for key, (event, activities) in _by_shard(batch).items():
        with acting_on(event):  # the shard lives in the title's partition
            moves = _see(key, activities, int(now) - HORIZON_S)
        index = indexes.of(event.message.partition)
        index.learn(activities[0].info)
        for move in moves:
            index.move(move, now)


guard = guarded_agent(
    services.topics.title_activity, count_viewers, stage=STAGE, writes=trending_viewers
)


@services.app.timer(interval=0.5)
async def publish_trending() -> None:
    """Publishes each owned partition's top lists when they changed (the board reads them)."""
    if services.app.rebalancing or services.app.in_recovery:
        return
    owned, now = guard.partitions(), time.time()
    if owned != indexes.built:
        indexes.rebuild(owned, now)
    messages = [m for p in sorted(owned) for m in _changed_tops(p, now)]
    await publish_all(services.topics.trending_tops, messages)


idle_sweep = TableSweep(
    services.guard.ownership, trending_viewers, services.topics.title_activity.get_topic_name()
)


@maintenance_timer(services.app, services.settings.retention_interval_s, "forgetting idle viewers")
async def forget_idle_viewers() -> None:
    """Forgets the viewers outside every window in the owned shards nobody updated since.

    The agent forgets them only in a shard it updates; without this, a title
    nobody watches any more would keep its last day of viewers for ever.
    Through the table (a changelog entry each; an empty shard's tombstone).
    """
    horizon = int(time.time()) - HORIZON_S
    renewed = await idle_sweep.renew(lambda stored: _without_idle(stored, horizon))
    if renewed:
        log.info("forgot idle viewers in %d trending shards", renewed)


def _without_idle(stored: bytes, horizon: int) -> Any:
    shard = forget_idle(orjson.loads(stored), horizon)
    if shard is None:
        return KEEP
    return shard.as_json() if shard.last_seen else None


def title_partition(conteudo_id: int) -> int:
    """The partition of ``title_activity`` (and of the table) a title's activity goes to."""
    return partition_of(str(conteudo_id).encode(), services.settings.topic_partitions)


def _see(key: str, activities: list[Activity], horizon: int) -> list[Move]:
    stored = trending_viewers.get(key)
    shard = ViewerShard.from_json(stored) if stored else ViewerShard(activities[0].info)
    moves = [m for a in activities if (m := _move(shard, a)) is not None]
    moves += shard.forget_before(horizon)
    # Written even when nothing moved (a redelivery: the viewing agent sends only
    # news): Faust writes this worker's RocksDB before Kafka acknowledges the
    # changelog entry, so a crash in between leaves the store ahead of the
    # changelog; writing the shard again puts it there, for the standby and the
    # partition's next owner. A shard left empty gets its tombstone, also when
    # this copy already lost it.
    if shard.last_seen:
        trending_viewers[key] = shard.as_json()
    else:
        del trending_viewers[key]
    return moves


def _move(shard: ViewerShard, activity: Activity) -> Move | None:
    if activity.forget:
        return shard.forget(activity.user_id)
    return shard.see(activity.user_id, activity.seen_at)


def _by_shard(batch: Sequence[EventT]) -> dict[str, tuple[EventT, list[Activity]]]:
    """The batch's activities grouped by table key, each group with an event of its partition."""
    groups: dict[str, tuple[EventT, list[Activity]]] = {}
    for event in batch:
        activity = _activity(event.message.value)
        if activity is None:
            log.warning("skipping malformed title activity at offset %s", event.message.offset)
            continue
        key = shard_key(activity.info.conteudo_id, activity.user_id)
        groups.setdefault(key, (event, []))[1].append(activity)
    return groups


def _activity(value: Any) -> Activity | None:
    try:
        fields = orjson.loads(value)
        info = TitleInfo(
            int(fields["conteudo_id"]), fields["titulo"], fields["tipo"], fields["categoria"]
        )
        seen_at = int(datetime.fromisoformat(fields["visto_em"]).timestamp())
        return Activity(info, int(fields["user_id"]), seen_at, fields.get("esquecer") is True)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def _changed_tops(partition: int, now: float) -> list[Message]:
    index = indexes.of(partition)
    index.expire(now)
    messages: list[Message] = []
    for window in WINDOWS:
        tops = index.tops(window.name, services.settings.trending_top)
        key = f"{window.name}|{partition}"
        encoded = orjson.dumps(tops)
        if indexes.published.get(key) == encoded:
            continue
        indexes.published[key] = encoded
        titles = _listed_titles(index, tops)
        value = {
            "schema_version": SCHEMA_VERSION,
            **tops,
            "titulos": titles,
            "janela": window.name,
            "particao": partition,
            "em": iso_now(),
        }
        messages.append((key.encode(), orjson.dumps(value)))
    return messages


def _listed_titles(index: PartitionIndex, tops: dict[str, Any]) -> dict[str, dict[str, Any]]:
    listed = {entry[0] for entry in tops["geral"]}
    for breakdown in ("tipo", "categoria"):
        listed |= {entry[0] for entries in tops[breakdown].values() for entry in entries}
    return {
        str(title): {
            "conteudo_id": title,
            "titulo": index.titles[title].titulo,
            "tipo": index.titles[title].tipo,
            "categoria": index.titles[title].categoria,
        }
        for title in listed
        if title in index.titles
    }
