"""The command models: every field rule of the HTTP contract."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from app.accounts.commands import NewUser, Payment, Preferences, SubscriptionChange
from app.clock import today
from app.viewing.viewing_events import HistoryQuery, Viewing, history_cursor

VALID_CPF = "529.982.247-25"


def broken_fields(exc: ValidationError) -> set[str]:
    return {".".join(map(str, e["loc"])) or "corpo" for e in exc.errors()}


def test_new_user_normalises_cpf_email_and_name() -> None:
    user = NewUser(nome="  Ana   Maria ", email="Ana@Example.COM", cpf="52998224725")
    assert (user.nome, user.email, user.cpf) == ("Ana Maria", "ana@example.com", VALID_CPF)


@pytest.mark.parametrize("cpf", ["529.982.247-24", "111", "1234567890123", "abc.def.ghi-jk"])
def test_new_user_rejects_cpf_with_bad_shape_or_check_digits(cpf: str) -> None:
    with pytest.raises(ValidationError) as err:
        NewUser(nome="Ana", email="a@b.co", cpf=cpf)
    assert broken_fields(err.value) == {"cpf"}


def test_new_user_lists_every_bad_field_and_unknown_ones() -> None:
    with pytest.raises(ValidationError) as err:
        NewUser.model_validate({"nome": "1", "email": "no-at-sign", "cpf": "1", "idade": 3})
    assert broken_fields(err.value) == {"nome", "email", "cpf", "idade"}


def test_new_user_bounds_name_length() -> None:
    with pytest.raises(ValidationError):
        NewUser(nome="A" * 121, email="a@b.co", cpf=VALID_CPF)


def test_subscription_defaults_to_thirty_days_from_today() -> None:
    sub = SubscriptionChange(plano="Premium")
    assert sub.inicio == today()
    assert sub.fim == today() + timedelta(days=30)


def test_subscription_refuses_end_before_start_and_unknown_plan() -> None:
    with pytest.raises(ValidationError, match="fim deve ser"):
        SubscriptionChange(plano="Básico", inicio=date(2030, 1, 2), fim=date(2030, 1, 1))
    with pytest.raises(ValidationError) as err:
        SubscriptionChange.model_validate({"plano": "Gold"})
    assert broken_fields(err.value) == {"plano"}


@pytest.mark.parametrize("valor", [0, -1, "10.555", 123456789.0])
def test_payment_refuses_non_positive_or_over_precise_amounts(valor: object) -> None:
    with pytest.raises(ValidationError) as err:
        Payment.model_validate({"valor": valor, "forma_pagamento": "Pix"})
    assert broken_fields(err.value) == {"valor"}


def test_payment_keeps_cents_exact_and_defaults_to_approved_now() -> None:
    before = datetime.now(UTC)
    payment = Payment.model_validate({"valor": 19.9, "forma_pagamento": "Boleto"})
    assert payment.valor == Decimal("19.9")
    assert payment.status == "aprovado"
    assert payment.data_pagamento >= before
    assert payment.model_dump(mode="json")["valor"] == 19.9


def test_payment_takes_naive_dates_as_utc() -> None:
    payment = Payment.model_validate(
        {"valor": 1, "forma_pagamento": "Cartão", "data_pagamento": "2026-01-01T10:00:00"}
    )
    assert payment.data_pagamento == datetime(2026, 1, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize("idioma", ["pt-BR", "en", "zh-Hant-TW", "es-419"])
def test_preferences_accept_language_tags(idioma: str) -> None:
    assert Preferences(idioma=idioma).idioma == idioma


@pytest.mark.parametrize("idioma", ["portuguese", "PT-br", "", "pt_BR"])
def test_preferences_refuse_what_is_not_a_language_tag(idioma: str) -> None:
    with pytest.raises(ValidationError):
        Preferences(idioma=idioma)


def test_preferences_parse_query_string_booleans() -> None:
    assert Preferences.model_validate({"notificacoes": "false"}).notificacoes is False


def test_a_heartbeat_at_or_past_90_percent_is_a_finished_viewing() -> None:
    viewing = Viewing(user_id=1, conteudo_id=1000, tempo_assistido=10, posicao=Decimal(90))
    assert viewing.concluido
    assert not viewing.model_copy(update={"posicao": Decimal("89.99")}).concluido


def test_a_history_cursor_reads_back_as_the_viewing_it_was_made_from() -> None:
    moment = datetime(2026, 5, 4, 3, 2, 1, 123456, tzinfo=UTC)
    query = HistoryQuery(cursor=history_cursor(moment, 4321))
    assert query.after == (moment, 4321)


def test_a_made_up_history_cursor_is_refused() -> None:
    with pytest.raises(ValidationError):
        HistoryQuery(cursor="not-a-cursor")
