"""Signed correlation ids: issued ones verify, others do not."""

import uuid
from datetime import UTC, datetime, timedelta

from app.requests.correlation import CorrelationIds, is_derived, issued_at


def test_issued_ids_are_uuid7_and_verify() -> None:
    ids = CorrelationIds("secret")
    value = ids.issue("alice")
    assert uuid.UUID(value).version == 7
    assert ids.is_issued(value, "alice")


def test_ids_signed_with_another_secret_or_altered_do_not_verify() -> None:
    value = CorrelationIds("secret").issue("alice")
    altered = value[:-1] + ("0" if value[-1] != "0" else "1")
    assert not CorrelationIds("other").is_issued(value, "alice")
    assert not CorrelationIds("secret").is_issued(altered, "alice")


def test_random_uuids_and_garbage_do_not_verify() -> None:
    ids = CorrelationIds("secret")
    assert not ids.is_issued(str(uuid.uuid4()), "alice")
    assert not ids.is_issued("not-a-uuid", "alice")
    assert not ids.is_issued("", "alice")


def test_issue_time_is_read_back_from_the_id() -> None:
    value = CorrelationIds("secret").issue("alice")
    assert abs(issued_at(value) - datetime.now(UTC)) < timedelta(seconds=2)


def test_only_an_id_derived_from_an_idempotency_key_reads_as_derived() -> None:
    ids = CorrelationIds("secret")
    assert is_derived(ids.derive("alice", "pedido-1"))
    assert not is_derived(ids.issue("alice"))


def test_ids_are_unique_even_when_many_share_a_millisecond() -> None:
    ids = CorrelationIds("secret")
    assert len({ids.issue("alice") for _ in range(200_000)}) == 200_000


def test_uppercase_spelling_of_an_id_is_not_the_issued_id() -> None:
    ids = CorrelationIds("secret")
    assert not ids.is_issued(ids.issue("alice").upper(), "alice")


def test_an_id_verifies_only_for_the_caller_it_was_issued_to() -> None:
    ids = CorrelationIds("secret")
    value = ids.issue("alice")
    assert ids.is_issued(value, "alice")
    assert not ids.is_issued(value, "bob")


def test_derived_ids_repeat_for_one_caller_and_key_and_verify() -> None:
    ids = CorrelationIds("secret")
    first = ids.derive("alice", "pedido-42")
    assert ids.derive("alice", "pedido-42") == first
    assert uuid.UUID(first).version == 8
    assert ids.is_issued(first, "alice")
    assert not ids.is_issued(first, "bob")
    assert ids.derive("bob", "pedido-42") != first
    assert ids.derive("alice", "pedido-43") != first
    assert issued_at(first) is None
