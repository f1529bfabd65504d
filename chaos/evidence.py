"""What the audit reads after a fault: the accepted requests, and what each store holds of them.

PostgreSQL (the ledger and the business rows, through psycopg2), the status
API (admin key), Elasticsearch (documents per correlation id, by a terms
aggregation) and Kafka (a topic's events, read straight from the broker).
:mod:`chaos.audit` judges what these say.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import orjson
import psycopg2
from aiokafka import AIOKafkaConsumer

from app.eventlog.indices import SYSTEM_LOGS
from app.settings import get_settings
from demo.loadgen.engine import on_timetable
from harness.broker import end_offsets
from harness.services import kafka_bootstrap

#: The request kinds of :mod:`demo.loadgen.traffic` and the event each one becomes.
EVENT_TYPES = {
    "usuarios": "criar_usuario",
    "assinatura": "atualizar_assinatura",
    "pagamento": "pagamento_realizado",
    "config": "atualizar_config",
    "visualizacao": "registrar_visualizacao",
    "sessao": "iniciar_sessao",
}
#: The topic each request kind's event goes to (the rest: ``user_events``).
REQUEST_TOPICS = {"visualizacao": "viewing_events", "sessao": "session_events"}
#: Kinds whose effect lives in a Faust table, not PostgreSQL: no ledger row.
TABLE_KINDS = frozenset({"sessao"})
FINAL = frozenset({"success", "error"})
_ES_CHUNK = 1000
_STATUS_CONCURRENCY = 32


@dataclass(frozen=True, slots=True)
class Accepted:
    """One request answered 202: what it asked for and its correlation id."""

    correlation_id: str
    kind: str
    user_id: int
    #: What a viewing watched, or the session an opening named.
    conteudo_id: int | None = None
    session_id: str | None = None

    @property
    def event_type(self) -> str:
        """The event type this request became."""
        return EVENT_TYPES[self.kind]

    @property
    def request_topic(self) -> str:
        """The base name of the topic its event went to."""
        return REQUEST_TOPICS.get(self.kind, "user_events")


@dataclass(frozen=True)
class Target:
    """Where the run's traces are: topic prefix, the API to read statuses from, data dirs."""

    topic_prefix: str
    status_url: str
    api_key: str
    data_dirs: Sequence[Path]
    #: The alias the run's workers log through (their ``LOG_INDEX``).
    log_alias: str = SYSTEM_LOGS

    def topic(self, base: str) -> str:
        """``base`` under the run's prefix."""
        return self.topic_prefix + base


# --------------------------------------------------------------------------- PostgreSQL


