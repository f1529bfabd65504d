"""The OpenAPI 3.1 document of the routes the app really serves.

Every route registered on the aiohttp router (Faust views and raw routes
alike) becomes an operation, so no route can be missing from the document;
what :data:`web.openapi_operations.OPERATIONS` says of it gives its answers.
Request bodies are the JSON Schemas of the pydantic command models that
validate them (each concept's commands, e.g. :mod:`app.accounts.commands`), 202 answers embed the event models'
schemas, other answers are :mod:`web.openapi_answers`' types, and every error
is the ``{error, campos?}`` body of :mod:`web.errors`. A route the table does
not know still gets an entry (``x-undocumented``), without an answer schema:
``tests/unit/web/test_openapi.py`` fails on it.
"""

from __future__ import annotations

import copy
import inspect
import re
from typing import Any

from aiohttp import web
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from app.requests.envelope import Envelope
from web.auth import required_scope
from web.health import VERSION
from web.openapi_answers import ANSWER_TYPES
from web.openapi_operations import (
    ACCEPTED,
    AUTH_ERRORS,
    COMMANDS,
    ERRORS,
    IDEMPOTENCY_PARAMETER,
    OPERATIONS,
    PATH_SCHEMAS,
    QUERIES,
    SECTIONS,
    SECURITY_SCHEMES,
    Operation,
)
from web.openapi_personal_data import PERSONAL_DATA_TYPES

OPENAPI_VERSION = "3.1.0"
DOCUMENTED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"{(\w+)(?::[^}]*)?}")
_TEXT = {"type": "string"}


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
    for name, answer in (ANSWER_TYPES | PERSONAL_DATA_TYPES).items():
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
    """A 202 answer, as built by ``web.intake.accept``."""
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
    if (method, path) not in OPERATIONS:  # served, but the table says nothing of its answers
        doc["x-undocumented"] = True
    description = _docstring(view, method) or inspect.getdoc(handler)
    if description:
        doc["description"] = description
    parameters = _path_parameters(path) + _query_parameters(op.query, schemas)
    if op.ok[0] == 202:  # every command: web.intake.envelope reads the header
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
    """A bare entry for a route :data:`OPERATIONS` lacks: listed, with no answer schema."""
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
