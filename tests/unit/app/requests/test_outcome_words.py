"""Outcome codes become the Portuguese statuses clients read."""

from decimal import Decimal

import pytest

from app.accounts.commands import PaymentMade, UserCreated
from app.requests.outcomes import describe

CID = "01a222cc-d2dd-7673-9115-162d98e7896f"
PAYMENT = PaymentMade(correlation_id=CID, user_id=42, valor=Decimal(1), forma_pagamento="Pix")


def test_applied_event_is_a_success_named_for_its_type() -> None:
    assert describe(PAYMENT, "applied") == ("success", "Pagamento registrado com sucesso")


@pytest.mark.parametrize(
    ("outcome", "fragment"),
    [("user_not_found", "Usuário 42 não encontrado"), ("invalid", "pagamento_realizado")],
)
def test_refusals_are_errors_naming_the_user_or_event(outcome: str, fragment: str) -> None:
    status, message = describe(PAYMENT, outcome)
    assert status == "error"
    assert fragment in message


def test_duplicate_email_and_cpf_are_told_apart() -> None:
    user = UserCreated(
        correlation_id=CID, user_id=1, nome="Ana", email="a@b.co", cpf="529.982.247-25"
    )
    assert "E-mail" in describe(user, "email_taken")[1]
    assert "CPF" in describe(user, "cpf_taken")[1]
