"""app.sealing: a person's fields sealed with their key, readable with it and only with it."""

from __future__ import annotations

import base64

import pytest

from app.sealing import (
    KEY_BYTES,
    PERSONAL_FIELDS,
    SEALED_PREFIX,
    KeyUnavailable,
    holds_sealed,
    is_sealed,
    new_key,
    seal,
    seal_fields,
    unseal,
    unseal_fields,
)

USER = 4242
CPF = "529.982.247-25"
PERSON = {"nome": "Ana Maria Braga", "email": "ana.maria@example.com", "cpf": CPF}


def test_a_sealed_value_opens_with_its_key_to_the_same_text() -> None:
    key = new_key()
    sealed = seal(key, USER, "cpf", CPF)
    assert is_sealed(sealed)
    assert unseal(key, USER, "cpf", sealed) == CPF


def test_a_sealed_value_shows_nothing_of_the_clear_text_not_even_decoded() -> None:
    sealed = seal(new_key(), USER, "email", PERSON["email"])
    blob = base64.urlsafe_b64decode(sealed.removeprefix(SEALED_PREFIX))
    assert PERSON["email"] not in sealed
    assert PERSON["email"].encode() not in blob
    assert b"ana.maria" not in blob


def test_sealing_the_same_value_twice_gives_different_texts() -> None:
    key = new_key()
    assert seal(key, USER, "cpf", CPF) != seal(key, USER, "cpf", CPF)


def test_keys_are_random_and_256_bits() -> None:
    first, second = new_key(), new_key()
    assert len(first) == KEY_BYTES == 32
    assert first != second


def test_another_key_cannot_open_a_sealed_value() -> None:
    sealed = seal(new_key(), USER, "cpf", CPF)
    with pytest.raises(KeyUnavailable, match="ilegível"):
        unseal(new_key(), USER, "cpf", sealed)


def test_a_destroyed_key_leaves_the_value_unreadable() -> None:
    sealed = seal(new_key(), USER, "cpf", CPF)
    with pytest.raises(KeyUnavailable, match="inexistente"):
        unseal(None, USER, "cpf", sealed)


@pytest.mark.parametrize(("user_id", "field"), [(USER + 1, "cpf"), (USER, "email")])
def test_a_sealed_value_cannot_pass_for_another_person_or_another_field(
    user_id: int, field: str
) -> None:
    key = new_key()
    sealed = seal(key, USER, "cpf", CPF)
    with pytest.raises(KeyUnavailable):
        unseal(key, user_id, field, sealed)


def test_a_tampered_sealed_value_is_refused() -> None:
    key = new_key()
    sealed = seal(key, USER, "cpf", CPF)
    tampered = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    with pytest.raises(KeyUnavailable):
        unseal(key, USER, "cpf", tampered)


def test_sealing_fields_seals_the_personal_ones_only_and_opens_back() -> None:
    key = new_key()
    fields = {**PERSON, "user_id": USER, "plano": "Premium", "correlation_id": "c"}
    sealed = seal_fields(key, USER, fields)
    assert {name for name, value in sealed.items() if is_sealed(value)} == set(PERSONAL_FIELDS)
    assert {k: sealed[k] for k in ("user_id", "plano", "correlation_id")} == {
        "user_id": USER,
        "plano": "Premium",
        "correlation_id": "c",
    }
    assert holds_sealed(sealed.values())
    assert not holds_sealed(fields.values())
    assert unseal_fields(key, USER, sealed) == fields


def test_opening_fields_without_the_key_fails_but_clear_fields_need_none() -> None:
    sealed = seal_fields(new_key(), USER, PERSON)
    with pytest.raises(KeyUnavailable):
        unseal_fields(None, USER, sealed)
    assert unseal_fields(None, USER, {"plano": "Básico"}) == {"plano": "Básico"}
