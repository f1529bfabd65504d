"""Masking personal data before it leaves the core flow (logs, Elasticsearch, Kibana).

Two layers, both pure and idempotent (masking a masked value changes nothing):

* by field: any key named ``cpf``, ``email`` or ``nome`` (any case, at any depth)
  gets its field-specific mask: ``***.***.***-25``, ``a***@dominio.com``, ``A. M. B.``;
* by shape: every other string is scanned for CPF- and e-mail-looking substrings,
  and for ``"cpf"/"email"/"nome": "..."`` pairs written inside text (a dead
  letter's raw payload, an event that is not even JSON), which are masked too.

A sealed value (:mod:`app.sealing`) is shown as ``[cifrado]``, whatever its key:
the event log never holds a person's fields, not even sealed.

A name written in free text without its key cannot be recognised; everything
else that is not personal (plans, amounts, ids, dates) is left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from app.sealing import SEALED_PREFIX, is_sealed

# Not glued to other letters or digits: a UUID's last group can hold 11 digits.
_CPF_TEXT = r"(?<![0-9A-Za-z])\d{3}\.?\d{3}\.?\d{3}-?\d{2}(?![0-9A-Za-z])"
# Bounded repetitions (RFC 5321 lengths): a long run without "@" stays linear to scan.
_EMAIL_TEXT = r"[^\s@\"'<>(),;:\\/*]{1,64}@[^\s@\"'<>(),;:\\/]{1,253}\.[A-Za-z]{2,63}"
# A "key": "value" pair inside text, in JSON or Python-repr quoting.
_PAIR_TEXT = (
    r"""(?P<head>(?P<q>["'])(?P<key>cpf|email|nome)(?P=q)\s{0,8}:\s{0,8}(?P<vq>["']))"""
    r"""(?P<value>(?:\\.|(?!(?P=vq)).){0,1024})(?P=vq)"""
)
_PAIR_OR_CPF = re.compile(f"(?P<pair>{_PAIR_TEXT})|(?P<cpf>{_CPF_TEXT})", re.IGNORECASE)
# Separate, and only run on text holding an "@": an e-mail can start anywhere, so
# its scan is the expensive one.
_EMAIL = re.compile(_EMAIL_TEXT)
_WORD = re.compile(r"[^\W\d_]+")
_NAME_PARTICLES = frozenset({"da", "das", "de", "do", "dos", "e", "di", "du", "del"})
#: What a sealed personal value becomes in the event log.
SEALED_MASK = "[cifrado]"
# A sealed value's text (the prefix, then URL-safe base64), wherever it is written.
_SEALED_TEXT = re.compile(re.escape(SEALED_PREFIX) + r"[A-Za-z0-9_=-]+")
#: Shortest string that can hold an e-mail address or a CPF: shorter ones skip the scan.
_MIN_SCANNED = 6


def _sealed(value: object) -> bool:
    """Sealed, or already shown as sealed (masking stays idempotent)."""
    return is_sealed(value) or value == SEALED_MASK


def mask_cpf(value: object) -> str:
    """``123.456.789-25`` -> ``***.***.***-25``: only the check digits stay."""
    if _sealed(value):
        return SEALED_MASK
    digits = re.sub(r"\D", "", str(value))
    return f"***.***.***-{digits[-2:]}" if len(digits) >= 2 else "***"


def mask_email(value: object) -> str:
    """``ana.maria@dominio.com`` -> ``a***@dominio.com``."""
    if _sealed(value):
        return SEALED_MASK
    local, at, domain = str(value).strip().rpartition("@")
    if not at or not local:
        return "***"
    return f"{local[0]}***@{domain}"


def mask_name(value: object) -> str:
    """``Ana Maria da Silva`` -> ``A. M. S.``: initials only, particles dropped."""
    if _sealed(value):
        return SEALED_MASK
    words = _WORD.findall(str(value))
    initials = [w[0].upper() + "." for w in words if w.lower() not in _NAME_PARTICLES]
    return " ".join(initials) or "***"


_FIELD_MASKS: dict[str, Callable[[object], str]] = {
    "cpf": mask_cpf,
    "email": mask_email,
    "nome": mask_name,
}


def mask_text(text: str) -> str:
    """``text`` with every CPF, e-mail and personal ``"key": "value"`` pair masked."""
    if len(text) < _MIN_SCANNED:
        return text
    if SEALED_PREFIX in text:
        text = _SEALED_TEXT.sub(SEALED_MASK, text)
    text = _PAIR_OR_CPF.sub(_mask_match, text)
    return _EMAIL.sub(_mask_email_match, text) if "@" in text else text


def _mask_match(match: re.Match[str]) -> str:
    if match.group("pair") is not None:
        field_mask = _FIELD_MASKS[match.group("key").lower()]
        return match.group("head") + field_mask(match.group("value")) + match.group("vq")
    return mask_cpf(match.group("cpf"))


def _mask_email_match(match: re.Match[str]) -> str:
    return mask_email(match.group())


def mask(value: Any) -> Any:
    """A copy of ``value`` (decoded JSON) with personal data masked at any depth."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {key: _mask_item(key, item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask(item) for item in value]
    return value


def _mask_item(key: object, value: Any) -> Any:
    # The hot path of every logged event: plain values return early.
    if isinstance(value, int | float | bool) or value is None:
        field_mask = _FIELD_MASKS.get(key.lower()) if isinstance(key, str) else None
        return value if field_mask is None or value is None else field_mask(value)
    if isinstance(value, str):
        field_mask = _FIELD_MASKS.get(key.lower()) if isinstance(key, str) else None
        return mask_text(value) if field_mask is None else field_mask(value)
    return mask(value)
