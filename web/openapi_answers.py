r"""The bodies the API answers with, typed for the OpenAPI description (``/openapi.json``).

What each view returns, as ``TypedDict``\ s (or the models and dataclasses the
views serialise): field rules live in the command models, these only say what
comes back. :data:`ANSWER_TYPES` names each as a component of the spec.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired

# pydantic needs typing_extensions' TypedDict on Python < 3.12.
from typing_extensions import TypedDict

from app.accounts.commands import PaymentMethod, PaymentStatus, Plan
from app.eventlog.log_queries import Bucket, Facet
from app.kafka.cluster_view import GroupLag, PartitionOffsets, TopicMessage
from app.requests.outcomes import StatusRecord
from app.telemetry.live_figures import Second
from app.viewing.sessions import SessionListing
from app.viewing.titles import AgeRating, TitleKind


class FieldError(TypedDict):
    """One broken field rule of a 422 answer."""

    campo: str
    erro: str
    tipo: str


class ErrorBody(TypedDict):
    """Every error answer: ``error``; ``campos`` on a 422; on a POST's 503, the
    ``correlation_id`` and ``status_url`` of a request that may still be applied;
    ``cache: "miss"`` when ``GET /cache/conteudo/{id}`` holds nothing."""

    error: str
    campos: NotRequired[list[FieldError]]
    correlation_id: NotRequired[str]
    status_url: NotRequired[str]
    cache: NotRequired[Literal["miss"]]


class Banner(TypedDict):
    """``GET /``."""

    status: str
    msg: str
    version: str


class Health(TypedDict):
    """``GET /health``: the contract's fields plus each dependency's state."""

    service: str
    status: Literal["healthy", "degraded"]
    timestamp: str
    kafka_connected: bool
    dependencies: dict[str, dict[str, Any]]


class Conteudo(TypedDict):
    """``GET /conteudos/{conteudo_id}``: a title of the catalogue (``conteudos``)."""

    conteudo_id: int
    titulo: str
    tipo: TitleKind
    categoria: str
    generos: list[str]
    descricao: str
    duracao_minutos: int
    ano_lancamento: int
    classificacao: AgeRating
    avaliacao: float
    disponivel: bool
    temporadas: int | None
    visualizacoes: int


class VisualizacaoAceita(TypedDict):
    """The ``visualizacao`` of a 202: the heartbeat as accepted."""

    user_id: int
    conteudo_id: int
    titulo: str | None
    tipo: TitleKind | None
    tempo_assistido: int
    posicao: float
    concluido: bool


class Visualizacao(TypedDict):
    """The latest state of one title a user watched."""

    conteudo_id: int
    titulo: str
    tipo: TitleKind
    categoria: str
    duracao_minutos: int
    posicao: float
    tempo_assistido: int
    concluido: bool
    iniciado_em: str
    ultimo_acesso: str


class Historico(TypedDict):
    """``GET /historico-visualizacao/{user_id}``: one page, newest first."""

    user_id: int
    itens: list[Visualizacao]
    proximo_cursor: str | None


class ParaContinuar(Visualizacao):
    """A title started and not finished, with where to resume it."""

    retomar_em_segundos: int


class ContinuarAssistindo(TypedDict):
    """``GET /usuarios/{user_id}/continuar-assistindo``: newest first."""

    user_id: int
    itens: list[ParaContinuar]


class TituloEmAlta(TypedDict):
    """A title of a trending list."""

    posicao: int
    conteudo_id: int
    titulo: str
    tipo: TitleKind
    categoria: str
    espectadores: int


class EmAlta(TypedDict):
    """``GET /em-alta``: the titles with most distinct viewers in the window."""

    janela: str
    de: str
    ate: str
    atualizado_em: str | None
    itens: list[TituloEmAlta]


class Recomendacao(TypedDict):
    """One recommended title, with why."""

    conteudo_id: int
    titulo: str
    tipo: TitleKind
    categoria: str
    pontuacao: float
    motivo: str


class Recomendacoes(TypedDict):
    """``GET /recomendacoes/{user_id}``: the user's current list, best first."""

    user_id: int
    itens: list[Recomendacao]
    data_geracao: str


class RecomendacoesAceitas(TypedDict):
    """The ``recomendacoes`` of a 202."""

    user_id: int


class PaginaConteudos(TypedDict):
    """``GET /conteudos``: one page; ``proximo_cursor`` is null on the last one."""

    itens: list[Conteudo]
    proximo_cursor: str | None


class ConteudoEmCache(TypedDict):
    """``/cache/conteudo/{conteudo_id}``: a title's cached details (``cache`` on a GET)."""

    conteudo_id: int
    titulo: str
    tipo: TitleKind
    categoria: str
    descricao: str
    duracao_minutos: int
    ano_lancamento: int
    classificacao: AgeRating
    avaliacao: float
    visualizacoes: int
    disponivel: bool
    em_cache_ate: str
    cache: NotRequired[Literal["hit"]]


class AssinaturaAtual(TypedDict):
    """The user's current subscription."""

    plano: Plan
    inicio: str
    fim: str


class PreferenciasAtuais(TypedDict):
    """The user's preferences."""

    idioma: str
    notificacoes: bool


class PagamentoFeito(TypedDict):
    """One of the user's latest payments."""

    valor: float
    forma_pagamento: PaymentMethod
    status: PaymentStatus
    data_pagamento: str


