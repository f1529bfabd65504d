"""Correlation ids: UUIDv7 values that carry their own proof of issue.

An id is a standard UUIDv7: 48-bit millisecond timestamp, version, 12 random
bits, variant, then 62 bits that we split into 30 more random bits and a
32-bit truncated HMAC of everything before it. So any worker can tell, without
a lookup, whether an id was issued by this system: ``GET /status`` answers
``pendente`` for an issued id whose outcome has not landed yet, and 404 for an
id that was never issued. (42 random bits per millisecond keep ids unique; the
MAC is a guard against typos and guessing, not an authorisation check.)

The MAC also covers the name of the caller the id was issued to, so an id in
flight reads as ``pendente`` to its owner only; anyone else gets 404.

A request sent with an ``Idempotency-Key`` gets a *derived* id instead: a
UUIDv8 whose bits come from an HMAC of the caller and the key, signed the same
way. Sending the request again with the same key yields the same id, so the
processing ledger applies it once, however many times it is sent.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
import uuid
from datetime import UTC, datetime

#: Header naming a request so that sending it again cannot apply it twice.
IDEMPOTENCY_HEADER = "Idempotency-Key"

_RANDOM_LOW_BITS = 30
_MAC_BITS = 32
_VARIANT = 0b10


class CorrelationIds:
    """Issues and verifies signed correlation ids with one shared secret."""

    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def issue(self, owner: str) -> str:
        """A new id for ``owner``: UUIDv7 timestamped now, signed in its low 32 bits."""
        millis = time.time_ns() // 1_000_000
        rand_a = int.from_bytes(os.urandom(2)) & 0x0FFF
        rand_b = int.from_bytes(os.urandom(4)) >> (32 - _RANDOM_LOW_BITS)
        unsigned = (millis & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | rand_a << 64
        unsigned |= _VARIANT << 62 | rand_b << _MAC_BITS
        return str(uuid.UUID(int=unsigned | self._mac(unsigned, owner)))

    def derive(self, owner: str, idempotency_key: str) -> str:
        """The id of ``owner``'s request sent with ``idempotency_key``: always the same."""
        seed = hmac.new(self._key, f"{owner}\0{idempotency_key}".encode(), hashlib.sha256)
        bits = int.from_bytes(seed.digest()[:16])
        unsigned = bits & ~(0xF << 76) | 0x8 << 76  # version 8: custom, not time-ordered
        unsigned = unsigned & ~(0b11 << 62) | _VARIANT << 62
        unsigned = unsigned >> _MAC_BITS << _MAC_BITS
        return str(uuid.UUID(int=unsigned | self._mac(unsigned, owner)))

    def is_issued(self, value: str, owner: str) -> bool:
        """True when ``value`` is a well-formed id we issued to (or derived for) ``owner``."""
        try:
            parsed = uuid.UUID(value)
        except ValueError:
            return False
        if parsed.version not in (7, 8) or str(parsed) != value:
            return False
        unsigned = parsed.int >> _MAC_BITS << _MAC_BITS
        mac = parsed.int & ((1 << _MAC_BITS) - 1)
        return hmac.compare_digest(mac.to_bytes(4), self._mac(unsigned, owner).to_bytes(4))

    def _mac(self, unsigned: int, owner: str) -> int:
        message = unsigned.to_bytes(16) + owner.encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return int.from_bytes(digest[:4])


def issued_at(value: str) -> datetime | None:
    """When a (valid) id was issued: UUIDv7 timestamp bits; ``None`` for derived ids."""
    parsed = uuid.UUID(value)
    if parsed.version != 7:
        return None
    return datetime.fromtimestamp((parsed.int >> 80) / 1000, tz=UTC)


def is_derived(value: str) -> bool:
    """Whether a (valid) id was derived from an ``Idempotency-Key`` (UUIDv8), not issued."""
    return uuid.UUID(value).version == 8
