"""OpenAPI 3.1 at ``/openapi.json`` and Swagger UI at ``/docs`` (assets served locally).

The spec is built from what the app really serves: every route registered on
its aiohttp router (Faust views and raw routes alike) becomes an operation, so
a new view is documented as soon as it exists (from its docstrings) and no
route can be missing. Request bodies are the JSON Schemas of the pydantic
command models that validate them (:mod:`app.models`), 202 answers embed the
event models' schemas, and every error is the ``{error, campos?}`` body of
:mod:`web.errors`. :data:`OPERATIONS` only says which model and which
answers belong to which route; it holds no field rules.

Swagger UI's page and assets come from the ``swagger-ui-py`` package (its
template and ``static/`` folder); its own aiohttp handler is not used because
it would serve a second copy of the spec with a Swagger 2 ``host`` field.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired

from aiohttp import web
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema
from swagger_ui.core import ApplicationDocument  # type: ignore[import-untyped]

# pydantic needs typing_extensions' TypedDict on Python < 3.12.
from typing_extensions import TypedDict

from app.application import app
from app.events import Envelope, PaymentMade, SubscriptionUpdated, UserCreated
from app.models import (
    MAX_TITLE_ID,
    AgeRating,
    CatalogueQuery,
    HistoryQuery,
    LogQuery,
    NewSession,
    NewUser,
    Payment,
    Preferences,
    RecommendationsRequest,
    SessionId,
    SessionQuery,
    SubscriptionChange,
    TitleKind,
    TopicMessagesQuery,
    TrendingQuery,
    Viewing,
)
from app.session_events import SessionCommand, SessionOpened
from app.session_state import SessionListing
from app.status_record import StatusRecord
from web.auth import required_scope
from web.health import VERSION

OPENAPI_VERSION = "3.1.0"
SPEC_PATH = "/openapi.json"
DOCS_PATH = "/docs"
DOCUMENTED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"{(\w+)(?::[^}]*)?}")
_TEXT = {"type": "string"}


# ---------- answer bodies (what the views return; field rules live in app.models) ----------


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
}

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
    "SessaoAceita": SessionOpened,
    # Activity and ending: the session named, and its user.
    "SessaoReferida": SessionCommand,
}

ERRORS = {
    400: "O corpo não é um objeto JSON",
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
#: Every command takes it (web/accepting.py): the same key, the same request.
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
    """A command on one session: no body, the session in the path."""
    return Operation(summary, "Sessões", (202, "AceitoComandoSessao"), errors=(404, 503))


OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/"): Operation("Banner da API", "Operação", (200, "Banner")),
    ("GET", "/health"): Operation(
        "Saúde do worker e das dependências", "Operação", (200, "Health"), errors=(503,)
    ),
    ("POST", "/usuarios"): _command("Criar usuário", NewUser, "AceitoUsuario"),
    ("GET", "/usuarios/{user_id}"): Operation(
        "Usuário com assinatura, preferências e pagamentos", "Consultas", errors=(404, 503)
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
        "Métricas Prometheus (Faust e HTTP)", "Operação", content_type="text/plain"
    ),
    ("GET", "/api/metrics/summary"): Operation(
        "Números ao vivo deste worker (dashboard)", "Operação"
    ),
    ("GET", "/logs"): Operation(
        "Explorador de logs: busca em system_logs com histograma (só as próprias, sem admin)",
        "Operação",
        query=LogQuery,
        errors=(422, 503),
    ),
    ("GET", "/logs/{correlation_id}"): Operation(
        "Trilha de uma requisição em system_logs", "Consultas", errors=(404, 503)
    ),
    ("GET", "/api/kafka/topics"): Operation(
        "Kafka: tópicos com partições e offsets", "Operação", errors=(503,)
    ),
    ("GET", "/api/kafka/topics/{topic}/messages"): Operation(
        "Kafka: mensagens mais recentes de um tópico (mascaradas)",
        "Operação",
        query=TopicMessagesQuery,
        errors=(404, 422, 503),
    ),
    ("GET", "/api/kafka/groups"): Operation(
        "Kafka: grupos de consumidores", "Operação", errors=(503,)
    ),
    ("GET", "/api/kafka/groups/{group_id}"): Operation(
        "Kafka: lag de um grupo por partição", "Operação", errors=(404, 503)
    ),
    ("GET", "/dashboard/tools"): Operation(
        "Quais ferramentas de operação respondem (Kafka UI, Kibana, Adminer)", "Operação"
    ),
    ("GET", "/dashboard/kafka"): Operation(
        "Dashboard: visão do Kafka", "Operação", content_type="text/html"
    ),
    ("GET", "/dashboard/logs"): Operation(
        "Dashboard: explorador de logs", "Operação", content_type="text/html"
    ),
    ("GET", SPEC_PATH): Operation("Esta especificação OpenAPI 3.1", "Operação"),
    ("GET", DOCS_PATH): Operation("Swagger UI", "Operação", content_type="text/html"),
    ("GET", f"{DOCS_PATH}/"): Operation("Swagger UI", "Operação", content_type="text/html"),
    ("GET", "/dashboard/"): Operation(
        "Dashboard de operação", "Operação", content_type="text/html"
    ),
    ("GET", "/dashboard"): Operation("Redireciona para /dashboard/", "Operação", (302, None)),
}

#: 202 answer component -> (its section key, as in web.users, and that section's component).
ACCEPTED = {
    "AceitoUsuario": ("usuario", "UsuarioAceito"),
    "AceitoAssinatura": ("assinatura", "AssinaturaAceita"),
    "AceitoPagamento": ("pagamento", "PagamentoAceito"),
    "AceitoConfig": ("config", "ConfigAceita"),
    "AceitoVisualizacao": ("visualizacao", "VisualizacaoAceita"),
    "AceitoRecomendacoes": ("recomendacoes", "RecomendacoesAceitas"),
    "AceitoSessao": ("sessao", "SessaoAceita"),
    "AceitoComandoSessao": ("sessao", "SessaoReferida"),
}


# ---------- components ----------


def build_components() -> dict[str, Any]:
    """Schemas of the commands, the 202 answers and every other answer body."""
    inputs = [(model, "validation") for model in (*COMMANDS, *QUERIES)]
    outputs = [(model, "serialization") for model in SECTIONS.values()]
    _, top = models_json_schema([*inputs, *outputs], ref_template=_REF)  # type: ignore[list-item]
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    for name, model in SECTIONS.items():
        schemas[name] = section_schema(schemas.pop(model.__name__), keep={"user_id"}) | {
            "title": name
        }
    schemas["ConfigAceita"] = _config_section(schemas)
    for name, (section, ref) in ACCEPTED.items():
        schemas[name] = accepted_schema(section, ref)
    for name, answer in ANSWER_TYPES.items():
        schemas[name] = TypeAdapter(answer).json_schema(ref_template=_REF, mode="serialization")
    schemas.update(_answer_defs(schemas))
    return schemas


def section_schema(event_schema: dict[str, Any], keep: set[str]) -> dict[str, Any]:
    """An event's schema without its envelope (the fields a 202 section leaves out)."""
    dropped = (set(Envelope.model_fields) | {"event_type"}) - keep
    schema = copy.deepcopy(event_schema)
    schema["properties"] = {k: v for k, v in schema["properties"].items() if k not in dropped}
    schema["required"] = [k for k in schema.get("required", []) if k not in dropped]
    return schema


