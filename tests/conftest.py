"""Fixtures of the whole suite."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from harness.broker import delete_topics
from harness.workers import RUN_PREFIX, Worker


@pytest.fixture(scope="session", autouse=True)
def delete_run_topics() -> Iterator[None]:
    """Remove this run's topics at the end, so runs do not pile them up on the broker."""
    yield
    if Worker.started_any:  # a unit-only run never touched the broker
        asyncio.run(delete_topics([RUN_PREFIX]))
