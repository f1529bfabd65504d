"""Opening the sealed personal fields of ``user_events`` values before they are decoded.

The API seals a sign-up's ``nome``, ``email`` and ``cpf`` with the person's key
(:mod:`app.sealing`); the accounts agent fetches the keys a batch needs
(:func:`sealed_user_ids`) and decodes each value with them
(:func:`decode_sealed_user_event`). A value without sealed fields (written
before sealing existed, or by a tool that bypasses the API) decodes as it is.

A sealed sign-up whose person was erased (their key is gone) decodes as a
:class:`ShreddedSignup`: its envelope, without the unreadable fields. It is
read again only as a redelivery or a replay (an erasure comes after its
sign-up was applied), so the ledger answers it with the outcome it recorded,
and nothing is applied twice; one the ledger never saw is refused there as
invalid (its fields are gone for good).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, TypeAlias

import orjson

from app.accounts.commands import UserEvent, decode_user_event
from app.requests.envelope import Envelope
from app.requests.fields import UtcDateTime
from app.sealing import PERSONAL_FIELDS, SEALED_PREFIX, unseal_fields

_SEALED = SEALED_PREFIX.encode()


class ShreddedSignup(Envelope):
    """A sealed ``criar_usuario`` read after its person's key was destroyed: no personal field."""

    event_type: Literal["criar_usuario"] = "criar_usuario"
    data_criacao: UtcDateTime | None = None


#: What the accounts agent applies: a decoded event, or a sign-up whose fields are gone.
AccountEvent: TypeAlias = UserEvent | ShreddedSignup


def sealed_user_ids(values: Iterable[bytes | None]) -> list[int]:
    """The users whose keys the sealed values among ``values`` need."""
    user_ids: set[int] = set()
    for raw in values:
        if raw is None or _SEALED not in raw:
            continue
        user_id = _user_id(raw)
        if user_id is not None:
            user_ids.add(user_id)
    return sorted(user_ids)


def _user_id(raw: bytes) -> int | None:
    try:
        fields = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    value = fields.get("user_id") if isinstance(fields, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def decode_sealed_user_event(raw: bytes, keys: Mapping[int, bytes]) -> AccountEvent:
    """The event ``raw`` holds, its sealed fields opened with its user's key from ``keys``.

    A :class:`ShreddedSignup` when the user has no key any more. Raises
    ``ValueError`` if unusable, :class:`app.sealing.KeyUnavailable` when a
    sealed field does not open with the user's key: the event is refused.
    """
    if _SEALED not in raw:
        return decode_user_event(raw)
    fields = orjson.loads(raw)
    user_id = _user_id(raw)
    if user_id is None:
        raise ValueError("user_id ausente ou inválido em um evento com campos cifrados")
    key = keys.get(user_id)
    if key is None and fields.get("event_type") == "criar_usuario":
        readable = {name: value for name, value in fields.items() if name not in PERSONAL_FIELDS}
        return ShreddedSignup.model_validate(readable)
    return decode_user_event(orjson.dumps(unseal_fields(key, user_id, fields)))
