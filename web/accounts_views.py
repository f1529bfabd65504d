"""Views under ``/usuarios``: the commands of the contract and the user read side.

Each POST consumes a JSON body (or none, for demo data), produces one event on
``user_events`` and answers 202 with the ``correlation_id`` to poll.
"""

from __future__ import annotations

from aiohttp import web
from faust.web import Request, View

from app.accounts.commands import (
    NewUser,
    Payment,
    PaymentMade,
    Preferences,
    PreferencesUpdated,
    SubscriptionChange,
    SubscriptionUpdated,
    UserCreated,
    UserErased,
)
from app.application import platform
from app.sealing import new_key
from app.storage.pool import TRANSIENT_ERRORS
from demo.people import demo_payment, demo_preferences, demo_subscription, demo_user
from web.auth import may_see
from web.database_reads import from_database
from web.errors import NotFound, Unavailable
from web.intake import (
    accept,
    envelope,
    has_idempotency_key,
    path_user_id,
    read_command,
    request_correlation_id,
)
from web.responses import json_response

services = platform()


@services.app.page("/usuarios")
class UsersView(View):
    """``POST /usuarios`` {nome, email, cpf} -> ``criar_usuario`` with a new user id."""

    async def post(self, request: Request) -> web.Response:
        """Consumes a new user; produces ``criar_usuario``; answers 202 with ``usuario``.

        Sent again with the same ``Idempotency-Key``, it answers the same
        ``correlation_id`` and the same ``user_id`` as the first time. The
        event's ``nome``, ``email`` and ``cpf`` are sealed with the new user's
        own key (``docs/privacy.md``); the 202 answer repeats them in clear.
        """
        command = await read_command(request, NewUser, demo_user)
        if not services.database.is_ready:
            raise Unavailable("Banco de dados indisponível, tente novamente")
        correlation_id = request_correlation_id(request)
        user_id = await _new_user_id(correlation_id, has_idempotency_key(request))
        key = await from_database(lambda: services.database.key_for_signup(user_id, new_key()))
        event = UserCreated(**envelope(request, user_id, correlation_id), **command.model_dump())
        return await accept(event, "Criação de usuário em processamento", "usuario", seal_with=key)


async def _new_user_id(correlation_id: str, keyed: bool) -> int:
    """A fresh id; for a keyed sign-up, the one its first request claimed (one round trip)."""
    try:
        if keyed:
            return await services.user_ids.id_for_signup(correlation_id)
        return await services.user_ids.next_id()
    except TRANSIENT_ERRORS as exc:
        raise Unavailable("Banco de dados indisponível, tente novamente") from exc


@services.app.page("/usuarios/{user_id}")
class UserView(View):
    """``GET /usuarios/{id}``: the user with subscription, preferences, latest payments;
    ``DELETE /usuarios/{id}``: erase the user (``excluir_usuario``)."""

    async def get(self, request: Request, user_id: str) -> web.Response:
        """Consumes a user id; produces the user's current state from PostgreSQL.

        404 if unknown or created by another caller (admins read every user).
        """
        if not services.database.is_ready:
            raise Unavailable("Banco de dados indisponível, tente novamente")
        user = await services.database.fetch_user(path_user_id(user_id))
        if user is None or not may_see(request, user.pop("criado_por")):
            raise NotFound("Usuário não encontrado")
        return json_response(user)

    async def delete(self, request: Request, user_id: str) -> web.Response:
        """Consumes a user id; produces ``excluir_usuario``; answers 202 with ``exclusao``.

        The erasure of the person's data from every store (LGPD art. 18,
        ``docs/privacy.md``); its final status says what each store removed.
        404 if unknown or created by another caller (admins erase every user).
        """
        uid = path_user_id(user_id)
        known = await from_database(lambda: services.database.find_user(uid))
        if known is None or not may_see(request, known.criado_por):
            raise NotFound("Usuário não encontrado")
        event = UserErased(**envelope(request, uid))
        return await accept(event, "Exclusão de dados pessoais em processamento", "exclusao")


@services.app.page("/usuarios/{user_id}/assinatura")
class SubscriptionView(View):
    """``POST .../assinatura`` {plano, inicio, fim} -> ``atualizar_assinatura``."""

    async def post(self, request: Request, user_id: str) -> web.Response:
        """Consumes a plan and period; produces ``atualizar_assinatura``; answers 202."""
        uid = path_user_id(user_id)
        command = await read_command(request, SubscriptionChange, demo_subscription)
        event = SubscriptionUpdated(**envelope(request, uid), **command.model_dump())
        return await accept(event, "Atualização de assinatura em processamento", "assinatura")


@services.app.page("/usuarios/{user_id}/pagamento")
class PaymentView(View):
    """``POST .../pagamento`` {valor, forma_pagamento, status, data_pagamento}."""

    async def post(self, request: Request, user_id: str) -> web.Response:
        """Consumes a payment; produces ``pagamento_realizado``; answers 202."""
        uid = path_user_id(user_id)
        command = await read_command(request, Payment, demo_payment)
        event = PaymentMade(**envelope(request, uid), **command.model_dump())
        return await accept(event, "Pagamento em processamento", "pagamento")


@services.app.page("/usuarios/{user_id}/config")
class PreferencesView(View):
    """``POST .../config`` {idioma, notificacoes} (body or query) -> ``atualizar_config``."""

    async def post(self, request: Request, user_id: str) -> web.Response:
        """Consumes preferences; produces ``atualizar_config``; answers 202 with ``config``."""
        uid = path_user_id(user_id)
        command = await read_command(request, Preferences, demo_preferences, request.query)
        event = PreferencesUpdated(**envelope(request, uid), preferencias=command)
        config = {"user_id": event.user_id, **command.model_dump(mode="json")}
        return await accept(
            event, "Atualização de configurações em processamento", "config", config
        )
