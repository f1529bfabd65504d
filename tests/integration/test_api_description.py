"""Real answers on real data are what ``/openapi.json`` documents.

Schemathesis (``make chaos``, scenario 7) fuzzes every operation, but its
made-up ids mostly find nothing (404): here the reads answer about a user,
a request and topics that exist, and each body is checked against the
schema the served document gives its status code.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from harness.workers import Worker
from tests.support.flow import create_user, settle

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def spec(worker: Worker) -> dict[str, Any]:
    return dict(httpx.get(f"{worker.url}/openapi.json", timeout=10).json())


def assert_documented(spec: dict[str, Any], template: str, answer: httpx.Response) -> None:
    """``answer`` has a status code, content type and body the spec documents for ``template``."""
    method = answer.request.method.lower()
    documented = spec["paths"][template][method]["responses"]
    assert str(answer.status_code) in documented, (template, answer.status_code, answer.text)
    content = documented[str(answer.status_code)]["content"]
    assert answer.headers["content-type"].split(";")[0] in content
    schema = content["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": spec["components"]})
    validator.validate(answer.json())


def eventually_found(api: httpx.Client, path: str, **params: Any) -> httpx.Response:
    """``path`` once it answers 200 (what Elasticsearch indexes shows up within seconds)."""
    deadline = time.monotonic() + 30
    while True:
        answer = api.get(path, params=params)
        if answer.status_code == 200 or time.monotonic() > deadline:
            return answer
        time.sleep(0.5)


def test_the_reads_of_a_real_user_and_request_answer_as_documented(
    api: httpx.Client, spec: dict[str, Any]
) -> None:
    user_id = create_user(api)
    api.post(f"/usuarios/{user_id}/assinatura", json={"plano": "Premium"})
    paid = api.post(
        f"/usuarios/{user_id}/pagamento", json={"valor": 19.9, "forma_pagamento": "Pix"}
    )
    settle(api, user_id)
    correlation_id = paid.json()["correlation_id"]

    user = api.get(f"/usuarios/{user_id}")
    assert user.json()["assinatura"] and user.json()["pagamentos"]
    assert_documented(spec, "/usuarios/{user_id}", user)
    assert_documented(spec, "/usuarios/{user_id}", api.get("/usuarios/1"))
    assert_documented(spec, "/status/{correlation_id}", api.get(f"/status/{correlation_id}"))
    trail = eventually_found(api, f"/logs/{correlation_id}")
    assert trail.json()["total"] >= 1
    assert_documented(spec, "/logs/{correlation_id}", trail)
    search = api.get("/logs", params={"user_id": user_id, "desde": "2020-01-01T00:00:00Z"})
    assert search.json()["total"] >= 1
    assert_documented(spec, "/logs", search)
    assert_documented(spec, "/logs", api.get("/logs", params={"limit": 0}))


def test_the_operators_reads_answer_as_documented(
    api: httpx.Client, worker: Worker, spec: dict[str, Any]
) -> None:
    topics = api.get("/api/kafka/topics")
    assert_documented(spec, "/api/kafka/topics", topics)
    messages = api.get(f"/api/kafka/topics/{worker.topic('response_events')}/messages")
    assert_documented(spec, "/api/kafka/topics/{topic}/messages", messages)
    groups = api.get("/api/kafka/groups")
    assert_documented(spec, "/api/kafka/groups", groups)
    group = groups.json()["app_group"]
    assert_documented(spec, "/api/kafka/groups/{group_id}", api.get(f"/api/kafka/groups/{group}"))
    assert_documented(spec, "/api/metrics/summary", api.get("/api/metrics/summary"))
    assert_documented(spec, "/dashboard/tools", api.get("/dashboard/tools"))
    assert_documented(spec, "/health", api.get("/health"))
    assert_documented(spec, "/", api.get("/"))
