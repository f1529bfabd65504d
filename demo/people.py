"""Realistic Brazilian demo data for POSTs sent without a body (as the original did)."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import get_args

from faker import Faker

from app.accounts.commands import (
    NewUser,
    Payment,
    PaymentMethod,
    Plan,
    Preferences,
    SubscriptionChange,
)
from app.clock import today
from app.viewing.session_commands import Device

#: Random draws of this module's own, seeded by the OS: processes started with one
#: global seed (pytest-randomly seeds ``random`` and Faker alike in every xdist
#: worker) still draw different people, not one CPF twice (``cpf_taken``).
_dice = random.Random()
_fake = Faker("pt_BR")
_fake.seed_instance(_dice.getrandbits(64))
_LANGUAGES = ("pt-BR", "en-US", "es-ES")


def demo_user() -> NewUser:
    """A fake person with a valid CPF; the e-mail is made unique by a random tag."""
    name = _fake.name()
    local = _fake.user_name()
    email = f"{local}.{_dice.randrange(10**8):08d}@{_fake.free_email_domain()}"
    return NewUser(nome=name, email=email, cpf=_fake.cpf())


def demo_subscription() -> SubscriptionChange:
    """A random plan starting today for 30 days."""
    start = today()
    return SubscriptionChange(
        plano=_dice.choice(get_args(Plan)), inicio=start, fim=start + timedelta(days=30)
    )


def demo_payment() -> Payment:
    """An approved payment of a plausible monthly price."""
    cents = _dice.randint(1990, 5990)
    return Payment(
        valor=Decimal(cents) / 100,
        forma_pagamento=_dice.choice(get_args(PaymentMethod)),
    )


def demo_preferences() -> Preferences:
    """A random language and notification choice."""
    return Preferences(idioma=_dice.choice(_LANGUAGES), notificacoes=_dice.random() < 0.7)


def demo_viewing_fields() -> dict[str, object]:
    """A heartbeat of a demo catalogue title (ids 1000-9999), somewhere into it."""
    position = round(_dice.uniform(1, 100), 2)
    return {
        "conteudo_id": _dice.randint(1000, 9999),
        "posicao": position,
        "tempo_assistido": int(position * _dice.randint(20, 60)),
    }


def demo_session_fields() -> dict[str, str]:
    """A random device and a pt_BR city, for a session opened without them."""
    return {
        "dispositivo": _dice.choice(get_args(Device)),
        "localizacao": f"{_fake.city()}, {_fake.estado_sigla()}",
    }
