"""A maintenance run that fails is logged and the worker goes on; cancellation still stops it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import psycopg2.errors
import pytest

from app.maintenance import surviving


def run_once(body: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(surviving("pruning things", 60)(body)())


def test_a_service_failure_is_a_warning_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def deadlocked() -> None:
        raise psycopg2.errors.DeadlockDetected("deadlock detected")

    with caplog.at_level(logging.WARNING):
        run_once(deadlocked)
    [record] = caplog.records
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert "pruning things failed (DeadlockDetected('deadlock detected'))" in record.getMessage()
    assert "next attempt in 60 s" in record.getMessage()


def test_a_bug_is_logged_with_its_traceback_and_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def buggy() -> None:
        raise KeyError("oops")

    with caplog.at_level(logging.WARNING):
        run_once(buggy)
    [record] = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info is not None


def test_a_run_that_succeeds_runs_whole_and_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    done: list[bool] = []

    async def fine() -> None:
        done.append(True)

    with caplog.at_level(logging.WARNING):
        run_once(fine)
    assert done == [True] and not caplog.records


def test_cancellation_goes_through_so_the_worker_can_stop_its_timers() -> None:
    async def cancelled() -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        run_once(cancelled)
