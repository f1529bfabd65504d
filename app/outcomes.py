"""Outcome codes of ``apply_events`` turned into the statuses clients read."""

from __future__ import annotations

from typing import Literal

from app.events import Envelope

Status = Literal["success", "error"]

_SUCCESS_MESSAGES = {
    "criar_usuario": "Usuário criado com sucesso",
    "atualizar_assinatura": "Assinatura atualizada com sucesso",
    "pagamento_realizado": "Pagamento registrado com sucesso",
    "atualizar_config": "Configurações atualizadas com sucesso",
    "registrar_visualizacao": "Visualização registrada com sucesso",
}
_ERROR_MESSAGES = {
    "email_taken": "E-mail já cadastrado para outro usuário",
    "cpf_taken": "CPF já cadastrado para outro usuário",
    "user_exists": "Usuário {user_id} já existe",
    "user_not_found": "Usuário {user_id} não encontrado",
    "title_not_found": "Conteúdo {conteudo_id} não encontrado no catálogo",
    "invalid": "Dados inválidos para {event_type}",
}


def describe(event: Envelope, outcome: str) -> tuple[Status, str]:
    """The status and Portuguese message for ``outcome`` of ``event``."""
    if outcome == "applied":
        return "success", _SUCCESS_MESSAGES.get(event.event_type, "Evento processado com sucesso")
    template = _ERROR_MESSAGES.get(outcome, _ERROR_MESSAGES["invalid"])
    return "error", template.format(
        user_id=event.user_id,
        event_type=event.event_type,
        conteudo_id=getattr(event, "conteudo_id", None),
    )
