"""Direct access to the running services, for arranging and checking tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import psycopg2
from psycopg2 import errors
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_fixed

from app.settings import get_settings
from app.storage.database import Database
from demo.title_maker import catalogue_seed

#: The Elasticsearch the tests read, as the worker sees it.
ES_URL = os.environ.get("ELASTICSEARCH_HOST", get_settings().elasticsearch_host)


def pg_rows(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run one query against the real PostgreSQL and return its rows."""
    with psycopg2.connect(get_settings().postgres_dsn) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


def kafka_bootstrap() -> str:
    """The broker list, as the worker sees it."""
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", get_settings().kafka_bootstrap_servers)


def dsn_of(name: str) -> str:
    """The DSN of database ``name`` on the configured PostgreSQL server."""
    settings = get_settings()
    return settings.postgres_dsn.replace(f"dbname={settings.postgres_db}", f"dbname={name}")


@contextmanager
def scratch_database(purpose: str) -> Iterator[str]:
    """The DSN of a new, empty PostgreSQL database, dropped afterwards."""
    name = f"{purpose}_{uuid.uuid4().hex[:8]}"
    _as_admin(f"CREATE DATABASE {name}")
    try:
        yield dsn_of(name)
    finally:
        _drop_database(name)


@asynccontextmanager
async def migrated_database(purpose: str) -> AsyncIterator[Database]:
    """A started ``Database`` on a new database migrated from nothing, dropped when leaving."""
    with scratch_database(purpose) as dsn:
        async with started_database(dsn) as database:
            yield database


@asynccontextmanager
async def started_database(dsn: str) -> AsyncIterator[Database]:
    """The app's ``Database`` service on ``dsn``, migrated and seeded as a worker does at start."""
    database = Database(dsn, pool_size=2, seed=catalogue_seed())
    await database.start()
    try:
        await database.wait_ready()
        yield database
    finally:
        await database.stop()


async def renew_database(name: str) -> None:
    """Drop database ``name`` if it exists, then create and migrate it afresh.

    ``make test`` runs the suite on a database of its own, renewed each run: the
    users a soak or a benchmark left in the development database (hundreds of
    thousands of random CPFs) once made a test's random new user collide with one
    (``cpf_taken``), about one run in seven. A failed run's rows stay until the next.
    """
    _drop_database(name)
    _as_admin(f"CREATE DATABASE {name}")
    async with started_database(dsn_of(name)):
        pass


# FORCE ends the database's other sessions, but not an autovacuum worker's, which is
# not ours to end (InsufficientPrivilege): it is done within moments (make test saw one).
@retry(
    retry=retry_if_exception_type((errors.InsufficientPrivilege, errors.ObjectInUse)),
    wait=wait_fixed(0.5),
    stop=stop_after_delay(30),
    reraise=True,
)
def _drop_database(name: str) -> None:
    _as_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _as_admin(sql: str) -> None:
    conn = psycopg2.connect(get_settings().postgres_dsn)
    conn.autocommit = True  # CREATE / DROP DATABASE refuse to run in a transaction
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()
