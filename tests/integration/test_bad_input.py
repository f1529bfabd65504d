"""Bad requests get a clear 4xx with field-level detail; nothing is published."""

from __future__ import annotations

import uuid

import httpx
import pytest

pytestmark = pytest.mark.integration


def test_malformed_json_is_400(api: httpx.Client) -> None:
    answer = api.post(
        "/usuarios", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400
    assert "JSON" in answer.json()["error"]


def test_invalid_fields_are_422_listing_each_field(api: httpx.Client) -> None:
    answer = api.post("/usuarios", json={"nome": "", "email": "x", "cpf": "111.111.111-11"})
    assert answer.status_code == 422
    assert {f["campo"] for f in answer.json()["campos"]} == {"nome", "email", "cpf"}


@pytest.mark.parametrize(
    ("path", "body", "fields"),
    [
        ("assinatura", {"plano": "Ouro", "inicio": "2030-02-01", "fim": "2030-01-01"}, {"plano"}),
        (
            "assinatura",
            {"plano": "Premium", "inicio": "2030-02-01", "fim": "2030-01-01"},
            {"corpo"},
        ),
        ("pagamento", {"valor": -5, "forma_pagamento": "Cheque"}, {"valor", "forma_pagamento"}),
        ("pagamento", {"valor": 1.234, "forma_pagamento": "Pix"}, {"valor"}),
        ("config", {"idioma": "português", "notificacoes": "talvez"}, {"idioma", "notificacoes"}),
    ],
)
def test_each_command_validates_its_fields(
    api: httpx.Client, path: str, body: dict[str, object], fields: set[str]
) -> None:
    answer = api.post(f"/usuarios/1/{path}", json=body)
    assert answer.status_code == 422, answer.text
    assert {f["campo"] for f in answer.json()["campos"]} == fields


def test_body_over_the_limit_is_413(api: httpx.Client) -> None:
    answer = api.post("/usuarios", content=b"x" * 200_000)
    assert answer.status_code == 413


@pytest.mark.parametrize("user_id", ["abc", "0", "1.5", str(2**53)])
def test_path_id_that_cannot_be_a_user_is_404(api: httpx.Client, user_id: str) -> None:
    assert api.post(f"/usuarios/{user_id}/pagamento").status_code == 404


def test_status_of_an_id_never_issued_is_404(api: httpx.Client) -> None:
    assert api.get(f"/status/{uuid.uuid4()}").status_code == 404
    assert api.get("/status/not-an-id").status_code == 404


def test_status_right_after_202_is_never_404(api: httpx.Client) -> None:
    for _ in range(20):
        correlation_id = api.post("/usuarios").json()["correlation_id"]
        assert api.get(f"/status/{correlation_id}").json()["status"] in {"pendente", "success"}


def test_unknown_route_and_method_answer_json(api: httpx.Client) -> None:
    assert api.get("/nada").json()["error"]
    answer = api.delete("/health")
    assert answer.status_code == 405 and answer.json()["error"]
