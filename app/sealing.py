"""Sealing personal fields with the person's own key (crypto-shredding).

A person's ``nome``, ``email`` and ``cpf`` travel in events sealed with an
AES-256-GCM key of their own (kept in PostgreSQL, ``chaves_titulares``). A
sealed value is text, ``pii:v1:`` followed by the URL-safe base64 of a random
96-bit nonce and the ciphertext with its tag. The associated data binds it
to the person and the field: a sealed CPF cannot be passed off as another
person's, or as their e-mail. Destroying the key makes every copy of every
sealed value unreadable at once, wherever it was copied to (topics,
changelogs, dead letters, replays): see ``docs/privacy.md``.

Pure functions; the keys are handed in by the caller.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

#: The fields of a person that are sealed wherever they travel.
PERSONAL_FIELDS = ("nome", "email", "cpf")
SEALED_PREFIX = "pii:v1:"
KEY_BYTES = 32
_NONCE_BYTES = 12


class KeyUnavailable(ValueError):
    """A sealed value whose key is gone (the person was erased) or is not this one."""


def new_key() -> bytes:
    """A fresh random AES-256 key for one person."""
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def is_sealed(value: object) -> bool:
    """Whether ``value`` is a sealed personal value."""
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)


def _associated_data(user_id: int, field: str) -> bytes:
    return f"{user_id}:{field}".encode()


def seal(key: bytes, user_id: int, field: str, value: str) -> str:
    """``value`` (a field of person ``user_id``) sealed with their key."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, value.encode(), _associated_data(user_id, field))
    return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(key: bytes | None, user_id: int, field: str, value: str) -> str:
    """The clear text of a sealed ``value``; :class:`KeyUnavailable` without the right key."""
    if key is None:
        raise KeyUnavailable(f"{field}: chave do titular {user_id} inexistente (dados apagados)")
    try:
        blob = base64.urlsafe_b64decode(value[len(SEALED_PREFIX) :])
        nonce, sealed = blob[:_NONCE_BYTES], blob[_NONCE_BYTES:]
        clear = AESGCM(key).decrypt(nonce, sealed, _associated_data(user_id, field))
    except (InvalidTag, ValueError) as exc:
        raise KeyUnavailable(f"{field}: valor cifrado ilegível com a chave do titular") from exc
    return clear.decode()


def seal_fields(key: bytes, user_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``fields`` with each personal field sealed (the others as they are)."""
    return {
        name: seal(key, user_id, name, value)
        if name in PERSONAL_FIELDS and isinstance(value, str)
        else value
        for name, value in fields.items()
    }


def unseal_fields(key: bytes | None, user_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``fields`` with each sealed personal field in clear (others untouched)."""
    return {
        name: unseal(key, user_id, name, value) if is_sealed(value) else value
        for name, value in fields.items()
    }


def holds_sealed(fields: Iterable[Any]) -> bool:
    """Whether any of ``fields`` (values) is sealed."""
    return any(is_sealed(value) for value in fields)
