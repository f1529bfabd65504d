"""Correlation ids: UUIDv7 values that carry their own proof of issue.

An id is a standard UUIDv7 (48-bit millisecond timestamp, version, variant) whose
last 62 random bits are replaced by a truncated HMAC of the first 64 bits. So any
worker can tell, without a lookup, whether an id was issued by this system:
``GET /status`` answers ``pendente`` for an issued id whose outcome has not landed
yet, and 404 for an id that was never issued.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
import uuid
from datetime import UTC, datetime

_MAC_BITS = 62
_MAC_MASK = (1 << _MAC_BITS) - 1
_VARIANT = 0b10 << _MAC_BITS


class CorrelationIds:
    """Issues and verifies signed correlation ids with one shared secret."""

    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def issue(self) -> str:
        """A new id: UUIDv7 timestamped now, signed in its low 62 bits."""
        millis = time.time_ns() // 1_000_000
        rand_a = int.from_bytes(os.urandom(2)) & 0x0FFF
        high = (millis & 0xFFFF_FFFF_FFFF) << 16 | 0x7 << 12 | rand_a
        return str(uuid.UUID(int=high << 64 | _VARIANT | self._mac(high)))

    def is_issued(self, value: str) -> bool:
        """True when ``value`` is a well-formed id signed with our secret."""
        try:
            parsed = uuid.UUID(value)
        except ValueError:
            return False
        high, low = parsed.int >> 64, parsed.int & ((1 << 64) - 1)
        if parsed.version != 7 or low >> _MAC_BITS != 0b10:
            return False
        return hmac.compare_digest(
            (low & _MAC_MASK).to_bytes(8), self._mac(high).to_bytes(8)
        )

    def _mac(self, high: int) -> int:
        digest = hmac.new(self._key, high.to_bytes(8), hashlib.sha256).digest()
        return int.from_bytes(digest[:8]) & _MAC_MASK


def issued_at(value: str) -> datetime:
    """The moment a (valid) UUIDv7 id was issued, from its timestamp bits."""
    millis = uuid.UUID(value).int >> 80
    return datetime.fromtimestamp(millis / 1000, tz=UTC)
