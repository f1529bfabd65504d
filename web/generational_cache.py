"""A bounded cache of plain dicts: two generations, the older dropped whole.

Why not ``cachetools.TTLCache``: it keeps a linked node and an ordered-dict
entry per key beside the value, about 200 bytes, and walks Python code on
every read. Here an entry is one slot in a plain dict (about 85 bytes with an
int key), a read is at most two dict lookups, and expiry costs nothing per
entry: new entries go into the young generation; when it is full (half the
bound) or half the time to live old, it becomes the old generation and the
previous old one is dropped. So at most ``max_entries`` are kept, and an entry
is forgotten between ``ttl_s / 2`` and ``ttl_s`` seconds after it was put
(sooner only when the cache fills faster than that). A read never renews an
entry, so nothing outlives ``ttl_s``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import Enum
from typing import Final, Generic, Literal, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class _Missing(Enum):
    MISSING = "missing"


#: What :meth:`GenerationalCache.get` returns for a key it does not hold (``None`` may be a value).
MISSING: Final = _Missing.MISSING


class GenerationalCache(Generic[K, V]):
    """At most ``max_entries`` keys, each for at most ``ttl_s`` seconds (see the module)."""

    def __init__(
        self, max_entries: int, ttl_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_entries < 2:
            raise ValueError("max_entries must be at least 2: two generations of at least one")
        self._generation_size = max_entries // 2
        self._generation_s = ttl_s / 2
        self._clock = clock
        self._young: dict[K, V] = {}
        self._old: dict[K, V] = {}
        self._young_since = clock()

    def get(self, key: K) -> V | Literal[_Missing.MISSING]:
        """The value kept for ``key``, or :data:`MISSING`."""
        self._age()
        young = self._young
        if key in young:
            return young[key]
        return self._old.get(key, MISSING)

    def put(self, key: K, value: V) -> None:
        """Keep ``value`` for ``key`` from now on."""
        self._age()
        if len(self._young) >= self._generation_size:
            self._rotate()
        self._young[key] = value

    def __len__(self) -> int:
        return len(self._young) + len(self._old)

    def _age(self) -> None:
        elapsed = self._clock() - self._young_since
        if elapsed >= self._generation_s:
            self._rotate()
            if elapsed >= 2 * self._generation_s:  # idle that long: the young ones are too old too
                self._old = {}

    def _rotate(self) -> None:
        self._old = self._young
        self._young = {}
        self._young_since = self._clock()
