"""The published description of every event on every topic, generated from the models.

``python -m app.event_schemas`` (``make events``) writes into ``docs/events/``:

* ``v{N}/{topic}/{message}.json``: the JSON Schema (2020-12) of each event
  type of each topic, version ``N`` = :data:`app.requests.envelope.SCHEMA_VERSION`, from
  the pydantic models the readers validate with (validation mode: a field
  with a default may be absent; an event without ``schema_version`` is
  version 1). The files of older versions stay as they were published.
* ``asyncapi.json``: an AsyncAPI 3.0 document of the topics: channels (one per
  topic, its key and who writes and reads it), operations and messages, whose
  payloads refer to the schema files.

A person's personal fields travel sealed with their own key (:mod:`app.sealing`,
``docs/privacy.md``): their schemas take the clear value or a sealed one.

``python -m app.event_schemas --check`` exits 1 when the files differ from
what the models give; a test does the same.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from app.accounts.commands import (
    PaymentMade,
    PreferencesUpdated,
    SubscriptionUpdated,
    UserCreated,
    UserErased,
)
from app.guard import DeadLetter
from app.requests.envelope import SCHEMA_VERSION
from app.requests.outcomes import Outcome
from app.sealing import PERSONAL_FIELDS, SEALED_PREFIX
from app.viewing.derived_events import TitleActivity, TrendingTops
from app.viewing.session_commands import (
    SessionActivity,
    SessionEnded,
    SessionOpened,
    SessionsErased,
)
from app.viewing.viewing_events import RecommendationsRequested, Refresh, ViewingRecorded

DOCS_DIR = Path(__file__).resolve().parent.parent / "docs" / "events"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_USER_KEY = "O user_id, em decimal"
#: A personal field as the API writes it: sealed with the person's own key.
SEALED_VALUE = {
    "type": "string",
    "pattern": f"^{re.escape(SEALED_PREFIX)}[A-Za-z0-9_=-]+$",
    "description": (
        "Cifrado (AES-256-GCM) com a chave do titular; ilegível depois da exclusão "
        "(docs/privacy.md)"
    ),
}


@dataclass(frozen=True)
class Message:
    """One kind of event on a topic: its name (``event_type`` where it has one) and model."""

    name: str
    model: type[BaseModel]


@dataclass(frozen=True)
class Topic:
    """A topic of the contract (``TOPIC_PREFIX`` aside), its key, writers and readers."""

    name: str
    description: str
    key: str
    writers: str
    readers: str
    messages: tuple[Message, ...]
    compacted: bool = False


TOPICS = (
    Topic(
        "user_events",
        "Um evento por comando aceito de conta: cadastro, assinatura, pagamento, preferências, "
        "exclusão dos dados pessoais.",
        _USER_KEY,
        "a API (POST /usuarios..., DELETE /usuarios/{user_id})",
        "o agente processing (PostgreSQL) e o de log (Elasticsearch)",
        (
            Message("criar_usuario", UserCreated),
            Message("atualizar_assinatura", SubscriptionUpdated),
            Message("pagamento_realizado", PaymentMade),
            Message("atualizar_config", PreferencesUpdated),
            Message("excluir_usuario", UserErased),
        ),
    ),
    Topic(
        "viewing_events",
        "Um heartbeat do player por evento: quanto o usuário viu de um título.",
        _USER_KEY,
        "a API (POST /historico-visualizacao)",
        "o agente viewing (PostgreSQL) e o de log",
        (Message("registrar_visualizacao", ViewingRecorded),),
    ),
    Topic(
        "session_events",
        "Sessões de exibição abertas, mantidas e encerradas; as de um usuário excluído, "
        "esquecidas.",
        _USER_KEY,
        "a API (/sessoes) e o agente processing (exclusão de um usuário)",
        "o agente sessions (tabela de sessões) e o de log",
        (
            Message("iniciar_sessao", SessionOpened),
            Message("registrar_atividade", SessionActivity),
            Message("encerrar_sessao", SessionEnded),
            Message("apagar_sessoes", SessionsErased),
        ),
    ),
    Topic(
        "recommendation_requests",
        "Recomendações de um usuário a recalcular: pedidas por um cliente, ou pelo agente "
        "viewing quando o usuário começa ou termina um título (refresh, sem resultado).",
        _USER_KEY,
        "a API (POST /recomendacoes/gerar) e o agente viewing",
        "o agente recommendations (tabela de recomendações) e o de log",
        (
            Message("gerar_recomendacoes", RecommendationsRequested),
            Message("refresh", Refresh),
        ),
    ),
    Topic(
        "response_events",
        "O resultado de cada evento de comando: o status final da requisição.",
        "O correlation_id",
        "os agentes processing, viewing, sessions e recommendations",
        "o agente status (tabela de status, GET /status) e o de log",
        (Message("response", Outcome),),
    ),
    Topic(
        "dead_letters",
        "Eventos que um estágio recusou de vez, com o motivo; reenviáveis com "
        "`faust -A app dead-letters replay`.",
        "A chave do evento recusado",
        "todo agente guardado",
        "o agente de log e o comando dead-letters",
        (Message("dead_letter", DeadLetter),),
    ),
    Topic(
        "title_activity",
        "O último momento de cada espectador em cada título: o que o em-alta conta.",
        "O conteudo_id, em decimal",
        "o agente viewing",
        "o agente trending",
        (Message("title_activity", TitleActivity),),
    ),
    Topic(
        "trending_tops",
        "As listas em alta de cada partição e janela; compactado (só a última de cada chave).",
        "{janela}|{particao}",
        "o agente trending",
        "o quadro em alta de cada worker (GET /em-alta, recomendações)",
        (Message("trending_top", TrendingTops),),
        compacted=True,
    ),
)


def schema_path(topic: Topic, message: Message, version: int = SCHEMA_VERSION) -> str:
    """Where the schema of ``message`` on ``topic`` lives, relative to ``docs/events``."""
    return f"v{version}/{topic.name}/{message.name}.json"


def json_schema(topic: Topic, message: Message) -> dict[str, Any]:
    """The JSON Schema of one event type, as readers validate it."""
    schema = _sealable(message.model.model_json_schema(mode="validation"))
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$comment": f"{topic.name} v{SCHEMA_VERSION}: generated by python -m app.event_schemas",
        **schema,
    }


def _sealable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with each personal field taking its clear value or a sealed one."""
    schema = copy.deepcopy(schema)
    properties = schema.get("properties", {})
    for name in PERSONAL_FIELDS:
        if name in properties:
            clear = properties[name]
            properties[name] = {"title": clear.pop("title", name), "anyOf": [clear, SEALED_VALUE]}
    return schema


def asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every topic."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for topic in TOPICS:
        channels[topic.name] = _channel(topic)
        refs = [{"$ref": f"#/channels/{topic.name}/messages/{m.name}"} for m in topic.messages]
        for action, who in (("send", topic.writers), ("receive", topic.readers)):
            operations[f"{action}_{topic.name}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{topic.name}"},
                "summary": f"{'Escrevem' if action == 'send' else 'Leem'}: {who}",
                "messages": refs,
            }
        for message in topic.messages:
            messages[message.name] = _message(topic, message)
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Plataforma de streaming: eventos",
            "version": str(SCHEMA_VERSION),
            "description": (
                "Os tópicos Kafka da plataforma e seus eventos (JSON). Todo evento leva "
                "`schema_version`; sem ele, é da versão 1. `TOPIC_PREFIX` prefixa os nomes."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "KAFKA_BOOTSTRAP_SERVERS; o broker nativo de `make up`",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def _channel(topic: Topic) -> dict[str, Any]:
    channel: dict[str, Any] = {
        "address": topic.name,
        "description": topic.description,
        "messages": {m.name: {"$ref": f"#/components/messages/{m.name}"} for m in topic.messages},
    }
    if topic.compacted:
        config = {"cleanup.policy": ["compact"]}
        channel["bindings"] = {"kafka": {"topicConfiguration": config, "bindingVersion": "0.5.0"}}
    return channel


def _message(topic: Topic, message: Message) -> dict[str, Any]:
    return {
        "name": message.name,
        "title": message.model.__name__,
        "summary": (message.model.__doc__ or "").strip().splitlines()[0],
        "contentType": "application/json",
        "payload": {"$ref": schema_path(topic, message)},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": topic.key},
                "bindingVersion": "0.5.0",
            }
        },
    }


def documents() -> dict[str, str]:
    """Every generated file (path relative to ``docs/events`` -> its text)."""
    files = {
        schema_path(topic, message): _text(json_schema(topic, message))
        for topic in TOPICS
        for message in topic.messages
    }
    files["asyncapi.json"] = _text(asyncapi())
    return files


def stale(directory: Path = DOCS_DIR) -> list[str]:
    """The generated files missing from ``directory`` or different there."""
    return [
        path
        for path, text in documents().items()
        if not (directory / path).is_file() or (directory / path).read_text() != text
    ]


def write(directory: Path = DOCS_DIR) -> list[str]:
    """Write every generated file; the ones that changed."""
    changed = stale(directory)
    for path, text in documents().items():
        if path in changed:
            (directory / path).parent.mkdir(parents=True, exist_ok=True)
            (directory / path).write_text(text)
    return changed


def _text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check``, verify) ``docs/events``."""
    parser = argparse.ArgumentParser(prog="python -m app.event_schemas", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/events is stale")
    args = parser.parse_args(argv)
    if args.check:
        out_of_date = stale()
        for path in out_of_date:
            print(f"docs/events/{path} is out of date: run make events", file=sys.stderr)
        return 1 if out_of_date else 0
    for path in write():
        print(f"wrote docs/events/{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
