"""Trending as every worker reads it: the latest top lists each partition's owner published.

The owners of ``title_activity``'s partitions publish their titles' top lists
to ``trending_tops`` (compacted, keyed by window and partition). Every process
that answers trending reads that small topic from the start with a consumer of
its own (no group: each reader sees every list), keeps the latest list per key
and merges them on demand (titles of different partitions are disjoint, so the
merged top is exact).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from mode import Service

from app.kafka.readers import stop_consumer
from app.retry import retrying
from app.viewing.recommending import Ranked, TrendingSnapshot
from app.viewing.titles import TitleInfo
from app.viewing.trending import merge_tops

log = logging.getLogger(__name__)


class TrendingBoard(Service):
    """The latest top lists per (window, partition), read from ``trending_tops``."""

    def __init__(self, bootstrap_servers: str, topic: str, **kwargs: Any) -> None:
        self._bootstrap = bootstrap_servers
        self._topic = topic
        #: "window|partition" -> the list its owner published last.
        self.lists: dict[str, dict[str, Any]] = {}
        #: (window, top) -> the snapshot merged from ``lists`` as they were when it was made.
        #: Recommendation batches come many times a second and lists change every few
        #: seconds; merging per batch took about 15 % of the recommendations agent at
        #: 200 req/s. Emptied by :meth:`keep`.
        self._snapshots: dict[tuple[str, int], tuple[TrendingSnapshot, dict[int, TitleInfo]]] = {}
        super().__init__(**kwargs)

    def keep(self, key: str, published: dict[str, Any]) -> None:
        """Keep ``published`` as the latest list of ``key`` ("window|partition")."""
        self.lists[key] = published
        self._snapshots.clear()

    @Service.task
    async def _follow(self) -> None:
        while not self.should_stop:
            consumer = await retrying(
                self._connect, on=(KafkaError, OSError), what="trending board"
            )
            try:
                await self._read(consumer)
            except KafkaError as exc:
                log.warning("trending board lost Kafka (%r); reconnecting", exc)
            except Exception:  # the board must never take the worker down with it
                log.exception("trending board failed; reconnecting")
            finally:
                await stop_consumer(consumer)

    async def _connect(self) -> AIOKafkaConsumer:
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False)
        await consumer.start()
        if self._topic not in await consumer.topics():  # the first worker creates it
            await stop_consumer(consumer)
            raise KafkaError(f"{self._topic} not created yet")
        # Declared with one partition (app/kafka/topics.py); every partition is read in
        # case the broker created the topic with its own default count.
        partitions = consumer.partitions_for_topic(self._topic) or {0}
        tps = [TopicPartition(self._topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        return consumer

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        while not self.should_stop:
            fetched = await consumer.getmany(timeout_ms=500)
            for record in (r for records in fetched.values() for r in records):
                if record.key is not None and record.value is not None:
                    self.keep(record.key.decode(), orjson.loads(record.value))

    def top(
        self, window: str, limit: int, tipo: str | None = None, categoria: str | None = None
    ) -> list[dict[str, Any]]:
        """The ``limit`` titles with most viewers in ``window``, of a ``tipo``/``categoria``."""
        published = [v for k, v in self.lists.items() if k.split("|")[0] == window]
        ranked = merge_tops((_candidates(v, tipo, categoria) for v in published), limit)
        titles = {int(k): t for v in published for k, t in v["titulos"].items()}
        return [_item(rank, entry, titles) for rank, entry in enumerate(ranked, 1)]

    def snapshot(self, window: str, top: int) -> tuple[TrendingSnapshot, dict[int, TitleInfo]]:
        """Trending in ``window`` as recommendations read it, and what is known of its titles.

        The same objects until a list changes: callers must not modify them.
        """
        made = self._snapshots.get((window, top))
        if made is None:
            made = self._snapshots[window, top] = self._merged_snapshot(window, top)
        return made

    def _merged_snapshot(
        self, window: str, top: int
    ) -> tuple[TrendingSnapshot, dict[int, TitleInfo]]:
        published = [v for k, v in self.lists.items() if k.split("|")[0] == window]
        titles = {
            int(k): TitleInfo(int(k), t["titulo"], t["tipo"], t["categoria"])
            for v in published
            for k, t in v["titulos"].items()
        }

        def merged(kind: str) -> dict[str, tuple[Ranked, ...]]:
            names = {name for v in published for name in v[kind]}
            return {
                name: _ranked(merge_tops((v[kind].get(name, []) for v in published), top))
                for name in names
            }

        overall = _ranked(merge_tops((v["geral"] for v in published), top))
        return TrendingSnapshot(overall, merged("tipo"), merged("categoria")), titles

    def updated_at(self, window: str) -> str | None:
        """When the freshest list of ``window`` was computed (ISO 8601)."""
        times = [v["em"] for k, v in self.lists.items() if k.split("|")[0] == window]
        return max(times, default=None)


def _candidates(
    published: dict[str, Any], tipo: str | None, categoria: str | None
) -> list[list[Any]]:
    """A partition's list for the asked breakdown (categoria first, then filtered by tipo)."""
    if categoria is not None:
        entries = published["categoria"].get(categoria, [])
    elif tipo is not None:
        entries = published["tipo"].get(tipo, [])
    else:
        entries = published["geral"]
    if categoria is not None and tipo is not None:
        titles = published["titulos"]
        entries = [e for e in entries if titles.get(str(e[0]), {}).get("tipo") == tipo]
    return list(entries)


def _ranked(entries: list[list[Any]]) -> tuple[Ranked, ...]:
    return tuple((int(title), int(viewers)) for title, viewers in entries)


def _item(rank: int, entry: list[Any], titles: dict[int, dict[str, Any]]) -> dict[str, Any]:
    conteudo_id, viewers = entry
    return {
        "posicao": rank,
        **titles.get(conteudo_id, {"conteudo_id": conteudo_id}),
        "espectadores": viewers,
    }
