"""Opening the sealed personal fields of ``user_events`` values before they are decoded.

The API seals a sign-up's ``nome``, ``email`` and ``cpf`` with the person's key
(:mod:`app.sealing`); the accounts agent fetches the keys a batch needs
(:func:`sealed_user_ids`) and decodes each value with them
(:func:`decode_sealed_user_event`). A value without sealed fields (written
before sealing existed, or by a tool that bypasses the API) decodes as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import orjson

from app.accounts.commands import UserEvent, decode_user_event
from app.sealing import SEALED_PREFIX, unseal_fields

_SEALED = SEALED_PREFIX.encode()


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


def decode_sealed_user_event(raw: bytes, keys: Mapping[int, bytes]) -> UserEvent:
    """The event ``raw`` holds, its sealed fields opened with its user's key from ``keys``.

    Raises ``ValueError`` if unusable, :class:`app.sealing.KeyUnavailable` when
    the key is gone (the person was erased): either way the event is refused.
    """
    if _SEALED not in raw:
        return decode_user_event(raw)
    fields = orjson.loads(raw)
    user_id = _user_id(raw)
    if user_id is None:
        raise ValueError("user_id ausente ou inválido em um evento com campos cifrados")
    return decode_user_event(orjson.dumps(unseal_fields(keys.get(user_id), user_id, fields)))
