"""Realistic Brazilian demo data for POSTs sent without a body (as the original did)."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import get_args

from faker import Faker

from app.models import (
    Device,
    NewUser,
    Payment,
    PaymentMethod,
    Plan,
    Preferences,
    SubscriptionChange,
    today,
)

_fake = Faker("pt_BR")
_LANGUAGES = ("pt-BR", "en-US", "es-ES")


def demo_user() -> NewUser:
    """A fake person with a valid CPF; the e-mail is made unique by a random tag."""
    name = _fake.name()
    local = _fake.user_name()
    email = f"{local}.{random.randrange(10**8):08d}@{_fake.free_email_domain()}"
    return NewUser(nome=name, email=email, cpf=_fake.cpf())


def demo_subscription() -> SubscriptionChange:
    """A random plan starting today for 30 days."""
    start = today()
    return SubscriptionChange(
        plano=random.choice(get_args(Plan)), inicio=start, fim=start + timedelta(days=30)
    )


def demo_payment() -> Payment:
    """An approved payment of a plausible monthly price."""
    cents = random.randint(1990, 5990)
    return Payment(
        valor=Decimal(cents) / 100,
        forma_pagamento=random.choice(get_args(PaymentMethod)),
    )


def demo_preferences() -> Preferences:
    """A random language and notification choice."""
    return Preferences(idioma=random.choice(_LANGUAGES), notificacoes=random.random() < 0.7)


def demo_viewing_fields() -> dict[str, object]:
    """A heartbeat of a demo catalogue title (ids 1000-9999), somewhere into it."""
    position = round(random.uniform(1, 100), 2)
    return {
        "conteudo_id": random.randint(1000, 9999),
        "posicao": position,
        "tempo_assistido": int(position * random.randint(20, 60)),
    }


def demo_session_fields() -> dict[str, str]:
    """A random device and a pt_BR city, for a session opened without them."""
    return {
        "dispositivo": random.choice(get_args(Device)),
        "localizacao": f"{_fake.city()}, {_fake.estado_sigla()}",
    }
