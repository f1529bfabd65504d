"""Outcome codes of ``apply_events`` turned into the statuses clients read."""

from __future__ import annotations

from typing import Literal

from app.events import UserEvent

Status = Literal["success", "error"]

_SUCCESS_MESSAGES = {
    "criar_usuario": "Usuário criado com sucesso",
    "atualizar_assinatura": "Assinatura atualizada com sucesso",
    "pagamento_realizado": "Pagamento registrado com sucesso",
    "atualizar_config": "Configurações atualizadas com sucesso",
}
_ERROR_MESSAGES = {
    "email_taken": "E-mail já cadastrado para outro usuário",
    "cpf_taken": "CPF já cadastrado para outro usuário",
    "user_exists": "Usuário {user_id} já existe",
    "user_not_found": "Usuário {user_id} não encontrado",
    "invalid": "Dados inválidos para {event_type}",
}


def describe(event: UserEvent, outcome: str) -> tuple[Status, str]:
    """The status and Portuguese message for ``outcome`` of ``event``."""
    event_type, user_id = event.event_type, event.user_id
    if outcome == "applied":
        return "success", _SUCCESS_MESSAGES.get(event_type, "Evento processado com sucesso")
    template = _ERROR_MESSAGES.get(outcome, _ERROR_MESSAGES["invalid"])
    return "error", template.format(user_id=user_id, event_type=event_type)
