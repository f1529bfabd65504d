"""What the OpenAPI description says of each route, beyond what the route itself tells.

:data:`OPERATIONS` maps each (method, path) the app serves to its summary, tag,
success answer (a component of :mod:`web.openapi_answers`), request model,
query model and error answers; :mod:`web.openapi_spec` builds the document
from it and from the router. It holds no field rules: those are the models'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter

from app.accounts.commands import (
    NewUser,
    Payment,
    PaymentMade,
    Preferences,
    SubscriptionChange,
    SubscriptionUpdated,
    UserCreated,
    UserErased,
)
from app.eventlog.log_queries import LogQuery
from app.kafka.cluster_view import TopicMessagesQuery
from app.viewing.session_commands import (
    NewSession,
    SessionCommand,
    SessionId,
    SessionOpened,
    SessionQuery,
)
from app.viewing.titles import MAX_TITLE_ID, CatalogueQuery
from app.viewing.trending import TrendingQuery
from app.viewing.viewing_events import HistoryQuery, RecommendationsRequest, Viewing

SPEC_PATH = "/openapi.json"
DOCS_PATH = "/docs"

#: Command models (request bodies, validation mode) and event models (202 sections).
COMMANDS: tuple[type[BaseModel], ...] = (
    NewUser,
    SubscriptionChange,
    Payment,
    Preferences,
    Viewing,
    RecommendationsRequest,
    NewSession,
)
#: Query-string models of reads (validation mode): their fields become query parameters.
QUERIES: tuple[type[BaseModel], ...] = (
    CatalogueQuery,
    HistoryQuery,
    TrendingQuery,
    LogQuery,
    TopicMessagesQuery,
    SessionQuery,
)
#: Path parameters that are not envelope fields.
PATH_SCHEMAS: dict[str, dict[str, Any]] = {
    "conteudo_id": {"type": "integer", "minimum": 1, "maximum": MAX_TITLE_ID},
    "session_id": TypeAdapter(SessionId).json_schema(),
}
SECTIONS: dict[str, type[BaseModel]] = {
    "UsuarioAceito": UserCreated,
    "AssinaturaAceita": SubscriptionUpdated,
    "PagamentoAceito": PaymentMade,
    "ExclusaoAceita": UserErased,
    "SessaoAceita": SessionOpened,
    # Activity and ending: the session named, and its user.
    "SessaoReferida": SessionCommand,
}

ERRORS = {
    400: "O corpo não é um objeto JSON, ou um cabeçalho (Idempotency-Key) é inválido",
    404: "Recurso não encontrado",
    413: "Corpo grande demais",
    422: "Campos inválidos: `campos` lista cada regra violada",
    503: "Dependência indisponível ou em recuperação; tente de novo (Retry-After)",
}
#: Answers every authenticated operation may give (see web/auth.py).
AUTH_ERRORS = {
    401: "Chave de API ausente ou inválida",
    403: "A chave não tem o escopo exigido",
    429: "Limite de requisições da chave excedido (Retry-After)",
}
#: Every command takes it (web/intake.py): the same key, the same request.
IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Opcional. Reenviar a requisição com a mesma chave devolve o mesmo "
        "`correlation_id` e ela é aplicada uma só vez (por exemplo, após um 503)."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 128},
}
SECURITY_SCHEMES = {
    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "Bearer": {"type": "http", "scheme": "bearer"},
}


@dataclass(frozen=True)
class Operation:
    """What the spec says about one route beyond what the route itself tells."""

    summary: str
    tag: str
    ok: tuple[int, str | None] = (200, None)
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    content_type: str = "application/json"
    extra: dict[str, Any] = field(default_factory=dict)


def _command(
    summary: str, body: type[BaseModel], section: str, tag: str = "Comandos", **kw: Any
) -> Operation:
    return Operation(
        summary, tag, (202, section), body=body, errors=(400, 404, 413, 422, 503), **kw
    )


def _session_command(summary: str) -> Operation:
    """A command on one session: no body, the session in the path (400: a bad Idempotency-Key)."""
    return Operation(summary, "Sessões", (202, "AceitoComandoSessao"), errors=(400, 404, 503))


def _page(summary: str) -> Operation:
    """An HTML page (the dashboard's, Swagger UI's)."""
    return Operation(summary, "Operação", (200, "Texto"), content_type="text/html")


OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/"): Operation("Banner da API", "Operação", (200, "Banner")),
    ("GET", "/health"): Operation(
        "Saúde do worker e das dependências", "Operação", (200, "Health"), errors=(503,)
    ),
    ("POST", "/usuarios"): _command("Criar usuário", NewUser, "AceitoUsuario"),
    ("GET", "/usuarios/{user_id}"): Operation(
        "Usuário com assinatura, preferências e pagamentos",
        "Consultas",
        (200, "Usuario"),
        errors=(404, 503),
    ),
    ("DELETE", "/usuarios/{user_id}"): Operation(
        "Apagar os dados pessoais do usuário (LGPD art. 18): chave destruída, perfil, "
        "histórico, sessões, recomendações e log apagados; pagamentos mantidos desidentificados",
        "Privacidade",
        (202, "AceitoExclusao"),
        errors=(400, 404, 503),
    ),
    ("GET", "/usuarios/{user_id}/dados"): Operation(
        "Exportar tudo o que a plataforma guarda da pessoa, em JSON (LGPD art. 18 V)",
        "Privacidade",
        (200, "DadosPessoais"),
        errors=(404, 503),
    ),
    ("POST", "/usuarios/{user_id}/assinatura"): _command(
        "Criar ou trocar a assinatura", SubscriptionChange, "AceitoAssinatura"
    ),
    ("POST", "/usuarios/{user_id}/pagamento"): _command(
        "Registrar um pagamento", Payment, "AceitoPagamento"
    ),
    ("POST", "/usuarios/{user_id}/config"): _command(
        "Atualizar preferências (corpo JSON ou parâmetros de consulta)",
        Preferences,
        "AceitoConfig",
        query=Preferences,
    ),
    ("GET", "/status/{correlation_id}"): Operation(
        "Status de uma requisição aceita", "Consultas", (200, "StatusRecord"), errors=(404, 503)
    ),
    ("POST", "/sessoes"): _command(
        "Abrir uma sessão de exibição (corpo JSON ou parâmetros de consulta)",
        NewSession,
        "AceitoSessao",
        tag="Sessões",
        query=NewSession,
    ),
    ("PUT", "/sessoes/{session_id}/atividade"): _session_command("Registrar atividade na sessão"),
    ("DELETE", "/sessoes/{session_id}"): _session_command("Encerrar a sessão"),
    ("GET", "/sessoes/usuario/{user_id}"): Operation(
        "Sessões do usuário (ativas, ou também as encerradas no último dia)",
        "Sessões",
        (200, "SessoesDoUsuario"),
        query=SessionQuery,
        errors=(404, 422, 503),
    ),
    ("GET", "/conteudos"): Operation(
        "Catálogo: títulos filtrados, paginados por cursor",
        "Catálogo",
        (200, "PaginaConteudos"),
        query=CatalogueQuery,
        errors=(422, 503),
    ),
    ("GET", "/conteudos/{conteudo_id}"): Operation(
        "Um título do catálogo", "Catálogo", (200, "Conteudo"), errors=(404, 503)
    ),
    ("POST", "/cache/conteudo/{conteudo_id}"): Operation(
        "Carregar um título no cache deste worker por 1 hora",
        "Catálogo",
        (200, "ConteudoEmCache"),
        errors=(404, 503),
    ),
    ("GET", "/cache/conteudo/{conteudo_id}"): Operation(
        "Um título do cache deste worker (`cache: hit`), ou 404 `cache: miss`",
        "Catálogo",
        (200, "ConteudoEmCache"),
        errors=(404,),
    ),
    ("POST", "/historico-visualizacao"): _command(
        "Registrar uma visualização (um heartbeat do player; corpo JSON ou parâmetros de "
        "consulta; campos ausentes, exceto user_id, viram dados de demonstração)",
        Viewing,
        "AceitoVisualizacao",
        query=Viewing,
    ),
    ("GET", "/historico-visualizacao/{user_id}"): Operation(
        "Histórico: o último estado de cada título, mais recente primeiro, paginado por cursor",
        "Visualização",
        (200, "Historico"),
        query=HistoryQuery,
        errors=(404, 422, 503),
    ),
    ("GET", "/usuarios/{user_id}/continuar-assistindo"): Operation(
        "Continuar assistindo: títulos começados e não terminados, com onde retomar",
        "Visualização",
        (200, "ContinuarAssistindo"),
        errors=(404, 503),
    ),
    ("GET", "/em-alta"): Operation(
        "Em alta agora: títulos com mais espectadores distintos na janela (1h, 24h)",
        "Visualização",
        (200, "EmAlta"),
        query=TrendingQuery,
        errors=(422,),
    ),
    ("POST", "/recomendacoes/gerar"): _command(
        "Recalcular as recomendações de um usuário (corpo JSON ou parâmetros de consulta)",
        RecommendationsRequest,
        "AceitoRecomendacoes",
        query=RecommendationsRequest,
    ),
    ("GET", "/recomendacoes/{user_id}"): Operation(
        "Recomendações atuais: co-visualização e o que está em alta no gosto do usuário",
        "Visualização",
        (200, "Recomendacoes"),
        errors=(404, 503),
    ),
    ("GET", "/metrics"): Operation(
        "Métricas Prometheus (Faust e HTTP)", "Operação", (200, "Texto"), content_type="text/plain"
    ),
    ("GET", "/api/metrics/summary"): Operation(
        "Números ao vivo deste worker (dashboard)", "Operação", (200, "MetricsSummary")
    ),
    ("GET", "/logs"): Operation(
        "Explorador de logs: busca em system_logs com histograma (só as próprias, sem admin)",
        "Operação",
        (200, "BuscaLogs"),
        query=LogQuery,
        errors=(422, 503),
    ),
    ("GET", "/logs/{correlation_id}"): Operation(
        "Trilha de uma requisição em system_logs",
        "Consultas",
        (200, "TrilhaLogs"),
        errors=(404, 503),
    ),
    ("GET", "/api/kafka/topics"): Operation(
        "Kafka: tópicos com partições e offsets", "Operação", (200, "KafkaTopics"), errors=(503,)
    ),
    ("GET", "/api/kafka/topics/{topic}/messages"): Operation(
        "Kafka: mensagens mais recentes de um tópico (mascaradas)",
        "Operação",
        (200, "KafkaMessages"),
        query=TopicMessagesQuery,
        errors=(404, 422, 503),
    ),
    ("GET", "/api/kafka/groups"): Operation(
        "Kafka: grupos de consumidores", "Operação", (200, "KafkaGroups"), errors=(503,)
    ),
    ("GET", "/api/kafka/groups/{group_id}"): Operation(
        "Kafka: lag de um grupo por partição",
        "Operação",
        (200, "KafkaGroupLag"),
        errors=(404, 503),
    ),
    ("GET", "/dashboard/tools"): Operation(
        "Quais ferramentas de operação respondem (Kafka UI, Kibana, Adminer)",
        "Operação",
        (200, "ToolStates"),
    ),
    ("GET", "/dashboard/kafka"): _page("Dashboard: visão do Kafka"),
    ("GET", "/dashboard/logs"): _page("Dashboard: explorador de logs"),
    ("GET", "/dashboard/titulares"): _page("Dashboard: titulares dos dados (exportar, apagar)"),
    ("GET", SPEC_PATH): Operation(
        "Esta especificação OpenAPI 3.1", "Operação", (200, "OpenApiDocument")
    ),
    ("GET", DOCS_PATH): _page("Swagger UI"),
    ("GET", f"{DOCS_PATH}/"): _page("Swagger UI"),
    ("GET", "/dashboard/"): _page("Dashboard de operação"),
    ("GET", "/dashboard"): Operation("Redireciona para /dashboard/", "Operação", (302, None)),
}

#: 202 answer component -> (its section key, as in web.accounts_views, and that section's component).
ACCEPTED = {
    "AceitoUsuario": ("usuario", "UsuarioAceito"),
    "AceitoAssinatura": ("assinatura", "AssinaturaAceita"),
    "AceitoPagamento": ("pagamento", "PagamentoAceito"),
    "AceitoConfig": ("config", "ConfigAceita"),
    "AceitoVisualizacao": ("visualizacao", "VisualizacaoAceita"),
    "AceitoRecomendacoes": ("recomendacoes", "RecomendacoesAceitas"),
    "AceitoExclusao": ("exclusao", "ExclusaoAceita"),
    "AceitoSessao": ("sessao", "SessaoAceita"),
    "AceitoComandoSessao": ("sessao", "SessaoReferida"),
}
