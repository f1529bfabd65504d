"""Every endpoint end to end on the real services: POST -> 202 -> status -> rows."""

from __future__ import annotations

import time

import httpx
import pytest

from app.requests.envelope import CorrelationIds
from app.settings import get_settings
from demo.people import demo_user
from harness.services import pg_rows
from harness.workers import ADMIN, wait_for_final_status
from tests.support.flow import create_user, settle

pytestmark = pytest.mark.integration


def test_banner_and_health_answer(api: httpx.Client) -> None:
    assert api.get("/").json()["status"] == "success"
    health = api.get("/health").json()
    assert health["kafka_connected"] is True
    assert health["dependencies"]["postgres"]["status"] == "up"


def test_new_user_is_accepted_then_stored(api: httpx.Client) -> None:
    person = demo_user()
    answer = api.post("/usuarios", json=person.model_dump())
    assert answer.status_code == 202
    body = answer.json()
    assert body["status_url"] == f"/status/{body['correlation_id']}"
    user_id = body["usuario"]["user_id"]
    assert isinstance(user_id, int) and 1 <= user_id <= 2**53 - 1

    status = wait_for_final_status(api, body["correlation_id"])
    assert (status["status"], status["original_event_type"]) == ("success", "criar_usuario")
    assert status["user_id"] == user_id
    assert pg_rows("SELECT nome, email, cpf FROM usuarios WHERE user_id = %s", [user_id]) == [
        (person.nome, person.email, person.cpf)
    ]


def test_post_without_body_uses_demo_data(api: httpx.Client) -> None:
    answer = api.post("/usuarios")
    assert answer.status_code == 202
    assert wait_for_final_status(api, answer.json()["correlation_id"])["status"] == "success"
    assert answer.json()["usuario"]["cpf"]


def test_subscription_payment_and_config_are_applied(api: httpx.Client) -> None:
    user_id = create_user(api)
    answers = [
        api.post(f"/usuarios/{user_id}/assinatura", json={"plano": "Padrão"}),
        api.post(f"/usuarios/{user_id}/pagamento", json={"valor": 39.9, "forma_pagamento": "Pix"}),
        api.post(
            f"/usuarios/{user_id}/config", params={"idioma": "en-US", "notificacoes": "false"}
        ),
    ]
    assert [a.status_code for a in answers] == [202, 202, 202]
    for answer in answers:
        assert wait_for_final_status(api, answer.json()["correlation_id"])["status"] == "success"

    assert pg_rows("SELECT plano FROM assinaturas WHERE user_id = %s", [user_id]) == [("Padrão",)]
    assert pg_rows("SELECT valor::text FROM pagamentos WHERE user_id = %s", [user_id]) == [
        ("39.90",)
    ]
    assert pg_rows(
        "SELECT idioma, notificacoes FROM preferencias WHERE user_id = %s", [user_id]
    ) == [("en-US", False)]
    user = api.get(f"/usuarios/{user_id}").json()
    assert user["assinatura"]["plano"] == "Padrão"
    assert user["pagamentos"][0]["valor"] == 39.9
    assert user["preferencias"] == {"idioma": "en-US", "notificacoes": False}


def test_one_users_events_apply_in_the_order_sent(api: httpx.Client) -> None:
    user_id = create_user(api)
    languages = ["pt-BR", "en-US", "es-ES", "fr-FR", "de-DE", "it-IT"]
    ids = [
        api.post(f"/usuarios/{user_id}/config", json={"idioma": lang}).json()["correlation_id"]
        for lang in languages
    ]
    for correlation_id in ids:
        wait_for_final_status(api, correlation_id)
    assert pg_rows("SELECT idioma FROM preferencias WHERE user_id = %s", [user_id]) == [("it-IT",)]


def test_unknown_user_ends_in_error_status(api: httpx.Client) -> None:
    answer = api.post(
        "/usuarios/987654321987/pagamento", json={"valor": 10, "forma_pagamento": "Pix"}
    )
    assert answer.status_code == 202
    status = wait_for_final_status(api, answer.json()["correlation_id"])
    assert status["status"] == "error"
    assert "987654321987 não encontrado" in status["message"]


def test_duplicate_email_and_cpf_end_in_error_status(api: httpx.Client) -> None:
    person = demo_user()
    first = api.post("/usuarios", json=person.model_dump())
    assert wait_for_final_status(api, first.json()["correlation_id"])["status"] == "success"
    other = demo_user()
    same_email = api.post("/usuarios", json={**other.model_dump(), "email": person.email})
    same_cpf = api.post("/usuarios", json={**demo_user().model_dump(), "cpf": person.cpf})
    email_status = wait_for_final_status(api, same_email.json()["correlation_id"])
    cpf_status = wait_for_final_status(api, same_cpf.json()["correlation_id"])
    assert (email_status["status"], cpf_status["status"]) == ("error", "error")
    assert "E-mail" in email_status["message"] and "CPF" in cpf_status["message"]


def test_unknown_user_read_is_404(api: httpx.Client) -> None:
    assert api.get("/usuarios/987654321987").status_code == 404


def test_a_payment_sent_twice_with_one_idempotency_key_is_applied_once(api: httpx.Client) -> None:
    user_id = create_user(api)
    body = {"valor": 25.5, "forma_pagamento": "Cartão"}
    headers = {"Idempotency-Key": f"pedido-{user_id}"}
    first = api.post(f"/usuarios/{user_id}/pagamento", json=body, headers=headers)
    again = api.post(f"/usuarios/{user_id}/pagamento", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["correlation_id"] == again.json()["correlation_id"]
    assert wait_for_final_status(api, first.json()["correlation_id"])["status"] == "success"
    settle(api, user_id)
    rows = pg_rows("SELECT valor::text FROM pagamentos WHERE user_id = %s", [user_id])
    assert rows == [("25.50",)]


def test_a_sign_up_sent_twice_with_one_idempotency_key_answers_one_user_id(
    api: httpx.Client,
) -> None:
    person = demo_user().model_dump()
    headers = {"Idempotency-Key": f"cadastro-{person['cpf']}"}
    first = api.post("/usuarios", json=person, headers=headers)
    again = api.post("/usuarios", json=person, headers=headers)
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["correlation_id"] == again.json()["correlation_id"]
    user_id = first.json()["usuario"]["user_id"]
    assert again.json()["usuario"]["user_id"] == user_id
    status = wait_for_final_status(api, first.json()["correlation_id"])
    assert (status["status"], status["user_id"]) == ("success", user_id)
    settle(api, user_id)
    assert pg_rows("SELECT user_id FROM usuarios WHERE cpf = %s", [person["cpf"]]) == [(user_id,)]


def test_an_idempotency_key_over_128_characters_is_refused(api: httpx.Client) -> None:
    answer = api.post("/usuarios/1/pagamento", headers={"Idempotency-Key": "x" * 129})
    assert answer.status_code == 400
    assert "Idempotency-Key" in answer.json()["error"]


def test_an_issued_id_whose_request_is_still_in_flight_reads_as_pending(
    api: httpx.Client,
) -> None:
    correlation_id = CorrelationIds(get_settings().correlation_secret).issue(ADMIN)
    deadline = time.monotonic() + 30
    while (answer := api.get(f"/status/{correlation_id}")).status_code == 503:
        assert time.monotonic() < deadline, answer.text  # the worker is still joining
        time.sleep(0.2)
    assert answer.status_code == 200
    assert answer.json()["status"] == "pendente"
    assert answer.json()["requested_by"] == ADMIN
