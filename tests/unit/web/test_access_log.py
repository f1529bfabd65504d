"""The access log: failures always, successes within a budget per second, the rest counted."""

from __future__ import annotations

import logging

import pytest
from aiohttp.test_utils import make_mocked_request

from tests.support.clock import ManualClock
from web.access_log import AccessLog, SuccessBudget


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "web.access_log"]


def post(log: AccessLog, status: int = 202) -> None:
    request = make_mocked_request("POST", "/usuarios")
    log.record(request, "/usuarios", status, 0.004)


def test_a_budget_admits_its_share_of_a_second_then_counts_the_rest() -> None:
    clock = ManualClock()
    budget = SuccessBudget(2, clock)
    assert [budget.admit() for _ in range(4)] == [(True, 0), (True, 0), (False, 0), (False, 0)]
    clock.now += 1
    assert budget.admit() == (True, 2)
    assert budget.admit() == (True, 0)


def test_a_budget_reports_a_second_s_count_once_even_after_a_quiet_spell() -> None:
    clock = ManualClock()
    budget = SuccessBudget(1, clock)
    budget.admit()
    budget.admit()
    clock.now += 30
    assert budget.admit() == (True, 1)
    clock.now += 1
    assert budget.admit() == (True, 0)


def test_successes_beyond_the_budget_get_one_summary_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ManualClock()
    log = AccessLog(3, clock)
    with caplog.at_level(logging.INFO):
        for _ in range(10):
            post(log)
        clock.now += 1
        post(log)
    written = lines(caplog)
    assert written[:3] == ["POST /usuarios -> 202 in 4.0 ms"] * 3
    assert written[3].startswith("7 successful requests not logged in the last second")
    assert written[4:] == ["POST /usuarios -> 202 in 4.0 ms"]


def test_failures_are_logged_when_the_budget_is_spent(caplog: pytest.LogCaptureFixture) -> None:
    log = AccessLog(0, ManualClock())
    with caplog.at_level(logging.INFO):
        post(log, 202)
        post(log, 422)
        post(log, 503)
    assert lines(caplog) == ["POST /usuarios -> 422 in 4.0 ms", "POST /usuarios -> 503 in 4.0 ms"]


def test_polled_routes_are_logged_at_debug_outside_the_budget(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = AccessLog(1, ManualClock())
    with caplog.at_level(logging.DEBUG):
        log.record(make_mocked_request("GET", "/health"), "/health", 200, 0.001)
        post(log)
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.DEBUG, "GET /health -> 200 in 1.0 ms"),
        (logging.INFO, "POST /usuarios -> 202 in 4.0 ms"),
    ]


def test_a_line_carries_the_request_s_fields(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        post(AccessLog(1, ManualClock()))
    record = caplog.records[0]
    assert (record.http_method, record.http_route, record.http_status) == (  # type: ignore[attr-defined]
        "POST",
        "/usuarios",
        202,
    )
    assert record.duration_ms == 4.0  # type: ignore[attr-defined]
