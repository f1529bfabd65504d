"""API keys: who may call the API and with which scopes.

Keys are configured as SHA-256 digests (never in clear) in a JSON file
(``API_KEYS_FILE``) and/or the ``API_KEYS`` variable, each entry
``{"name": ..., "scopes": ["read", "write", "admin"], "sha256": ..., "rate_per_s": ...}``.
A presented key is hashed and compared with every configured digest in
constant time. With no key configured nobody gets in: there is no default key.

A bearer token for Prometheus can also come from a file (``METRICS_TOKEN_FILE``,
the file Prometheus' ``credentials_file`` names): it becomes a key holding only
the ``metrics`` scope (``GET /metrics``), kept as its digest like the others.

``python -m app.api_keys dev`` creates (once) a development key with every
scope, stores its digest in ``var/api-keys.json`` and prints the key; ``make
run``, ``make key`` and ``start.py`` use it. ``python -m app.api_keys new NAME
SCOPE...`` makes a key for a real deployment and prints the entry to configure.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Scope = Literal["read", "write", "admin", "metrics"]
#: ``metrics`` lets a scraper read ``/metrics`` and nothing else.
ALL_SCOPES: frozenset[str] = frozenset({"read", "write", "admin", "metrics"})
DEFAULT_RATE_PER_S = 50.0
DEV_KEY_NAME = "dev"
DEV_KEYS_FILE = Path("var/api-keys.json")
DEV_SECRET_FILE = Path("var/dev-api-key")
#: The caller name of the token read from ``METRICS_TOKEN_FILE``.
METRICS_TOKEN_NAME = "metrics-token"


@dataclass(frozen=True, slots=True)
class ApiKey:
    """One caller: its name (used as owner of its requests), scopes and rate."""

    name: str
    scopes: frozenset[str]
    digest: bytes
    rate_per_s: float = DEFAULT_RATE_PER_S

    def allows(self, scope: str) -> bool:
        """Whether this key holds ``scope`` (``admin`` holds them all)."""
        return scope in self.scopes or "admin" in self.scopes


def digest_of(secret: str) -> bytes:
    """The SHA-256 digest under which a key is stored (keys are random, 256-bit)."""
    return hashlib.sha256(secret.encode()).digest()


class KeyRing:
    """The configured keys; identifies the caller behind a presented secret."""

    def __init__(self, keys: list[ApiKey]) -> None:
        self._keys = tuple(keys)

    def __len__(self) -> int:
        return len(self._keys)

    def identify(self, secret: str) -> ApiKey | None:
        """The key whose digest matches ``secret``; every digest is compared."""
        presented = digest_of(secret)
        found = None
        for key in self._keys:
            if hmac.compare_digest(key.digest, presented):
                found = key
        return found


def parse_entries(entries: list[dict[str, Any]]) -> list[ApiKey]:
    """Keys from their JSON entries; raises ``ValueError`` naming a bad entry."""
    keys = []
    for entry in entries:
        scopes = frozenset(entry.get("scopes", ()))
        if not entry.get("name") or not scopes <= ALL_SCOPES:
            raise ValueError(f"API key entry needs a name and scopes in {sorted(ALL_SCOPES)}")
        digest = bytes.fromhex(entry["sha256"])
        rate = float(entry.get("rate_per_s", DEFAULT_RATE_PER_S))
        keys.append(ApiKey(entry["name"], scopes, digest, rate))
    return keys


def load_key_ring(
    keys_json: str | None, keys_file: Path | None, metrics_token_file: Path | None = None
) -> KeyRing:
    """The keys from ``API_KEYS``, the ``API_KEYS_FILE`` document and ``METRICS_TOKEN_FILE``."""
    entries: list[dict[str, Any]] = json.loads(keys_json) if keys_json else []
    if keys_file is not None and keys_file.exists():
        entries += json.loads(keys_file.read_text())["keys"]
    keys = parse_entries(entries)
    if metrics_token_file is not None:
        keys.append(metrics_token_key(metrics_token_file))
    return KeyRing(keys)


def metrics_token_key(token_file: Path) -> ApiKey:
    """The scraper's key: the token in ``token_file`` (surrounding blanks ignored), scope metrics.

    Raises ``ValueError`` for an empty file: a scraper without a token would
    only ever get 401s, which is better said at start-up.
    """
    token = token_file.read_text().strip()
    if not token:
        raise ValueError(f"METRICS_TOKEN_FILE {token_file} is empty: write the scraper's token")
    return ApiKey(METRICS_TOKEN_NAME, frozenset({"metrics"}), digest_of(token))


def key_entry(name: str, secret: str, scopes: frozenset[str], rate_per_s: float) -> dict[str, Any]:
    """The configuration entry (digest only) for a key."""
    return {
        "name": name,
        "scopes": sorted(scopes),
        "sha256": digest_of(secret).hex(),
        "rate_per_s": rate_per_s,
    }


def ensure_dev_key(secret_file: Path = DEV_SECRET_FILE, keys_file: Path = DEV_KEYS_FILE) -> str:
    """The development key, created with every scope on first use."""
    if secret_file.exists():
        return secret_file.read_text().strip()
    secret = "dev_" + secrets.token_urlsafe(32)
    secret_file.parent.mkdir(parents=True, exist_ok=True)
    secret_file.touch(mode=0o600)
    secret_file.write_text(secret + "\n")
    document = json.loads(keys_file.read_text()) if keys_file.exists() else {"keys": []}
    document["keys"] = [k for k in document["keys"] if k["name"] != DEV_KEY_NAME]
    document["keys"].append(key_entry(DEV_KEY_NAME, secret, ALL_SCOPES, 1000.0))
    keys_file.write_text(json.dumps(document, indent=2) + "\n")
    return secret


def new_key(name: str, scopes: frozenset[str], rate_per_s: float) -> tuple[str, dict[str, Any]]:
    """A fresh random key and its configuration entry."""
    secret = f"{name}_" + secrets.token_urlsafe(32)
    return secret, key_entry(name, secret, scopes, rate_per_s)


USAGE = """usage:
  python -m app.api_keys dev                     print the development key (created once)
  python -m app.api_keys new NAME SCOPE...       print a new key and its API_KEYS entry"""


def main(argv: list[str]) -> int:
    """Command line: the development key, or a new key for the configuration."""
    if argv == ["dev"]:
        print(ensure_dev_key())
        return 0
    if len(argv) >= 3 and argv[0] == "new" and set(argv[2:]) <= ALL_SCOPES:
        secret, entry = new_key(argv[1], frozenset(argv[2:]), DEFAULT_RATE_PER_S)
        print(f"key (give it to the caller, store it nowhere else): {secret}")
        print(f"entry for API_KEYS / API_KEYS_FILE: {json.dumps(entry)}")
        return 0
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
