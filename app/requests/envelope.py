"""What every request event carries, whatever its type: a signed correlation id, the
envelope, and the wire format.

A request event is the contract's flat JSON object: an envelope (``event_type``,
``correlation_id``, ``timestamp``, ``source``, ``target``, ``user_id``,
``schema_version``, ``replays``) followed by the command's fields. Each
concept's events extend :class:`Envelope` with its command
(:mod:`app.accounts.commands`, :mod:`app.viewing.viewing_events`,
:mod:`app.viewing.session_commands`), so an event is valid exactly when its
command would be.

Versions: every event and outcome this code writes carries ``schema_version``
(:data:`SCHEMA_VERSION`). Topics outlive code, so readers take an event
without it as version 1 (everything published before the field existed) and
refuse one newer than they know: it is dead-lettered with that reason, and can
be replayed once the reader is upgraded (``faust -A app dead-letters replay``).
The JSON Schemas of every version are published under ``docs/events/``.

Correlation ids carry their own proof of issue. An id is a standard UUIDv7: 48-bit millisecond timestamp, version, 12 random
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
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
)

from app.clock import utc_now
from app.requests.fields import UserId, UtcDateTime
from app.sealing import seal_fields

#: Header naming a request so that sending it again cannot apply it twice.
IDEMPOTENCY_HEADER = "Idempotency-Key"

_RANDOM_LOW_BITS = 30
_MAC_BITS = 32
_VARIANT = 0b10
#: A UUID's canonical text: what ``str(uuid.UUID(...))`` writes.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: Where a canonical UUID's text holds its version.
_VERSION_DIGIT = 14


class CorrelationIds:
    """Issues and verifies signed correlation ids with one shared secret."""

    def __init__(self, secret: str) -> None:
        self._key = secret.encode()

    def issue(self, owner: str) -> str:
        """A new id for ``owner``: UUIDv7 timestamped now, signed in its low 32 bits."""
        millis = time.time_ns() // 1_000_000
        random = int.from_bytes(os.urandom(6))  # one system call for both random fields
        rand_a = random >> 32 & 0x0FFF
        rand_b = (random & 0xFFFF_FFFF) >> (32 - _RANDOM_LOW_BITS)
        unsigned = (millis & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | rand_a << 64
        unsigned |= _VARIANT << 62 | rand_b << _MAC_BITS
        return _canonical(unsigned | self._mac(unsigned, owner))

    def derive(self, owner: str, idempotency_key: str) -> str:
        """The id of ``owner``'s request sent with ``idempotency_key``: always the same."""
        seed = hmac.new(self._key, f"{owner}\0{idempotency_key}".encode(), hashlib.sha256)
        bits = int.from_bytes(seed.digest()[:16])
        unsigned = bits & ~(0xF << 76) | 0x8 << 76  # version 8: custom, not time-ordered
        unsigned = unsigned & ~(0b11 << 62) | _VARIANT << 62
        unsigned = unsigned >> _MAC_BITS << _MAC_BITS
        return _canonical(unsigned | self._mac(unsigned, owner))

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
        # hmac.digest: OpenSSL's one-shot HMAC, without building an HMAC object per id.
        return int.from_bytes(hmac.digest(self._key, message, "sha256")[:4])


def _canonical(bits: int) -> str:
    """The 128 ``bits`` as a UUID's canonical text: what ``str(uuid.UUID(int=bits))`` gives.

    Formatted directly: every request issues one, and ``uuid.UUID``'s checks
    and properties are Python code the request would pay for.
    """
    digits = f"{bits:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def issued_at(value: str) -> datetime | None:
    """When a (valid) id was issued: UUIDv7 timestamp bits; ``None`` for derived ids."""
    parsed = uuid.UUID(value)
    if parsed.version != 7:
        return None
    return datetime.fromtimestamp((parsed.int >> 80) / 1000, tz=UTC)


def is_derived(value: str) -> bool:
    """Whether a (valid) id was derived from an ``Idempotency-Key`` (UUIDv8), not issued."""
    return value[_VERSION_DIGIT] == "8"


EVENT_SOURCE = "api"
EVENT_TARGET = "processor"
RESPONSE_SOURCE = "processor"
RESPONSE_TARGET = "api"

#: The version of the event formats this code writes (one for every topic).
SCHEMA_VERSION = 1
SchemaVersion = Annotated[
    int,
    Field(
        ge=1,
        le=SCHEMA_VERSION,
        description="Versão do formato do evento; ausente nos eventos da versão 1",
    ),
]
#: How many times an operator re-sent the event from the dead letters.
Replays = Annotated[
    int, Field(ge=0, description="Quantas vezes o evento foi reenviado das dead letters")
]


def replays_in(fields: object) -> int:
    """The ``replays`` count of a parsed event, 0 when it has none (or a malformed one)."""
    value = fields.get("replays") if isinstance(fields, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return 0


def check_uuid(value: str) -> str:
    """A correlation id must be a UUID in its canonical text form (lowercase, hyphenated).

    A pattern, where ``str(uuid.UUID(value)) == value`` says the same at about
    three times the cost: every event and outcome read is checked.
    """
    if _CANONICAL_UUID.fullmatch(value) is None:
        raise ValueError("correlation_id deve ser um UUID canônico")
    return value


CorrelationId = Annotated[
    str, Field(max_length=36, json_schema_extra={"format": "uuid"}), AfterValidator(check_uuid)
]


class Envelope(BaseModel):
    """Fields every request event carries, whatever its type (each type fixes ``event_type``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: str
    correlation_id: CorrelationId
    timestamp: UtcDateTime = Field(default_factory=utc_now)
    source: str = EVENT_SOURCE
    target: str = EVENT_TARGET
    user_id: UserId
    #: Name of the API key that made the request (never the key itself): only
    #: that caller, or an admin, may read the request's status and trail.
    requested_by: str | None = Field(None, max_length=64)
    schema_version: SchemaVersion = SCHEMA_VERSION
    #: Raised by each replay of a dead letter: the outcome of a later replay
    #: supersedes an earlier final status (:meth:`app.requests.outcomes.StatusRecord.may_replace`).
    replays: Replays = 0


#: The envelope's field names: what an event adds around its command's fields.
ENVELOPE_FIELDS = frozenset(Envelope.model_fields)


def encode_event(event: Envelope) -> bytes:
    """The event as the contract's flat JSON object, ``event_type`` first."""
    return orjson.dumps({"event_type": event.event_type, **event.model_dump(mode="json")})


def encode_sealed_event(event: Envelope, key: bytes) -> bytes:
    """The event as :func:`encode_event` writes it, its personal fields sealed with ``key``.

    The person's key (:mod:`app.sealing`): only a reader holding it sees them.
    """
    fields = seal_fields(key, event.user_id, event.model_dump(mode="json"))
    return orjson.dumps({"event_type": event.event_type, **fields})


def command_fields(event: Envelope) -> dict[str, Any]:
    """The command's fields of ``event``, as JSON values, without the envelope."""
    return event.model_dump(mode="json", exclude=set(ENVELOPE_FIELDS))
