"""The co-viewing pruning timer outlives a deadlock: the next run prunes instead."""

from __future__ import annotations

import asyncio
import logging

import psycopg2.errors
import pytest

from agents import viewing_agent


class DeadlockingDatabase:
    """A ready database whose pruning deadlocks, as in the hour's soak of 2026-12-07."""

    is_ready = True

    def __init__(self) -> None:
        self.attempts = 0

    async def prune_co_viewings(self, keep: int) -> None:
        self.attempts += 1
        raise psycopg2.errors.DeadlockDetected("deadlock detected")


def test_a_deadlock_while_pruning_co_viewings_is_logged_not_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    database = DeadlockingDatabase()
    monkeypatch.setattr(viewing_agent.services, "database", database)
    with caplog.at_level(logging.WARNING):
        asyncio.run(viewing_agent.prune_co_viewing())  # one run, as the timer makes it
    assert database.attempts == 1
    assert "pruning co-viewings failed (DeadlockDetected" in caplog.text