def accepted_schema(section: str, section_ref: str) -> dict[str, Any]:
    """A 202 answer, as built by ``web.accepting.accept``."""
    return {
        "type": "object",
        "required": ["mensagem", "correlation_id", "status_url", section],
        "properties": {
            "mensagem": {"type": "string"},
            "correlation_id": {"type": "string", "format": "uuid"},
            "status_url": {"type": "string", "examples": ["/status/{correlation_id}"]},
            section: {"$ref": _REF.format(model=section_ref)},
        },
    }


def _config_section(schemas: dict[str, Any]) -> dict[str, Any]:
    preferences = schemas.get("Preferences") or schemas["Preferences-Input"]
    schema = copy.deepcopy(preferences)
    schema["properties"] = {"user_id": {"type": "integer"}, **schema["properties"]}
    schema["required"] = ["user_id", *schema.get("required", [])]
    schema["title"] = "ConfigAceita"
    return schema


def _answer_defs(schemas: dict[str, Any]) -> dict[str, Any]:
    """Lift nested ``$defs`` of the TypedDict schemas into components."""
    lifted: dict[str, Any] = {}
    for schema in schemas.values():
        lifted.update(schema.pop("$defs", {}))
    return lifted


# ---------- paths ----------


def build_spec(router: web.UrlDispatcher, views: dict[str, Any]) -> dict[str, Any]:
    """The whole OpenAPI document for the routes on ``router``."""
    schemas = build_components()
    paths: dict[str, Any] = {}
    for method, path, handler in documented_routes(router):
        doc = describe(method, path, handler, views.get(path), schemas)
        paths.setdefault(path, {})[method.lower()] = doc
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Plataforma de streaming: API de eventos",
            "version": VERSION,
            "description": (
                "Todo comando é assíncrono: publica um evento no Kafka (`user_events`, "
                "`session_events`) e responde 202 com `correlation_id` e `status_url`. "
                "Sem corpo, usa dados de demonstração."
            ),
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def documented_routes(router: web.UrlDispatcher) -> list[tuple[str, str, Any]]:
    """(method, path template, handler) of every route but HEAD and static-file trees."""
    seen: dict[tuple[str, str], Any] = {}
    for route in router.routes():
        resource = route.resource
        if resource is None or isinstance(resource, web.StaticResource):
            continue
        if route.method in DOCUMENTED_METHODS:
            seen.setdefault((route.method, resource.canonical), route.handler)
    return [(method, path, handler) for (method, path), handler in seen.items()]


