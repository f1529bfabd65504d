"""/openapi.json: a valid OpenAPI 3.1 document covering every route the app serves."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from aiohttp import web
from openapi_spec_validator import validate

from app.accounts.commands import NewUser, Payment
from app.application import platform
from app.telemetry import live_figures
from app.viewing.titles import Title
from web import openapi_answers, openapi_spec
from web.title_cache import CACHED_FIELDS

app = platform().app

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
COMMAND_ROUTES = [
    "/usuarios",
    "/usuarios/{user_id}/assinatura",
    "/usuarios/{user_id}/pagamento",
    "/usuarios/{user_id}/config",
]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    """The spec of the app as ``faust worker`` serves it: every stage imported."""
    app.discover()
    app.web.init_server()
    return openapi_spec.build_spec(app.web.web_app.router, dict(app.web.views))


def registered_routes() -> set[tuple[str, str]]:
    routes = set()
    for route in app.web.web_app.router.routes():
        resource = route.resource
        if resource is None or isinstance(resource, web.StaticResource):
            continue  # file trees (dashboard and Swagger UI assets) are not operations
        if route.method not in {"HEAD", "OPTIONS"}:
            routes.add((route.method.lower(), resource.canonical))
    return routes


def test_the_spec_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"] == "3.1.0"
    validate(spec)


def test_every_registered_route_is_in_the_spec(spec: dict[str, Any]) -> None:
    documented = {(method, path) for path, ops in spec["paths"].items() for method in ops}
    assert registered_routes() <= documented
    assert documented <= registered_routes()


def test_faust_views_are_all_there(spec: dict[str, Any]) -> None:
    assert set(app.web.views) <= set(spec["paths"])


def test_request_bodies_are_the_models_schemas(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    new_user = schemas["NewUser"]
    assert new_user["properties"].keys() == NewUser.model_json_schema()["properties"].keys()
    assert schemas["Payment"]["required"] == Payment.model_json_schema()["required"]
    body = spec["paths"]["/usuarios"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/NewUser"}


@pytest.mark.parametrize("path", COMMAND_ROUTES)
def test_commands_document_202_and_every_error(spec: dict[str, Any], path: str) -> None:
    responses = spec["paths"][path]["post"]["responses"]
    assert {"202", "400", "404", "413", "422", "503"} <= set(responses)
    assert "$ref" in responses["202"]["content"]["application/json"]["schema"]
    for code in ("400", "422", "503"):
        assert responses[code]["content"]["application/json"]["schema"] == ERROR_REF


def test_path_parameters_are_declared(spec: dict[str, Any]) -> None:
    for path, operations in spec["paths"].items():
        names = {part[1:-1] for part in path.split("/") if part.startswith("{")}
        for operation in operations.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, path


def test_error_body_has_error_and_optional_campos(spec: dict[str, Any]) -> None:
    error = spec["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["error"]
    assert "campos" in error["properties"]


def test_config_accepts_query_parameters(spec: dict[str, Any]) -> None:
    parameters = spec["paths"]["/usuarios/{user_id}/config"]["post"]["parameters"]
    assert {p["name"] for p in parameters if p["in"] == "query"} == {"idioma", "notificacoes"}


def test_protected_operations_declare_their_key_and_public_ones_do_not(
    spec: dict[str, Any],
) -> None:
    operations = {
        (method.upper(), path): op
        for path, item in spec["paths"].items()
        for method, op in item.items()
    }
    assert "security" not in operations[("GET", "/health")]
    post = operations[("POST", "/usuarios")]
    assert {"401", "403", "429"} <= set(post["responses"])
    assert post["security"] == [{"ApiKey": []}, {"Bearer": []}]
    assert "`write`" in post["description"]


def test_the_catalogue_documents_its_filters_answers_and_integer_ids(spec: dict[str, Any]) -> None:
    listing = spec["paths"]["/conteudos"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {
        "tipo",
        "categoria",
        "q",
        "limit",
        "cursor",
    }
    assert listing["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PaginaConteudos"
    }
    assert "422" in listing["responses"]
    title = spec["paths"]["/conteudos/{conteudo_id}"]["get"]
    assert title["parameters"][0]["schema"]["type"] == "integer"
    assert "404" in title["responses"]
    cache = spec["paths"]["/cache/conteudo/{conteudo_id}"]
    assert "`write`" in cache["post"]["description"] and "`read`" in cache["get"]["description"]
    schemas = spec["components"]["schemas"]
    assert "visualizacoes" in schemas["Conteudo"]["properties"]
    assert "em_cache_ate" in schemas["ConteudoEmCache"]["required"]


def test_the_catalogue_answers_documented_are_the_ones_served() -> None:
    title_fields = [field.name for field in dataclasses.fields(Title)]
    assert list(openapi_answers.Conteudo.__annotations__) == [*title_fields, "visualizacoes"]
    cached = openapi_answers.ConteudoEmCache.__annotations__
    assert list(cached) == [*CACHED_FIELDS, "em_cache_ate", "cache"]


def test_the_session_paths_document_their_commands_listing_and_ids(spec: dict[str, Any]) -> None:
    opening = spec["paths"]["/sessoes"]["post"]
    assert {p["name"] for p in opening["parameters"] if p["in"] == "query"} == {
        "user_id",
        "dispositivo",
        "localizacao",
    }
    schemas = spec["components"]["schemas"]
    assert schemas["NewSession"]["required"] == ["user_id"]  # the rest has demo values
    assert set(schemas["SessaoAceita"]["required"]) == {
        "session_id",
        "user_id",
        "dispositivo",
        "localizacao",
    }
    for method, path in [
        ("put", "/sessoes/{session_id}/atividade"),
        ("delete", "/sessoes/{session_id}"),
    ]:
        command = spec["paths"][path][method]
        assert {"202", "404", "503"} <= set(command["responses"])
        assert "`write`" in command["description"]
        session_id = next(p for p in command["parameters"] if p["name"] == "session_id")
        assert "pattern" in session_id["schema"]
        assert "Idempotency-Key" in {p["name"] for p in command["parameters"]}
    listing = spec["paths"]["/sessoes/usuario/{user_id}"]["get"]
    assert {p["name"] for p in listing["parameters"] if p["in"] == "query"} == {"ativas_apenas"}
    assert {"200", "404", "422", "503"} <= set(listing["responses"])
    listed = schemas["ListedSession"]["properties"]
    assert set(listed) == {
        "session_id",
        "dispositivo",
        "localizacao",
        "iniciada_em",
        "ultima_atividade",
        "encerrada_em",
        "ativa",
        "motivo_encerramento",
    }


def operations_without_answer_schemas(spec: dict[str, Any]) -> list[str]:
    """Every operation lacking a schema for its success answer or for one of its errors."""
    missing = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            if operation.get("x-undocumented"):
                missing.append(f"{where}: not in web.openapi_operations.OPERATIONS")
            for code, answer in operation["responses"].items():
                if code.startswith("3"):
                    continue  # a redirect has no body
                contents = answer.get("content", {}).values()
                if not contents or not all("schema" in content for content in contents):
                    missing.append(f"{where} {code}: no schema")
    return missing


def test_every_route_of_the_live_router_has_its_answers_and_errors_described(
    spec: dict[str, Any],
) -> None:
    for method, path in registered_routes():
        responses = spec["paths"][path][method]["responses"]
        assert any(code[0] in "23" for code in responses), f"{method} {path}: no success answer"
    assert operations_without_answer_schemas(spec) == []


def test_a_route_missing_from_the_table_is_listed_and_caught() -> None:
    router = web.UrlDispatcher()

    async def handler(request: web.Request) -> web.Response:
        return web.json_response({})

    router.add_get("/nao-documentada", handler)
    spec = openapi_spec.build_spec(router, {})
    operation = spec["paths"]["/nao-documentada"]["get"]
    assert operation["x-undocumented"] is True
    assert operations_without_answer_schemas(spec) == [
        "GET /nao-documentada: not in web.openapi_operations.OPERATIONS",
        "GET /nao-documentada 200: no schema",
    ]


def test_protected_reads_document_their_answers_and_errors(spec: dict[str, Any]) -> None:
    ref = "#/components/schemas/{}".format
    for path, answer in [
        ("/usuarios/{user_id}", "Usuario"),
        ("/logs", "BuscaLogs"),
        ("/logs/{correlation_id}", "TrilhaLogs"),
        ("/api/kafka/topics", "KafkaTopics"),
        ("/api/kafka/topics/{topic}/messages", "KafkaMessages"),
        ("/api/kafka/groups", "KafkaGroups"),
        ("/api/kafka/groups/{group_id}", "KafkaGroupLag"),
        ("/api/metrics/summary", "MetricsSummary"),
    ]:
        responses = spec["paths"][path]["get"]["responses"]
        assert responses["200"]["content"]["application/json"]["schema"] == {"$ref": ref(answer)}
        assert {"401", "403", "429"} <= set(responses), path


def test_the_live_figures_documented_are_the_ones_served() -> None:
    summary = live_figures.summary()
    documented = openapi_answers.MetricsSummary.__annotations__
    assert set(documented) == {"worker", "consumer_lag", "agents", *summary}
    second = [f.name for f in dataclasses.fields(live_figures.Second)]
    assert list(openapi_answers.SecondFigures.__annotations__) == ["t", *second]
    assert set(summary["series"][0]) == {"t", *second}
