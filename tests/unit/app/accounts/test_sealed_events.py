"""app.accounts.sealed_events: sign-ups sealed by the API decode with their key, and only with it."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest

from app.accounts.commands import PaymentMade, UserCreated, UserErased
from app.accounts.sealed_events import ShreddedSignup, decode_sealed_user_event, sealed_user_ids
from app.requests.envelope import encode_event, encode_sealed_event
from app.sealing import PERSONAL_FIELDS, KeyUnavailable, new_key
from demo.people import demo_payment, demo_user

USER = 4242


def envelope(user_id: int = USER) -> dict[str, Any]:
    return {"correlation_id": str(uuid.uuid4()), "user_id": user_id, "requested_by": "tests"}


def signup(user_id: int = USER) -> UserCreated:
    return UserCreated(**envelope(user_id), **demo_user().model_dump())


def test_a_sealed_signup_holds_none_of_the_persons_fields_in_clear() -> None:
    event = signup()
    raw = encode_sealed_event(event, new_key())
    for value in (event.nome, event.email, event.cpf):
        assert value.encode() not in raw
    assert orjson.loads(raw)["user_id"] == USER


def test_a_sealed_signup_decodes_with_its_persons_key_to_the_event_sent() -> None:
    key = new_key()
    event = signup()
    decoded = decode_sealed_user_event(encode_sealed_event(event, key), {USER: key})
    assert decoded == event


def test_a_sealed_signup_read_after_its_person_was_erased_keeps_only_its_envelope() -> None:
    event = signup()
    shredded = decode_sealed_user_event(encode_sealed_event(event, new_key()), {})
    assert isinstance(shredded, ShreddedSignup)
    assert (shredded.correlation_id, shredded.user_id) == (event.correlation_id, USER)
    # What the ledger gets: it answers a known correlation id, and refuses an unknown one.
    applied = shredded.model_dump(mode="json")
    assert applied["event_type"] == "criar_usuario"
    assert not set(PERSONAL_FIELDS) & set(applied)


def test_a_sealed_signup_that_its_persons_key_does_not_open_is_refused() -> None:
    raw = encode_sealed_event(signup(), new_key())
    with pytest.raises(KeyUnavailable):
        decode_sealed_user_event(raw, {USER: new_key()})


def test_events_without_sealed_fields_decode_as_they_are() -> None:
    payment = PaymentMade(**envelope(), **demo_payment().model_dump())
    erasure = UserErased(**envelope())
    assert decode_sealed_user_event(encode_event(payment), {}) == payment
    assert decode_sealed_user_event(encode_event(erasure), {}) == erasure
    assert decode_sealed_user_event(encode_event(signup()), {}).event_type == "criar_usuario"


def test_the_keys_a_batch_needs_are_those_of_its_sealed_values() -> None:
    key = new_key()
    batch = [
        encode_sealed_event(signup(7), key),
        encode_sealed_event(signup(3), key),
        encode_sealed_event(signup(7), key),
        encode_event(signup(9)),
        b"not json, pii:v1:x",
        None,
    ]
    assert sealed_user_ids(batch) == [3, 7]


def test_a_sealed_value_without_a_user_id_is_refused() -> None:
    fields = orjson.loads(encode_sealed_event(signup(), new_key()))
    del fields["user_id"]
    with pytest.raises(ValueError, match="user_id"):
        decode_sealed_user_event(orjson.dumps(fields), {})
