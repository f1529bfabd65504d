"""API keys: configured as digests, identified in constant time, never by default."""

import json
from pathlib import Path

import pytest

from app.api_keys import (
    ALL_SCOPES,
    KeyRing,
    ensure_dev_key,
    key_entry,
    load_key_ring,
    metrics_token_key,
    parse_entries,
)


def ring(*entries: dict[str, object]) -> KeyRing:
    return KeyRing(parse_entries(list(entries)))  # type: ignore[arg-type]


def test_a_configured_key_is_identified_by_its_secret() -> None:
    keys = ring(key_entry("alice", "s3cret-a", frozenset({"read"}), 5))
    caller = keys.identify("s3cret-a")
    assert caller is not None and caller.name == "alice" and caller.rate_per_s == 5
    assert keys.identify("s3cret-b") is None


def test_no_configuration_means_no_key_gets_in() -> None:
    keys = load_key_ring(None, None)
    assert len(keys) == 0
    assert keys.identify("anything") is None


def test_admin_holds_every_scope_and_others_only_theirs() -> None:
    keys = ring(
        key_entry("ops", "k1", frozenset({"admin"}), 1),
        key_entry("app", "k2", frozenset({"write"}), 1),
    )
    ops, app = keys.identify("k1"), keys.identify("k2")
    assert ops is not None and all(ops.allows(s) for s in ALL_SCOPES)
    assert app is not None and app.allows("write") and not app.allows("read")


def test_configuration_holds_no_secret_in_clear() -> None:
    entry = key_entry("alice", "s3cret-a", frozenset({"read"}), 5)
    assert "s3cret-a" not in json.dumps(entry)


@pytest.mark.parametrize(
    "entry",
    [{"scopes": ["read"], "sha256": "00"}, {"name": "x", "scopes": ["root"], "sha256": "00"}],
)
def test_bad_entries_are_refused(entry: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        parse_entries([entry])  # type: ignore[list-item]


def test_keys_come_from_the_environment_and_the_file_together(tmp_path: Path) -> None:
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps({"keys": [key_entry("f", "from-file", ALL_SCOPES, 1)]}))
    env = json.dumps([key_entry("e", "from-env", ALL_SCOPES, 1)])
    keys = load_key_ring(env, keys_file)
    assert {keys.identify("from-file").name, keys.identify("from-env").name} == {"f", "e"}  # type: ignore[union-attr]


def test_dev_key_is_created_once_and_stored_hashed(tmp_path: Path) -> None:
    secret_file, keys_file = tmp_path / "dev-key", tmp_path / "keys.json"
    first = ensure_dev_key(secret_file, keys_file)
    assert ensure_dev_key(secret_file, keys_file) == first
    assert first not in keys_file.read_text()
    caller = load_key_ring(None, keys_file).identify(first)
    assert caller is not None and caller.scopes == ALL_SCOPES
    assert secret_file.stat().st_mode & 0o077 == 0


def test_the_metrics_token_file_gives_a_key_that_only_reads_metrics(tmp_path: Path) -> None:
    token_file = tmp_path / "metrics-token"
    token_file.write_text("scrape-me-7f3a\n")
    caller = load_key_ring(None, None, token_file).identify("scrape-me-7f3a")
    assert caller is not None and caller.allows("metrics")
    assert not any(caller.allows(scope) for scope in ALL_SCOPES - {"metrics"})


def test_an_empty_metrics_token_file_is_refused(tmp_path: Path) -> None:
    token_file = tmp_path / "metrics-token"
    token_file.write_text(" \n")
    with pytest.raises(ValueError, match="is empty"):
        metrics_token_key(token_file)


def test_a_key_entry_may_hold_the_metrics_scope_alone() -> None:
    keys = ring(key_entry("prometheus", "k3", frozenset({"metrics"}), 1))
    caller = keys.identify("k3")
    assert caller is not None and caller.allows("metrics") and not caller.allows("read")
