"""Looking for a person's traces in every store: PostgreSQL, Elasticsearch, Kafka, RocksDB, files.

What tests and chaos use to prove an erasure: each scanner returns where one of
the person's values was found, in clear or in an easily reversed form
(:func:`forms`), as ``"store: place"`` lines (empty: no trace).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import secrets
import string
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path

import psycopg2
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from elasticsearch import Elasticsearch, NotFoundError
from rocksdict import AccessType, Options, Rdict

from app.settings import get_settings
from demo.people import demo_user
from harness.services import kafka_bootstrap

_PG_TABLES = """
SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables
 WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'"""
_ES_PAGE = 1000
#: Longest time one topic may take to be read to its end.
_READ_TOPIC_S = 120.0


def a_distinct_person() -> dict[str, str]:
    """A demo person whose name and e-mail no one else in the stores has: what a scan looks for."""
    person = demo_user().model_dump()
    mark = "".join(secrets.choice(string.ascii_lowercase) for _ in range(12))
    return {
        **person,
        "nome": f"{person['nome']} {mark.capitalize()}",
        "email": f"{mark}@exemplo.com.br",
    }


def forms(values: Iterable[str]) -> list[bytes]:
    """Each value as written, lower-cased, digits only (a CPF), and in base64 (both alphabets)."""
    found: set[bytes] = set()
    for value in values:
        texts = {value, value.lower(), value.upper()}
        digits = re.sub(r"\D", "", value)
        if len(digits) >= 11:
            texts.add(digits)
        for text in texts:
            raw = text.encode()
            found |= {
                raw,
                base64.b64encode(raw).rstrip(b"="),
                base64.urlsafe_b64encode(raw).rstrip(b"="),
            }
    return sorted(found)


def _holds(blob: bytes, needles: list[bytes]) -> bool:
    lowered = blob.lower()
    return any(needle in blob or needle.lower() in lowered for needle in needles)


def in_postgres(needles: list[bytes]) -> list[str]:
    """Every row of every table of the database, as text."""
    hits: list[str] = []
    with psycopg2.connect(get_settings().postgres_dsn) as conn, conn.cursor() as cur:
        cur.execute(_PG_TABLES)
        for (table,) in cur.fetchall():
            cur.execute(f"SELECT t::text FROM {table} t")
            hits += [f"postgres: {table}" for (row,) in cur if _holds(row.encode(), needles)]
    return hits


def in_elasticsearch(client: Elasticsearch, needles: list[bytes]) -> list[str]:
    """Every document of every index, as its raw JSON source."""
    hits: list[str] = []
    for index in client.indices.get(index="*", expand_wildcards="all"):
        try:
            hits += [
                f"elasticsearch: {index}"
                for doc in _documents(client, index)
                if _holds(doc, needles)
            ]
        except NotFoundError:
            continue  # deleted since listed (another test's, or the log's retention)
    return hits


def _documents(client: Elasticsearch, index: str) -> Iterator[bytes]:
    after: list[object] | None = None
    while True:
        page = client.search(
            index=index, size=_ES_PAGE, sort=["_doc"], search_after=after, query={"match_all": {}}
        )
        hits = page["hits"]["hits"]
        if not hits:
            return
        for hit in hits:
            yield repr(hit.get("_source")).encode() + str(hit.get("_id")).encode()
        after = hits[-1]["sort"]


async def in_kafka(prefix: str, needles: list[bytes]) -> list[str]:
    """Every record (key, value, headers) of every topic whose name starts with ``prefix``."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap())
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if t.startswith(prefix)]
    finally:
        await admin.close()
    hits: list[str] = []
    for topic in topics:
        async for record in records(topic):
            blob = b"".join(
                [record.key or b"", record.value or b""] + [v for _, v in record.headers]
            )
            if _holds(blob, needles):
                hits.append(f"kafka: {topic}[{record.partition}]@{record.offset}")
    return hits


async def records(topic: str) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """Every record ``topic`` holds now, partition by partition, as raw bytes."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap(), enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in await _partition_ids(consumer, topic)]
        ends = await consumer.end_offsets(partitions)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + _READ_TOPIC_S
        for tp in partitions:
            # A compacted topic may lack its last offsets: the position says when it is read.
            while await consumer.position(tp) < ends[tp]:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{tp} not read to offset {ends[tp]} in {_READ_TOPIC_S}s")
                for record in (await consumer.getmany(tp, timeout_ms=1000)).get(tp, []):
                    if record.offset < ends[tp]:
                        yield record
    finally:
        with contextlib.suppress(asyncio.CancelledError):  # see harness.broker._stop
            await consumer.stop()


async def _partition_ids(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        await consumer._client.force_metadata_update()
        partitions = consumer.partitions_for_topic(topic)
    return set(partitions or ())


def in_files(root: Path, needles: list[bytes]) -> list[str]:
    """Every file under ``root`` as raw bytes (RocksDB's write-ahead logs, the fallback file...)."""
    return [f"file: {path}" for path in root.rglob("*") if _holds(_read(path), needles)]


def _read(path: Path) -> bytes:
    """The file's bytes; none for a directory, or a file gone since listed (RocksDB compacts)."""
    try:
        return path.read_bytes() if path.is_file() else b""
    except FileNotFoundError:
        return b""


def in_rocksdb(root: Path, needles: list[bytes]) -> list[str]:
    """Every key and value of every RocksDB under ``root``, opened read-only (its files may be compressed)."""
    hits: list[str] = []
    for current in root.rglob("CURRENT"):
        options = Options(raw_mode=True)
        db = Rdict(str(current.parent), options=options, access_type=AccessType.read_only())
        try:
            hits += [f"rocksdb: {current.parent}" for k, v in db.items() if _holds(k + v, needles)]
        finally:
            db.close()
    return hits
