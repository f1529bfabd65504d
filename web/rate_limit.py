"""Per-caller rate limits: a token bucket per API key, in each worker.

Each key may make ``rate_per_s`` requests per second on average, in bursts of
up to two seconds' worth. A refused request learns how long to wait
(``Retry-After``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

BURST_SECONDS = 2.0


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets keyed by caller name."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def acquire(self, caller: str, rate_per_s: float) -> float:
        """Take one token: 0.0 when allowed, else seconds until one is available."""
        now = self._clock()
        capacity = max(1.0, rate_per_s * BURST_SECONDS)
        bucket = self._buckets.setdefault(caller, _Bucket(capacity, now))
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate_per_s)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate_per_s


def retry_after_header(wait_s: float) -> str:
    """Whole seconds for ``Retry-After`` (at least 1)."""
    return str(max(1, math.ceil(wait_s)))
