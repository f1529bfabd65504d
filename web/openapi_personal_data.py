r"""The export's body (``GET /usuarios/{user_id}/dados``), typed for the OpenAPI description.

What :mod:`web.privacy_views` answers, store by store (``docs/privacy.md``);
:data:`PERSONAL_DATA_TYPES` names it as a component of the spec, next to
:data:`web.openapi_answers.ANSWER_TYPES`.
"""

from __future__ import annotations

from typing import Any, Literal

# pydantic needs typing_extensions' TypedDict on Python < 3.12.
from typing_extensions import TypedDict

from app.accounts.commands import PaymentMethod, PaymentStatus, Plan
from app.viewing.sessions import UserSessions
from app.viewing.titles import TitleKind
from web.openapi_answers import LogDocument


class Perfil(TypedDict):
    """The person's profile, in clear (``usuarios``)."""

    user_id: int
    nome: str
    email: str
    cpf: str
    data_criacao: str


class AssinaturaExportada(TypedDict):
    """The current subscription, with when it last changed."""

    plano: Plan
    inicio: str
    fim: str
    atualizado_em: str


class PreferenciasExportadas(TypedDict):
    """The preferences, with when they last changed."""

    idioma: str
    notificacoes: bool
    atualizado_em: str


class PagamentoExportado(TypedDict):
    """Every payment, with the request that made it."""

    valor: float
    forma_pagamento: PaymentMethod
    status: PaymentStatus
    data_pagamento: str
    correlation_id: str


class VisualizacaoExportada(TypedDict):
    """The latest state of one title watched (``visualizacoes``)."""

    conteudo_id: int
    titulo: str
    tipo: TitleKind
    posicao: float
    tempo_assistido: int
    concluido: bool
    iniciado_em: str
    ultimo_acesso: str


class DadosPessoais(TypedDict):
    """``GET /usuarios/{user_id}/dados``: everything held about the person (LGPD art. 18 V)."""

    formato: Literal["lgpd-export/1"]
    gerado_em: str
    perfil: Perfil
    assinatura: AssinaturaExportada | None
    preferencias: PreferenciasExportadas | None
    pagamentos: list[PagamentoExportado]
    historico_visualizacao: list[VisualizacaoExportada]
    #: The sessions table's value for the user: sessions by id, refused openings by id.
    sessoes: UserSessions
    #: The recommendations table's value (``{itens, data_geracao}``), or null.
    recomendacoes: dict[str, Any] | None
    #: The person's documents in the event log, masked as indexed, oldest first.
    eventos: list[LogDocument]


PERSONAL_DATA_TYPES: dict[str, Any] = {"DadosPessoais": DadosPessoais}
