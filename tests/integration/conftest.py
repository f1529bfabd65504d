"""Fixtures for tests against the real services (``make up``) and a real worker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from elasticsearch import Elasticsearch

from app.storage.database import Database
from harness.services import ES_URL, migrated_database
from harness.workers import Worker


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
    started.wait_ready()  # in its group, tables recovered: every test starts on a settled worker
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


@pytest.fixture
async def empty_database() -> AsyncIterator[Database]:
    """A database of its own, migrated from nothing, dropped afterwards."""
    async with migrated_database("migration_check") as database:
        yield database