class Usuario(TypedDict):
    """``GET /usuarios/{user_id}``: the user, its subscription, preferences and latest payments."""

    user_id: int
    nome: str
    email: str
    cpf: str
    data_criacao: str
    assinatura: AssinaturaAtual | None
    preferencias: PreferenciasAtuais | None
    pagamentos: list[PagamentoFeito]


class LogDocument(TypedDict, total=False):
    """A ``system_logs`` document, masked as indexed (older documents may lack fields)."""

    timestamp: str
    logged_at: str
    topic: str
    partition: int
    offset: int
    correlation_id: str | None
    event_type: str | None
    original_event_type: str | None
    status: str | None
    stage: str | None
    source: str | None
    target: str | None
    user_id: int | None
    requested_by: str | None
    latency_ms: float | None
    event: dict[str, Any]


class Histograma(TypedDict):
    """The matching documents over time: the bars' width and the bars."""

    intervalo: str | None
    barras: list[Bucket]


class BuscaLogs(TypedDict):
    """``GET /logs``: one page of documents, their histogram and most frequent values."""

    total: int
    pagina: int
    limit: int
    eventos: list[LogDocument]
    histograma: Histograma
    facetas: dict[str, list[Facet]]
    escopo: Literal["todos", "proprios"]


class TrilhaLogs(TypedDict):
    """``GET /logs/{correlation_id}``: a request's documents, in the order they happened."""

    correlation_id: str
    total: int
    eventos: list[LogDocument]


class KafkaTopic(TypedDict):
    """A topic, its partitions and messages; ``app`` when it is one of this app's."""

    name: str
    internal: bool
    messages: int
    partitions: list[PartitionOffsets]
    app: bool


class KafkaTopics(TypedDict):
    """``GET /api/kafka/topics``: this app's topics first."""

    app_group: str
    topics: list[KafkaTopic]


class KafkaMessages(TypedDict):
    """``GET /api/kafka/topics/{topic}/messages``: the newest first, masked."""

    topic: str
    messages: list[TopicMessage]


class KafkaGroup(TypedDict):
    """A consumer group; ``app`` when it is one of this app's."""

    group_id: str
    state: str
    protocol_type: str
    members: int
    app: bool


class KafkaGroups(TypedDict):
    """``GET /api/kafka/groups``: this app's groups first."""

    app_group: str
    groups: list[KafkaGroup]


class WorkerIdentity(TypedDict):
    """Which worker answers."""

    app_id: str
    role: str
    host: str
    web: str


class LatencyFigures(TypedDict):
    """Request-to-outcome latency over the last minute."""

    p50: float | None
    p99: float | None
    samples: int


class SecondFigures(TypedDict):
    """What happened in one second (``t``, Unix time): ``t`` and the fields of
    :class:`app.telemetry.live_figures.Second`."""

    t: int
    events: int
    success: int
    error: int
    dead_letters: int
    viewings: int
    http: int
    http_errors: int


class ConsumerLag(TypedDict):
    """Messages not yet committed over this worker's partitions."""

    total: int
    by_topic: dict[str, int]


class AgentFigures(TypedDict):
    """One agent of this worker: its consumer's state and the age of its batch in hand."""

    state: Literal["starting", "rebalancing", "stalled", "up"]
    batch_age_s: float


class MetricsSummary(TypedDict):
    """``GET /api/metrics/summary``: the dashboard's live figures, as this worker sees them."""

    worker: WorkerIdentity
    uptime_s: float
    totals: Second
    events_per_s: float
    errors_per_s: float
    viewings_per_s: float
    latency_ms: LatencyFigures
    series: list[SecondFigures]
    consumer_lag: ConsumerLag
    agents: dict[str, AgentFigures]


class ToolState(TypedDict):
    """Whether an operator tool answers, and the dashboard's view doing its job."""

    available: bool
    fallback: str | None


class ToolStates(TypedDict):
    """``GET /dashboard/tools``."""

    kafka_ui: ToolState
    kibana: ToolState
    adminer: ToolState


ANSWER_TYPES: dict[str, Any] = {
    "ErrorBody": ErrorBody,
    "StatusRecord": StatusRecord,
    "Banner": Banner,
    "Health": Health,
    "Conteudo": Conteudo,
    "PaginaConteudos": PaginaConteudos,
    "ConteudoEmCache": ConteudoEmCache,
    "VisualizacaoAceita": VisualizacaoAceita,
    "Historico": Historico,
    "ContinuarAssistindo": ContinuarAssistindo,
    "EmAlta": EmAlta,
    "Recomendacoes": Recomendacoes,
    "RecomendacoesAceitas": RecomendacoesAceitas,
    "SessoesDoUsuario": SessionListing,
    "Usuario": Usuario,
    "BuscaLogs": BuscaLogs,
    "TrilhaLogs": TrilhaLogs,
    "KafkaTopics": KafkaTopics,
    "KafkaMessages": KafkaMessages,
    "KafkaGroups": KafkaGroups,
    "KafkaGroupLag": GroupLag,
    "MetricsSummary": MetricsSummary,
    "ToolStates": ToolStates,
    "Texto": str,
    #: ``/openapi.json`` itself: an OpenAPI document (an object).
    "OpenApiDocument": dict[str, Any],
}