def describe(
    method: str, path: str, handler: Any, view: Any, schemas: dict[str, Any]
) -> dict[str, Any]:
    """The operation object of one route."""
    op = OPERATIONS.get((method, path)) or _undocumented(method, path)
    doc: dict[str, Any] = {
        "operationId": _operation_id(method, path),
        "summary": op.summary,
        "tags": [op.tag],
        "responses": _responses(op),
    }
    description = _docstring(view, method) or inspect.getdoc(handler)
    if description:
        doc["description"] = description
    parameters = _path_parameters(path) + _query_parameters(op.query, schemas)
    if op.ok[0] == 202:  # every command: web.accepting.envelope reads the header
        parameters.append(IDEMPOTENCY_PARAMETER)
    if parameters:
        doc["parameters"] = parameters
    if op.body is not None:
        doc["requestBody"] = _request_body(op.body, schemas)
    scope = required_scope(method, path)
    if scope is not None:
        _require_key(doc, scope)
    return doc


def _require_key(doc: dict[str, Any], scope: str) -> None:
    """Mark an operation as needing a key with ``scope``, and its 401/403/429 answers."""
    doc["security"] = [{name: []} for name in SECURITY_SCHEMES]
    note = f"Exige uma chave de API com o escopo `{scope}`."
    doc["description"] = f"{doc['description']}\n\n{note}" if "description" in doc else note
    for code, description in AUTH_ERRORS.items():
        doc["responses"][str(code)] = {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": _REF.format(model="ErrorBody")}}},
        }


def _undocumented(method: str, path: str) -> Operation:
    tag = "Faust" if path.startswith("/router") else "Outros"
    return Operation(f"{method} {path}", tag)


