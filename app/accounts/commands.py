"""The account commands a client sends, and the events they become on ``user_events``.

Sign-up (:class:`NewUser` -> ``criar_usuario``), subscription
(:class:`SubscriptionChange` -> ``atualizar_assinatura``), payment
(:class:`Payment` -> ``pagamento_realizado``), preferences
(:class:`Preferences` -> ``atualizar_config``) and erasure (``DELETE``
-> ``excluir_usuario``): the single source of their
field rules. The HTTP edge parses request bodies into the commands (422 on
failure, listing each bad field); an event is the request's envelope
(:class:`app.requests.envelope.Envelope`) plus its command's fields, and the
accounts agent validates what it consumes against them again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Literal, TypeAlias

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    model_validator,
)
from validate_docbr import CPF as CpfChecker

from app.clock import today, utc_now
from app.requests.envelope import Envelope
from app.requests.fields import Command, UtcDateTime

Plan = Literal["Básico", "Padrão", "Premium"]
PaymentMethod = Literal["Cartão", "Pix", "Boleto"]
PaymentStatus = Literal["aprovado", "pendente", "recusado"]
DEFAULT_SUBSCRIPTION_DAYS = 30

_CPF_SHAPE = re.compile(r"^(\d{3}\.\d{3}\.\d{3}-\d{2}|\d{11})$")
_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
# A pragmatic BCP 47 subset: language, optional script, optional region.
_LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|\d{3}))?$")
_cpf_checker = CpfChecker()


def normalize_cpf(value: str) -> str:
    """Check a CPF's shape and check digits; return it as ``ddd.ddd.ddd-dd``."""
    value = value.strip()
    if not _CPF_SHAPE.match(value):
        raise ValueError("CPF deve ter o formato ddd.ddd.ddd-dd ou 11 dígitos")
    digits = re.sub(r"\D", "", value)
    if not _cpf_checker.validate(digits):
        raise ValueError("CPF inválido: dígitos verificadores não conferem")
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"


def normalize_email(value: str) -> str:
    """Check an e-mail address's shape; return it lower-cased."""
    value = value.strip().lower()
    if not _EMAIL_SHAPE.match(value):
        raise ValueError("e-mail inválido: esperado nome@dominio.tld")
    return value


def check_name(value: str) -> str:
    """A person's name: trimmed, with at least one letter."""
    value = " ".join(value.split())
    if not any(ch.isalpha() for ch in value):
        raise ValueError("nome deve conter letras")
    return value


def check_language_tag(value: str) -> str:
    """A language tag such as ``pt-BR`` or ``en``."""
    if not _LANGUAGE_TAG.match(value):
        raise ValueError("idioma deve ser uma tag de idioma, como pt-BR ou en-US")
    return value


Cpf = Annotated[str, Field(max_length=14), AfterValidator(normalize_cpf)]
Email = Annotated[str, Field(max_length=254), AfterValidator(normalize_email)]
PersonName = Annotated[str, Field(min_length=2, max_length=120), AfterValidator(check_name)]
LanguageTag = Annotated[str, Field(max_length=35), AfterValidator(check_language_tag)]


CalendarDate = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))]
# Money travels as a JSON number with two decimals; it is exact as a Decimal inside.
Money = Annotated[
    Decimal,
    Field(gt=0, max_digits=10, decimal_places=2),
    PlainSerializer(float, return_type=float, when_used="json"),
]


class NewUser(Command):
    """``POST /usuarios``: a person signing up."""

    nome: PersonName
    email: Email
    cpf: Cpf


class SubscriptionChange(Command):
    """``POST /usuarios/{id}/assinatura``: the user's current plan and its period."""

    plano: Plan
    inicio: CalendarDate = Field(default_factory=today)
    fim: CalendarDate | None = None

    @model_validator(mode="after")
    def _default_and_check_end(self) -> SubscriptionChange:
        if self.fim is None:
            end = self.inicio + timedelta(days=DEFAULT_SUBSCRIPTION_DAYS)
            object.__setattr__(self, "fim", end)
        elif self.fim < self.inicio:
            raise ValueError("fim deve ser igual ou posterior a inicio")
        return self


class Payment(Command):
    """``POST /usuarios/{id}/pagamento``: money received from the user, in BRL."""

    valor: Money
    forma_pagamento: PaymentMethod
    status: PaymentStatus = "aprovado"
    data_pagamento: UtcDateTime = Field(default_factory=utc_now)


class Preferences(Command):
    """``POST /usuarios/{id}/config``: the user's language and notification choice."""

    idioma: LanguageTag = "pt-BR"
    notificacoes: bool = True


# ---------- the events on ``user_events`` ----------


class UserCreated(Envelope, NewUser):
    """``criar_usuario``: a new account with its server-assigned ``user_id``."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    event_type: Literal["criar_usuario"] = "criar_usuario"
    data_criacao: UtcDateTime = Field(default_factory=utc_now)


class SubscriptionUpdated(Envelope, SubscriptionChange):
    """``atualizar_assinatura``: the user's current subscription, created or replaced."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    event_type: Literal["atualizar_assinatura"] = "atualizar_assinatura"


class PaymentMade(Envelope, Payment):
    """``pagamento_realizado``: one payment, applied exactly once."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    event_type: Literal["pagamento_realizado"] = "pagamento_realizado"


class PreferencesUpdated(Envelope):
    """``atualizar_config``: the user's preferences, created or replaced."""

    event_type: Literal["atualizar_config"] = "atualizar_config"
    preferencias: Preferences


class UserErased(Envelope):
    """``excluir_usuario``: erase the user's personal data from every store (LGPD art. 18).

    Carries nothing but the envelope; the accounts agent applies it
    (``docs/privacy.md``) and its outcome reports what each store removed.
    """

    event_type: Literal["excluir_usuario"] = "excluir_usuario"


UserEvent: TypeAlias = Annotated[
    UserCreated | SubscriptionUpdated | PaymentMade | PreferencesUpdated | UserErased,
    Field(discriminator="event_type"),
]
_user_event_adapter: TypeAdapter[UserEvent] = TypeAdapter(UserEvent)


def decode_user_event(raw: bytes) -> UserEvent:
    """Parse and validate a ``user_events`` value; raises ``ValueError`` if unusable."""
    return _user_event_adapter.validate_json(raw)


# ---------- what PostgreSQL keeps of an account ----------


@dataclass(frozen=True, slots=True)
class Subscription:
    """A user's current subscription as ``assinaturas`` holds it."""

    plano: str
    inicio: date
    fim: date
