"""app.masking: personal data masked by field name and by shape, nothing else touched."""

from __future__ import annotations

import pytest

from app.masking import SEALED_MASK, mask, mask_cpf, mask_email, mask_name, mask_text
from app.sealing import SEALED_PREFIX, new_key, seal_fields

CORRELATION_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.mark.parametrize(
    ("cpf", "masked"),
    [
        ("123.456.789-25", "***.***.***-25"),
        ("12345678925", "***.***.***-25"),
        (12345678925, "***.***.***-25"),
        ("1", "***"),
    ],
)
def test_cpf_keeps_only_its_check_digits(cpf: object, masked: str) -> None:
    assert mask_cpf(cpf) == masked


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("ana.maria@dominio.com", "a***@dominio.com"),
        ("x@y.com.br", "x***@y.com.br"),
        ("no-at", "***"),
    ],
)
def test_email_keeps_first_letter_and_domain(email: str, masked: str) -> None:
    assert mask_email(email) == masked


@pytest.mark.parametrize(
    ("name", "initials"),
    [
        ("Ana Maria Braga", "A. M. B."),
        ("João da Silva", "J. S."),
        ("ângela  dos   Santos", "Â. S."),
        ("", "***"),
    ],
)
def test_name_becomes_initials(name: str, initials: str) -> None:
    assert mask_name(name) == initials


def test_fields_are_masked_at_any_depth_and_nothing_else_changes() -> None:
    event = {
        "event_type": "criar_usuario",
        "correlation_id": CORRELATION_ID,
        "user_id": 12345678901,
        "Nome": "Ana Maria Braga",
        "email": "ana@dominio.com",
        "cpf": "123.456.789-25",
        "dados": {"plano": "Premium", "valor": "39.90", "titular": {"cpf": 12345678925}},
        "pagamentos": [{"valor": 19.9, "email": "b@c.org"}],
    }
    assert mask(event) == {
        "event_type": "criar_usuario",
        "correlation_id": CORRELATION_ID,
        "user_id": 12345678901,
        "Nome": "A. M. B.",
        "email": "a***@dominio.com",
        "cpf": "***.***.***-25",
        "dados": {"plano": "Premium", "valor": "39.90", "titular": {"cpf": "***.***.***-25"}},
        "pagamentos": [{"valor": 19.9, "email": "b***@c.org"}],
    }


def test_free_text_cpfs_and_emails_are_masked() -> None:
    text = "CPF 123.456.789-25 (ou 98765432100) já usado por ana.maria@dominio.com."
    assert (
        mask_text(text) == "CPF ***.***.***-25 (ou ***.***.***-00) já usado por a***@dominio.com."
    )


def test_personal_pairs_inside_text_are_masked_json_or_repr() -> None:
    payload = '{"nome": "Ana \\"Zé\\" Braga", "cpf": 12345678925, "plano": "Básico"'  # truncated
    assert mask_text(payload) == '{"nome": "A. Z. B.", "cpf": ***.***.***-25, "plano": "Básico"'
    assert mask_text("{'nome': 'Ana Braga', 'x': 1}") == "{'nome': 'A. B.', 'x': 1}"


def test_ids_dates_and_amounts_in_text_are_not_mistaken_for_cpfs() -> None:
    text = f"{CORRELATION_ID} 2024-01-15T10:00:00.123456789Z 123456789012 valor 12345.67"
    assert mask_text(text) == text


def test_masking_is_idempotent() -> None:
    event = {"nome": "Ana Maria", "email": "ana@x.com", "cpf": "123.456.789-25", "msg": "ana@x.com"}
    once = mask(event)
    assert mask(once) == once


def test_sealed_personal_values_are_shown_as_sealed_even_in_text() -> None:
    key = new_key()
    sealed = seal_fields(key, 7, {"nome": "Ana Braga", "email": "ana@x.com", "cpf": "12345678925"})
    assert mask(sealed) == {"nome": SEALED_MASK, "email": SEALED_MASK, "cpf": SEALED_MASK}
    raw = f'payload {{"cpf": "{sealed["cpf"]}"}} e {sealed["email"]}'
    masked = mask_text(raw)
    assert SEALED_PREFIX not in masked
    assert masked.count(SEALED_MASK) == 2
