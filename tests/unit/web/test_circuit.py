"""The circuit breaker in front of the HTTP path's writes to Kafka."""

from __future__ import annotations

from tests.support.clock import ManualClock
from web.circuit import CircuitBreaker


def test_a_closed_breaker_lets_every_write_through() -> None:
    breaker = CircuitBreaker(cooldown_s=1.0, clock=ManualClock(100.0))
    assert all(breaker.allow() for _ in range(5))
    assert not breaker.is_open


def test_after_a_failure_writes_are_refused_until_the_cooldown_ends() -> None:
    clock = ManualClock(100.0)
    breaker = CircuitBreaker(cooldown_s=1.0, clock=clock)
    breaker.failed()
    assert not breaker.allow()
    clock.now += 1.0
    assert breaker.allow()  # the trial


def test_only_one_trial_at_a_time_and_its_success_closes_the_breaker() -> None:
    clock = ManualClock(100.0)
    breaker = CircuitBreaker(cooldown_s=1.0, clock=clock)
    breaker.failed()
    clock.now += 1.0
    assert breaker.allow()
    assert not breaker.allow()  # the trial is still running
    breaker.succeeded()
    assert breaker.allow() and breaker.allow()
    assert not breaker.is_open


def test_a_failed_trial_starts_a_new_cooldown() -> None:
    clock = ManualClock(100.0)
    breaker = CircuitBreaker(cooldown_s=1.0, clock=clock)
    breaker.failed()
    clock.now += 1.0
    assert breaker.allow()
    breaker.failed()
    clock.now += 0.5
    assert not breaker.allow()
    clock.now += 0.5
    assert breaker.allow()


def test_an_abandoned_trial_lets_another_request_try() -> None:
    clock = ManualClock(100.0)
    breaker = CircuitBreaker(cooldown_s=1.0, clock=clock)
    breaker.failed()
    clock.now += 1.0
    assert breaker.allow()
    breaker.abandoned()
    assert breaker.allow()
    assert breaker.is_open
