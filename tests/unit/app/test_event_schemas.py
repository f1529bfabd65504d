"""docs/events: the published schemas are the models', cover every topic, and fit what is written."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import faust
import orjson
import pytest
from jsonschema import Draft202012Validator

from agents.trending_agent import _changed_tops, indexes
from agents.viewing_agent import _activity
from app.accounts.commands import (
    PaymentMade,
    PreferencesUpdated,
    SubscriptionUpdated,
    UserCreated,
    UserErased,
)
from app.event_schemas import DOCS_DIR, TOPICS, asyncapi, schema_path, stale
from app.guard.dead_letters import dead_letter
from app.kafka.readers import Record
from app.kafka.topics import Topics
from app.requests.envelope import encode_event, encode_sealed_event
from app.requests.outcomes import refusal_response, response_event
from app.sealing import new_key
from app.settings import get_settings
from app.viewing.derived_events import forgotten_viewer
from app.viewing.session_commands import (
    SessionActivity,
    SessionEnded,
    SessionOpened,
    SessionsErased,
    session_id_of,
)
from app.viewing.titles import TitleInfo
from app.viewing.trending import Move
from app.viewing.viewing_events import RecommendationsRequested, ViewingRecorded, refresh_request
from demo.people import (
    demo_payment,
    demo_preferences,
    demo_session_fields,
    demo_subscription,
    demo_user,
    demo_viewing_fields,
)

USER = 4242


def test_the_published_schemas_and_asyncapi_are_what_the_models_give() -> None:
    assert stale() == [], "docs/events is out of date: run `make events`"


def test_every_topic_the_app_declares_is_described() -> None:
    prefix = get_settings().topic_prefix
    declared = {
        topic.get_topic_name().removeprefix(prefix)
        for topic in Topics(faust.App("schemas-tests"), get_settings()).all
    }
    assert {topic.name for topic in TOPICS} == declared


def published_schemas() -> Iterator[Path]:
    return DOCS_DIR.glob("v*/*/*.json")


@pytest.mark.parametrize("path", sorted(published_schemas()), ids=lambda p: p.stem)
def test_every_published_schema_is_a_valid_json_schema(path: Path) -> None:
    Draft202012Validator.check_schema(json.loads(path.read_text()))


def test_the_asyncapi_document_refers_only_to_what_exists() -> None:
    document = asyncapi()
    assert document["asyncapi"] == "3.0.0"
    refs = list(_refs(document))
    assert refs
    for ref in refs:
        if ref.startswith("#/"):
            assert _resolve(document, ref) is not None, ref
        else:
            assert (DOCS_DIR / ref).is_file(), ref
    for name, operation in document["operations"].items():
        channel = operation["channel"]["$ref"]
        assert all(m["$ref"].startswith(f"{channel}/messages/") for m in operation["messages"]), (
            name
        )


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def written_today() -> list[tuple[str, str, bytes]]:
    """(topic, message, value) of each event type, as today's code writes it."""
    cid = str(uuid.uuid4())
    envelope = {"correlation_id": cid, "user_id": USER, "requested_by": "tests"}
    payment = PaymentMade(**envelope, **demo_payment().model_dump())
    session = {**envelope, "session_id": session_id_of(USER, cid)}
    change = {
        "conteudo_id": 1042,
        "user_id": USER,
        "titulo": "O Último Verão",
        "tipo": "filme",
        "categoria": "Drama",
        "ultimo_acesso": "2026-12-05T10:00:00+00:00",
    }
    letter = dead_letter(Record("user_events", 1, 9, b"1", b"{}", 1.0), "invalid", "processing")
    refusal = refusal_response(encode_event(payment), "invalid event: x")
    signup = UserCreated(**envelope, **demo_user().model_dump())
    return [
        ("user_events", "criar_usuario", encode_event(signup)),
        ("user_events", "criar_usuario", encode_sealed_event(signup, new_key())),
        ("user_events", "atualizar_assinatura", encode_event(SubscriptionUpdated(**envelope, **demo_subscription().model_dump()))),
        ("user_events", "pagamento_realizado", encode_event(payment)),
        ("user_events", "atualizar_config", encode_event(PreferencesUpdated(**envelope, preferencias=demo_preferences()))),
        ("user_events", "excluir_usuario", encode_event(UserErased(**envelope))),
        ("viewing_events", "registrar_visualizacao", encode_event(ViewingRecorded(**envelope, **demo_viewing_fields()))),
        ("session_events", "iniciar_sessao", encode_event(SessionOpened(**session, **demo_session_fields()))),
        ("session_events", "registrar_atividade", encode_event(SessionActivity(**session))),
        ("session_events", "encerrar_sessao", encode_event(SessionEnded(**session))),
        ("session_events", "apagar_sessoes", encode_event(SessionsErased(**envelope))),
        ("recommendation_requests", "gerar_recomendacoes", encode_event(RecommendationsRequested(**envelope))),
        ("recommendation_requests", "refresh", refresh_request(USER)),
        ("response_events", "response", orjson.dumps(response_event(payment, "success", "ok"))),
        ("response_events", "response", orjson.dumps(refusal)),
        ("dead_letters", "dead_letter", letter[1]),
        ("title_activity", "title_activity", _activity(change)[1]),
        ("title_activity", "title_activity", forgotten_viewer(TitleInfo(1042, "O Último Verão", "filme", "Drama"), USER, "2026-12-05T10:00:00+00:00")[1]),
        ("trending_tops", "trending_top", _a_trending_top()),
    ]  # fmt: skip


def _a_trending_top() -> bytes:
    index = indexes.of(0)
    index.learn(TitleInfo(1042, "O Último Verão", "filme", "Drama"))
    index.move(Move(1042, USER, None, 1_800_000_000), 1_800_000_000.0)
    (message, *_) = _changed_tops(0, 1_800_000_000.0)
    return message[1]


@pytest.mark.parametrize(("topic", "name", "value"), written_today(), ids=lambda x: str(x)[:24])
def test_what_the_code_writes_today_is_what_its_schema_says(
    topic: str, name: str, value: bytes
) -> None:
    (described,) = (m for t in TOPICS if t.name == topic for m in t.messages if m.name == name)
    (owner,) = (t for t in TOPICS if t.name == topic)
    schema = json.loads((DOCS_DIR / schema_path(owner, described)).read_text())
    event = orjson.loads(value)
    Draft202012Validator(schema).validate(event)
    assert set(event) <= set(schema["properties"]), "a field the schema does not describe"
