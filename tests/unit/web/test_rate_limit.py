"""Token buckets: bursts allowed, sustained excess refused with a wait, then recovery."""

from tests.support.clock import ManualClock
from web.rate_limit import RateLimiter, retry_after_header


def test_a_burst_of_two_seconds_passes_then_requests_wait() -> None:
    clock = ManualClock(100.0)
    limiter = RateLimiter(clock)
    assert all(limiter.acquire("a", 5) == 0.0 for _ in range(10))
    assert 0.0 < limiter.acquire("a", 5) <= 0.2


def test_tokens_come_back_with_time() -> None:
    clock = ManualClock(100.0)
    limiter = RateLimiter(clock)
    while limiter.acquire("a", 5) == 0.0:
        pass
    clock.now += 0.2
    assert limiter.acquire("a", 5) == 0.0


def test_callers_have_separate_buckets() -> None:
    limiter = RateLimiter(ManualClock(100.0))
    while limiter.acquire("greedy", 1) == 0.0:
        pass
    assert limiter.acquire("polite", 1) == 0.0


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(2.5) == "3"