def _responses(op: Operation) -> dict[str, Any]:
    status, schema = op.ok
    ok: dict[str, Any] = {"description": "Aceito" if status == 202 else "OK"}
    if status == 302:
        ok = {"description": "Redirecionamento"}
    elif schema is not None:
        ok["content"] = {op.content_type: {"schema": {"$ref": _REF.format(model=schema)}}}
    else:
        ok["content"] = {op.content_type: {}}
    answers = {str(status): ok}
    for code in op.errors:
        answers[str(code)] = {
            "description": ERRORS[code],
            "content": {"application/json": {"schema": {"$ref": _REF.format(model="ErrorBody")}}},
        }
    return answers


def _request_body(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    name = _component_name(model, schemas)
    return {
        "required": False,
        "description": "Sem corpo, a API usa dados de demonstração realistas.",
        "content": {"application/json": {"schema": {"$ref": _REF.format(model=name)}}},
    }


def _path_parameters(path: str) -> list[dict[str, Any]]:
    """Path parameters; those named like an envelope field (``user_id``,
    ``correlation_id``) take that field's schema, others :data:`PATH_SCHEMAS`'."""
    schemas = Envelope.model_json_schema()["properties"] | PATH_SCHEMAS
    return [
        {"name": name, "in": "path", "required": True, "schema": schemas.get(name, _TEXT)}
        for name in _PATH_PARAM.findall(path)
    ]


def _query_parameters(model: type[BaseModel] | None, schemas: dict[str, Any]) -> list[Any]:
    if model is None:
        return []
    properties = schemas[_component_name(model, schemas)]["properties"]
    return [
        {"name": name, "in": "query", "required": False, "schema": properties[name]}
        for name in model.model_fields
    ]


def _component_name(model: type[BaseModel], schemas: dict[str, Any]) -> str:
    name = model.__name__
    return name if name in schemas else f"{name}-Input"


def _docstring(view: Any, method: str) -> str | None:
    handler = getattr(view, method.lower(), None) if view is not None else None
    return inspect.getdoc(handler) if handler is not None else None


def _operation_id(method: str, path: str) -> str:
    words = re.sub(r"[^0-9a-zA-Z]+", "_", path).strip("_") or "root"
    return f"{method.lower()}_{words}{'_slash' if path.endswith('/') and path != '/' else ''}"


# ---------- serving ----------


def _web_app() -> web.Application:
    """The aiohttp application under Faust's web server (the aiohttp driver's)."""
    return app.web.web_app  # type: ignore[attr-defined]


_cache: dict[str, bytes] = {}


def spec_bytes() -> bytes:
    """The spec as JSON, built once (after every module registered its routes)."""
    if "spec" not in _cache:
        spec = build_spec(_web_app().router, dict(app.web.views))
        _cache["spec"] = json.dumps(spec, ensure_ascii=False).encode()
    return _cache["spec"]


async def openapi_json(request: web.Request) -> web.Response:
    """``GET /openapi.json``: the OpenAPI 3.1 description of this API."""
    return web.Response(body=spec_bytes(), content_type="application/json")


def swagger_page() -> str:
    """Swagger UI's page from swagger-ui-py's template, pointed at our spec."""
    doc = ApplicationDocument(
        _web_app(), url_prefix=DOCS_PATH, config_url=SPEC_PATH, title="API · Swagger UI"
    )
    doc.parameters["url"] = json.dumps(SPEC_PATH)
    return str(doc.doc_html)


async def swagger_ui(request: web.Request) -> web.Response:
    """``GET /docs``: Swagger UI for ``/openapi.json``, assets from this server."""
    return web.Response(text=swagger_page(), content_type="text/html")


def mount(router: web.UrlDispatcher) -> None:
    """Add ``/openapi.json``, ``/docs`` and Swagger UI's assets to ``router``."""
    static_dir = ApplicationDocument(router, config_url=SPEC_PATH).static_dir
    router.add_get(SPEC_PATH, openapi_json, name="openapi")
    router.add_get(DOCS_PATH, swagger_ui, name="docs")
    router.add_get(f"{DOCS_PATH}/", swagger_ui, name="docs-slash")
    router.add_static(f"{DOCS_PATH}/static", static_dir, name="docs-assets")


mount(_web_app().router)
