"""Fixtures for tests against the real services (``make up``) and a real worker."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import psycopg2
import pytest
from elasticsearch import Elasticsearch

from app.database import Database
from app.settings import get_settings
from tests.support.services import ES_URL
from tests.support.workers import Worker


@pytest.fixture(scope="session")
def es() -> Iterator[Elasticsearch]:
    """A client of the running Elasticsearch."""
    client = Elasticsearch(ES_URL, request_timeout=30)
    yield client
    client.close()


@pytest.fixture(scope="session")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """One worker shared by the tests that only need the system running."""
    started = Worker(tmp_path_factory.mktemp("worker")).start()
    yield started
    started.stop()


@pytest.fixture
def api(worker: Worker) -> Iterator[httpx.Client]:
    """An HTTP client for the shared worker."""
    with worker.client() as client:
        yield client


@pytest.fixture
def fresh_dir(tmp_path: Path) -> Path:
    """A data directory for a worker a test starts itself."""
    return tmp_path


def _admin(sql: str) -> None:
    conn = psycopg2.connect(get_settings().postgres_dsn)
    conn.autocommit = True  # CREATE / DROP DATABASE refuse to run in a transaction
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@pytest.fixture
async def empty_database() -> AsyncIterator[Database]:
    """A database of its own, migrated from nothing, dropped afterwards."""
    async with migrated_database() as database:
        yield database


@asynccontextmanager
async def migrated_database() -> AsyncIterator[Database]:
    """A database of its own, migrated from nothing while entering, dropped when leaving."""
    name = f"migration_check_{uuid.uuid4().hex[:8]}"
    _admin(f"CREATE DATABASE {name}")
    dsn = get_settings().postgres_dsn.replace(
        f"dbname={get_settings().postgres_db}", f"dbname={name}"
    )
    database = Database(dsn, pool_size=2)
    await database.start()
    try:
        await database.wait_ready()
        yield database
    finally:
        await database.stop()
        _admin(f"DROP DATABASE {name} WITH (FORCE)")
