"""Exponential backoff for retrying transient failures without moving on."""

from __future__ import annotations

import asyncio
import random


class Backoff:
    """Waits 0.1 s, 0.2 s, 0.4 s ... up to ``ceiling`` seconds, with jitter.

    Jitter keeps several workers from hammering a recovering service in step.
    """

    def __init__(self, first: float = 0.1, ceiling: float = 5.0) -> None:
        self._first = first
        self._ceiling = ceiling
        self.attempts = 0

    def next_delay(self) -> float:
        """The delay before the next attempt; grows with each call."""
        delay = min(self._ceiling, self._first * 2**self.attempts)
        self.attempts += 1
        return delay * random.uniform(0.8, 1.2)

    async def wait(self) -> None:
        """Sleep for the next delay."""
        await asyncio.sleep(self.next_delay())

    def reset(self) -> None:
        """Start again from the first delay after a success."""
        self.attempts = 0
