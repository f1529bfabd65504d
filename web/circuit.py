"""A circuit breaker for the HTTP path's writes to Kafka.

While Kafka is down every POST would hold its connection for
``PRODUCE_TIMEOUT_S`` and leave its event in the producer's buffer, to be
written (and applied) after the client was told 503. Once a write has failed,
the breaker answers the next requests at once, without producing anything, and
lets a single request at a time try Kafka again; the first success closes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class CircuitBreaker:
    """Closed (everything goes through) until a failure; then one trial at a time."""

    def __init__(self, cooldown_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._failed = False
        self._trial_running = False
        self._next_trial_at = 0.0

    @property
    def is_open(self) -> bool:
        """Whether the last write failed and none has succeeded since."""
        return self._failed

    def allow(self) -> bool:
        """Whether a write may be tried now; a ``True`` while open starts the trial."""
        if not self._failed:
            return True
        if self._trial_running or self._clock() < self._next_trial_at:
            return False
        self._trial_running = True
        return True

    def succeeded(self) -> None:
        """A write was acknowledged: Kafka is back, let everything through."""
        self._failed = self._trial_running = False

    def abandoned(self) -> None:
        """A write ended without an answer (cancelled): another request may try."""
        self._trial_running = False

    def failed(self) -> None:
        """A write failed: refuse others until the cooldown ends, then try one."""
        self._failed = True
        self._trial_running = False
        self._next_trial_at = self._clock() + self.cooldown_s