def query(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    conn = psycopg2.connect(get_settings().postgres_dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def ledger(correlation_ids: Sequence[str]) -> dict[str, tuple[str, int, str]]:
    """``processed_events`` rows: correlation id -> (event type, user id, outcome)."""
    rows = query(
        "SELECT correlation_id::text, event_type, user_id, outcome FROM processed_events"
        " WHERE correlation_id = ANY(%s::uuid[])",
        (list(correlation_ids),),
    )
    return {cid: (event_type, uid, outcome) for cid, event_type, uid, outcome in rows}


def counts(sql: str, keys: Sequence[Any]) -> dict[Any, int]:
    return {str(key): int(n) for key, n in query(sql, (list(keys),))}


_HAVING_MORE_THAN_ONE = (
    "SELECT {key}::text, count(*) FROM {table} WHERE {where} GROUP BY 1 HAVING count(*) > 1"
)
_BY_CORRELATION_ID = "correlation_id = ANY(%s::uuid[])"
_BY_USER_ID = "user_id = ANY(%s)"


def duplicates(user_ids: Sequence[int], correlation_ids: Sequence[str]) -> list[tuple[str, str]]:
    """Rows present more than once, by every key that must be unique."""
    same_as_users = "{key} IN (SELECT {key} FROM usuarios WHERE user_id = ANY(%s))"
    checks: list[tuple[str, str, str, Sequence[Any]]] = [
        ("processed_events", "correlation_id", _BY_CORRELATION_ID, correlation_ids),
        ("pagamentos", "correlation_id", _BY_CORRELATION_ID, correlation_ids),
        ("usuarios", "user_id", _BY_USER_ID, user_ids),
        ("usuarios", "email", same_as_users.format(key="email"), user_ids),
        ("usuarios", "cpf", same_as_users.format(key="cpf"), user_ids),
        ("assinaturas", "user_id", _BY_USER_ID, user_ids),
        ("preferencias", "user_id", _BY_USER_ID, user_ids),
    ]
    found = []
    for table, key, where, keys in checks:
        sql = _HAVING_MORE_THAN_ONE.format(key=key, table=table, where=where)
        for value, n in query(sql, (list(keys),)):
            found.append((f"{table}.{key}={value}", f"{n} rows"))
    return found


# --------------------------------------------------------------------------- the status API


async def fetch_statuses(
    target: Target,
    correlation_ids: Sequence[str],
    known: dict[str, str],
    reads_per_s: float | None = None,
) -> None:
    """Update ``known`` (correlation id -> status) for the ids not final yet.

    At most :data:`_STATUS_CONCURRENCY` reads at a time, started at most
    ``reads_per_s`` a second (``None``: as fast as they come back). A soak
    paces them: read in a burst, a slice's statuses took the worker's cores
    from its agents, and the backlog that built up showed as lag and as memory
    held by the records in flight, which the soak judges.

    Through aiohttp, not httpx: a soak's audit reads about as many statuses as
    the load posts, and httpx spent half the soak process's CPU doing it, on
    the two cores the measured worker runs on.
    """
    todo = [cid for cid in correlation_ids if known.get(cid) not in FINAL]
    if not todo:
        return
    limit = asyncio.Semaphore(_STATUS_CONCURRENCY)
    headers = {"X-API-Key": target.api_key}
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(target.status_url, headers=headers, timeout=timeout) as http:

        async def one(cid: str) -> None:
            try:
                async with http.get(f"/status/{cid}") as answer:
                    if answer.status != 200:
                        known[cid] = f"HTTP {answer.status}"
                        return
                    body = orjson.loads(await answer.read())
            except (TimeoutError, aiohttp.ClientError) as exc:
                known[cid] = f"no answer ({type(exc).__name__})"
                return
            finally:
                limit.release()
            known[cid] = str(body.get("status"))

        async with asyncio.TaskGroup() as reads:
            async for cid, _ in on_timetable(todo, reads_per_s):
                await limit.acquire()
                reads.create_task(one(cid))


# --------------------------------------------------------------------------- Elasticsearch


async def document_counts(
    target: Target, correlation_ids: Sequence[str]
) -> dict[tuple[str, str], int]:
    """Documents per (correlation id, base topic) among the run's request/response topics."""
    bases = ("user_events", "response_events", *REQUEST_TOPICS.values())
    topics = {target.topic(base): base for base in bases}
    counts: dict[tuple[str, str], int] = {}
    async with httpx.AsyncClient(base_url=get_settings().elasticsearch_host, timeout=30) as es:
        await es.post(f"/{target.log_alias}/_refresh")
        for start in range(0, len(correlation_ids), _ES_CHUNK):
            chunk = list(correlation_ids[start : start + _ES_CHUNK])
            body = {
                "size": 0,
                "query": {
                    "bool": {
                        "filter": [
                            {"terms": {"correlation_id": chunk}},
                            {"terms": {"topic": list(topics)}},
                        ]
                    }
                },
                "aggs": {
                    "ids": {
                        "terms": {"field": "correlation_id", "size": len(chunk)},
                        "aggs": {"topics": {"terms": {"field": "topic", "size": 10}}},
                    }
                },
            }
            answer = await es.post(f"/{target.log_alias}/_search", json=body)
            answer.raise_for_status()
            for bucket in answer.json()["aggregations"]["ids"]["buckets"]:
                for by_topic in bucket["topics"]["buckets"]:
                    key = (bucket["key"], topics[by_topic["key"]])
                    counts[key] = int(by_topic["doc_count"])
    return counts


def fallback_bytes(data_dirs: Sequence[Path]) -> int:
    """Bytes still waiting in the workers' Elasticsearch fallback files."""
    total = 0
    for directory in data_dirs:
        for name in ("es-fallback.jsonl", "es-fallback.jsonl.replaying"):
            with contextlib.suppress(FileNotFoundError):
                total += (directory / name).stat().st_size
    return total


# --------------------------------------------------------------------------- Kafka


class TopicTail:
    """Reads a topic from its beginning, a stretch at a time: each record once.

    A long run reads ``user_events`` as it goes (:mod:`chaos.rolling_audit`)
    rather than all of it at every look; a record Kafka deleted before it was
    read is skipped (the consumer starts again from the earliest one kept).
    """

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self._consumer: AIOKafkaConsumer | None = None

    async def read(self) -> list[dict[str, Any]]:
        """Every JSON object written since the last read, up to the topic's current end."""
        ends = await end_offsets(self.topic)
        consumer = self._consumer
        if consumer is None:
            consumer = self._consumer = AIOKafkaConsumer(
                bootstrap_servers=kafka_bootstrap(),
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_partition_fetch_bytes=4 * 1024**2,
            )
            await consumer.start()
            consumer.assign(list(ends))
            await consumer.seek_to_beginning(*ends)
        events: list[dict[str, Any]] = []
        pending = {tp for tp, end in ends.items() if await consumer.position(tp) < end}
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=1000)
            for records in batches.values():
                for record in records:
                    with contextlib.suppress(orjson.JSONDecodeError):
                        value = orjson.loads(record.value)
                        if isinstance(value, dict):
                            events.append(value)
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
        return events

    async def close(self) -> None:
        """Stop the consumer."""
        if self._consumer is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._consumer.stop()


async def topic_events(topic: str) -> list[dict[str, Any]]:
    """Every JSON object on ``topic`` (from the beginning to its current end)."""
    tail = TopicTail(topic)
    try:
        return await tail.read()
    finally:
        await tail.close()
