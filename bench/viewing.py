"""The viewing side under load: a backlog of heartbeats, and how soon a viewer shows in trending.

* :func:`build_viewing_backlog`: ``registrar_visualizacao`` events for users
  that exist, keyed by user id as the API produces them. Each user watches two
  titles of the demo catalogue, with a few heartbeats each (a player sends its
  progress many times), so a batch collapses heartbeats into states and counts
  a co-viewing pair per user, as production does.
* :class:`ViewerTraffic`: ``POST /historico-visualizacao`` by distinct users,
  all of one title, so that the title's viewer count in trending grows by one
  per accepted viewing.
* :class:`TrendingWatcher`: reads ``trending_tops`` straight from Kafka and
  notes when that title's count reached each value.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import Sequence

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from app.viewing.viewing_events import ViewingRecorded
from bench.backlog import Backlog
from demo.loadgen.traffic import Request
from demo.title_maker import DEMO_IDS
from harness.services import kafka_bootstrap

#: Titles each backlog user watches, and heartbeats per title.
TITLES_PER_USER = 2
HEARTBEATS_PER_TITLE = 3


def build_viewing_backlog(count: int, user_ids: Sequence[int], seed: int = 7) -> Backlog:
    """``count`` heartbeats of existing ``user_ids`` (cycled if they run out)."""
    chooser = random.Random(seed)
    backlog = Backlog()
    per_user = TITLES_PER_USER * HEARTBEATS_PER_TITLE
    for number in range(-(-count // per_user)):
        user_id = user_ids[number % len(user_ids)]
        for title in chooser.sample(DEMO_IDS, TITLES_PER_USER):
            for beat in range(1, HEARTBEATS_PER_TITLE + 1):
                if len(backlog.records) < count:
                    backlog.add(_heartbeat(user_id, title, beat))
    backlog.user_ids = list(user_ids)
    return backlog


def _heartbeat(user_id: int, title: int, beat: int) -> ViewingRecorded:
    fields = {
        "correlation_id": str(uuid.uuid4()),
        "user_id": user_id,
        "conteudo_id": title,
        "posicao": 30 * beat,
        "tempo_assistido": 600 * beat,
    }
    return ViewingRecorded.model_validate(fields)


class ViewerTraffic:
    """Viewings of one title, each by a user not seen before (the loop's traffic source)."""

    def __init__(self, title: int, user_ids: Sequence[int]) -> None:
        self.title = title
        self._users = list(user_ids)
        self._next = 0

    def next_request(self) -> Request:
        """A heartbeat of the next user, halfway into the title."""
        user_id = self._users[self._next % len(self._users)]
        self._next += 1
        body = {
            "user_id": user_id,
            "conteudo_id": self.title,
            "posicao": 50.0,
            "tempo_assistido": 1200,
        }
        return Request("visualizacao", "/historico-visualizacao", orjson.dumps(body))

    def user_accepted(self, user_id: int) -> None:
        """Nothing to remember: every viewer exists already."""


class TrendingWatcher:
    """When one title's viewer count in a trending window reached each value (loop clock)."""

    FETCH_WAIT_MS = 5

    def __init__(self, topic: str, title: int, window: str) -> None:
        self.title = title
        self.window = window
        self.topic = topic
        #: count -> when a published list first showed the title with at least that many.
        self.reached: dict[int, float] = {}
        self.count = 0
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> TrendingWatcher:
        """Read the topic from its start (it holds only this run's lists)."""
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=kafka_bootstrap(),
            enable_auto_commit=False,
            fetch_max_wait_ms=self.FETCH_WAIT_MS,
        )
        await self._consumer.start()
        self._consumer.assign([TopicPartition(self.topic, 0)])
        await self._consumer.seek_to_beginning()
        self._task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self._consumer is not None  # started
        loop = asyncio.get_running_loop()
        while True:
            batches = await self._consumer.getmany(timeout_ms=100)
            now = loop.time()
            for record in (r for rs in batches.values() for r in rs):
                if record.key is None or not record.key.decode().startswith(self.window + "|"):
                    continue
                self._saw(_count_of(orjson.loads(record.value), self.title), now)

    def _saw(self, count: int, now: float) -> None:
        for reached in range(self.count + 1, count + 1):
            self.reached[reached] = now
        self.count = max(self.count, count)

    async def wait_for(self, count: int, timeout_s: float) -> None:
        """Return once the title's count reached ``count``; ``TimeoutError`` after ``timeout_s``."""
        async with asyncio.timeout(timeout_s):
            while self.count < count:
                await asyncio.sleep(0.02)

    async def stop(self) -> None:
        """Stop reading."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._consumer.stop()


def _count_of(tops: dict[str, object], title: int) -> int:
    listed = tops.get("geral")
    if not isinstance(listed, list):
        return 0
    return next((int(n) for t, n in listed if int(t) == title), 0)


def trending_lags_ms(answered_at: Sequence[float], reached: dict[int, float]) -> list[float]:
    """The k-th accepted viewing (by answer time) is counted when the count reaches k.

    Viewings of different partitions may be counted out of order, so the k-th
    viewer is not always the one that moved the count to k; over thousands of
    viewers the distribution is the same.
    """
    ordered = sorted(answered_at)
    return [(reached[k] - t) * 1000 for k, t in enumerate(ordered, 1) if k in reached]
