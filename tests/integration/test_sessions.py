"""Viewing sessions end to end on the real services: every path, the plans' screens, expiry,
a crash, two workers, other callers, and the log in Elasticsearch."""

from __future__ import annotations

import shutil
import signal
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, get_args

import httpx
import pytest
from aiokafka.partitioner import DefaultPartitioner
from elasticsearch import Elasticsearch
from prometheus_client.parser import text_string_to_metric_families

from app.kafka.topics import user_key
from app.requests.envelope import encode_event
from app.viewing.session_commands import Device, SessionOpened, session_id_of
from harness.broker import end_offsets, produce, read_json_since, run
from harness.workers import ADMIN, Worker, correlation_ids, own_names, wait_for_final_status
from tests.integration.test_event_log import documents_of, wait_until
from tests.support.flow import create_user

pytestmark = pytest.mark.integration

UNKNOWN_USER = 987654321987
PARTITIONS = 8  # TOPIC_PARTITIONS's default, which the test workers use
#: Longest wait for a status while a second worker joins: an event the rebalance
#: made the stream skip waits for the stall audit (STALL_AFTER_S, 15 s), and so
#: may its outcome.
AFTER_A_JOIN_S = 60.0


def subscribed_user(api: httpx.Client, plano: str | None) -> int:
    """A new user with a ``plano`` subscription in force (``None``: without one)."""
    user_id = create_user(api)
    if plano is not None:
        answer = api.post(f"/usuarios/{user_id}/assinatura", json={"plano": plano})
        assert final(api, answer)["status"] == "success"
    return user_id


def final(api: httpx.Client, answer: httpx.Response, timeout: float = 30.0) -> dict[str, Any]:
    """The final status of the request a 202 ``answer`` accepted."""
    assert answer.status_code == 202, answer.text
    return wait_for_final_status(api, answer.json()["correlation_id"], timeout)


def open_session(api: httpx.Client, user_id: int, **fields: Any) -> httpx.Response:
    return api.post("/sessoes", json={"user_id": user_id, **fields})


def session_id(answer: httpx.Response) -> str:
    return str(answer.json()["sessao"]["session_id"])


def listing(api: httpx.Client, user_id: int, *, ativas_apenas: bool = True) -> httpx.Response:
    """``GET /sessoes/usuario/{id}``, waiting out 503s while the worker's table settles."""
    params = {"ativas_apenas": str(ativas_apenas).lower()}
    deadline = time.monotonic() + 30
    while (answer := api.get(f"/sessoes/usuario/{user_id}", params=params)).status_code == 503:
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.2)
    return answer


def sessions_of(api: httpx.Client, user_id: int, *, ativas_apenas: bool = True) -> dict[str, Any]:
    """The user's listed sessions by id."""
    answer = listing(api, user_id, ativas_apenas=ativas_apenas)
    assert answer.status_code == 200, answer.text
    assert answer.json()["user_id"] == user_id
    return {s["session_id"]: s for s in answer.json()["sessoes"]}


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


# ---------- every path, on the shared worker ----------


def test_an_opened_session_is_accepted_with_its_issued_id_then_listed(api: httpx.Client) -> None:
    user_id = subscribed_user(api, "Premium")

    answer = open_session(api, user_id, dispositivo="Smart TV", localizacao="Curitiba, PR")

    body = answer.json()
    assert body["status_url"] == f"/status/{body['correlation_id']}"
    assert body["sessao"] == {
        "session_id": f"{user_id}-{body['correlation_id']}",
        "user_id": user_id,
        "dispositivo": "Smart TV",
        "localizacao": "Curitiba, PR",
    }
    status = final(api, answer)
    assert (status["status"], status["message"]) == ("success", "Sessão iniciada")
    assert status["original_event_type"] == "iniciar_sessao"
    listed = sessions_of(api, user_id)[session_id(answer)]
    assert (listed["dispositivo"], listed["localizacao"], listed["ativa"]) == (
        "Smart TV",
        "Curitiba, PR",
        True,
    )
    assert listed["iniciada_em"] == listed["ultima_atividade"]
    assert (listed["encerrada_em"], listed["motivo_encerramento"]) == (None, None)


def test_a_session_opens_from_query_parameters_with_demo_device_and_place(
    api: httpx.Client,
) -> None:
    user_id = subscribed_user(api, "Padrão")

    answer = api.post("/sessoes", params={"user_id": str(user_id)})

    assert final(api, answer)["status"] == "success"
    opened = answer.json()["sessao"]
    assert opened["dispositivo"] in get_args(Device)
    assert opened["localizacao"]
    assert sessions_of(api, user_id)[opened["session_id"]]["localizacao"] == opened["localizacao"]


def test_the_basic_plan_refuses_a_second_screen_saying_why_until_the_first_ends(
    api: httpx.Client,
) -> None:
    user_id = subscribed_user(api, "Básico")
    first = open_session(api, user_id)
    assert final(api, first)["status"] == "success"

    second = final(api, open_session(api, user_id))
    assert (second["status"], second["message"]) == (
        "error",
        "Limite de 1 tela simultânea do plano Básico atingido",
    )

    assert final(api, api.delete(f"/sessoes/{session_id(first)}"))["status"] == "success"
    third = open_session(api, user_id)
    assert final(api, third)["status"] == "success"
    kept = sessions_of(api, user_id, ativas_apenas=False)
    assert set(kept) == {session_id(first), session_id(third)}  # a refusal is no session
    assert kept[session_id(first)]["motivo_encerramento"] == "encerrada"
    assert set(sessions_of(api, user_id)) == {session_id(third)}


def test_activity_moves_the_last_activity_and_ending_keeps_the_first_end(
    api: httpx.Client,
) -> None:
    user_id = subscribed_user(api, "Padrão")
    opened = open_session(api, user_id)
    assert final(api, opened)["status"] == "success"
    path = f"/sessoes/{session_id(opened)}"

    touched = api.put(f"{path}/atividade")
    assert touched.json()["sessao"] == {"session_id": session_id(opened), "user_id": user_id}
    assert final(api, touched)["message"] == "Atividade registrada"
    active = sessions_of(api, user_id)[session_id(opened)]
    assert instant(active["ultima_atividade"]) > instant(active["iniciada_em"])

    assert final(api, api.delete(path))["message"] == "Sessão encerrada"
    ended = sessions_of(api, user_id, ativas_apenas=False)[session_id(opened)]
    assert final(api, api.delete(path))["status"] == "success"  # ending again changes nothing
    assert sessions_of(api, user_id, ativas_apenas=False)[session_id(opened)] == ended
    assert (ended["ativa"], ended["motivo_encerramento"]) == (False, "encerrada")

    late = final(api, api.put(f"{path}/atividade"))
    assert (late["status"], late["message"]) == ("error", "Sessão já encerrada")
    assert sessions_of(api, user_id) == {}


@pytest.mark.parametrize(
    ("plano", "message"),
    [(None, "Usuário sem assinatura ativa"), ("unknown", f"Usuário {UNKNOWN_USER} não encontrado")],
    ids=["no subscription", "unknown user"],
)
def test_an_opening_without_a_subscription_or_a_user_ends_in_error(
    api: httpx.Client, plano: str | None, message: str
) -> None:
    user_id = UNKNOWN_USER if plano == "unknown" else subscribed_user(api, plano)

    status = final(api, open_session(api, user_id))

    assert (status["status"], status["message"]) == ("error", message)


def test_commands_on_an_unknown_session_end_in_error(api: httpx.Client) -> None:
    user_id = subscribed_user(api, "Premium")
    path = f"/sessoes/{user_id}-{uuid.uuid4()}"

    for answer in (api.put(f"{path}/atividade"), api.delete(path)):
        status = final(api, answer)
        assert (status["status"], status["message"]) == ("error", "Sessão não encontrada")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/sessoes/abc/atividade"),
        ("DELETE", "/sessoes/abc"),
        ("DELETE", f"/sessoes/0{UNKNOWN_USER}-0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"),
        ("DELETE", f"/sessoes/{UNKNOWN_USER}-0F1E2D3C-4B5A-4978-8695-A4B3C2D1E0F9"),
        ("GET", "/sessoes/usuario/abc"),
    ],
)
def test_a_malformed_session_or_user_id_is_404(api: httpx.Client, method: str, path: str) -> None:
    answer = api.request(method, path)
    assert answer.status_code == 404, answer.text


def test_invalid_input_is_422_naming_every_broken_field(api: httpx.Client) -> None:
    broken = api.post(
        "/sessoes", json={"user_id": 0, "dispositivo": "Geladeira", "localizacao": "x" * 101}
    )
    nothing = api.post("/sessoes")
    bad_filter = api.get("/sessoes/usuario/1", params={"ativas_apenas": "talvez"})

    assert [a.status_code for a in (broken, nothing, bad_filter)] == [422, 422, 422]
    assert {f["campo"] for f in broken.json()["campos"]} == {
        "user_id",
        "dispositivo",
        "localizacao",
    }
    assert {f["campo"] for f in nothing.json()["campos"]} == {"user_id"}
    assert {f["campo"] for f in bad_filter.json()["campos"]} == {"ativas_apenas"}


def test_the_listing_of_an_unknown_user_is_404(api: httpx.Client) -> None:
    assert listing(api, UNKNOWN_USER).status_code == 404


def test_a_users_sessions_are_only_for_its_creator_or_an_admin(worker: Worker) -> None:
    with worker.client("alice") as alice, worker.client("bob") as bob:
        user_id = subscribed_user(alice, "Premium")
        opened = open_session(alice, user_id)
        assert final(alice, opened)["status"] == "success"
        path = f"/sessoes/{session_id(opened)}"

        answers = [
            open_session(bob, user_id),
            bob.put(f"{path}/atividade"),
            bob.delete(path),
            listing(bob, user_id),
        ]

        assert [a.status_code for a in answers] == [404, 404, 404, 404]
        assert set(sessions_of(alice, user_id)) == {session_id(opened)}
    with worker.client() as admin:
        assert set(sessions_of(admin, user_id)) == {session_id(opened)}


def test_commands_need_the_write_scope_and_the_listing_the_read_scope(worker: Worker) -> None:
    path = f"/sessoes/1-{uuid.uuid4()}"
    with worker.client("reader") as reader, worker.client(caller=None) as anonymous:
        assert [
            reader.post("/sessoes", json={"user_id": 1}).status_code,
            reader.put(f"{path}/atividade").status_code,
            reader.delete(path).status_code,
        ] == [403, 403, 403]
        assert listing(reader, UNKNOWN_USER).status_code == 404  # allowed, unknown
        assert anonymous.get("/sessoes/usuario/1").status_code == 401


def test_session_events_are_logged_with_the_place_and_no_personal_data(
    api: httpx.Client, worker: Worker, es: Elasticsearch
) -> None:
    user_id = subscribed_user(api, "Premium")
    opened = open_session(api, user_id, dispositivo="Console", localizacao="Olinda, PE")
    assert final(api, opened)["status"] == "success"
    correlation_id = opened.json()["correlation_id"]
    topic = worker.topic("session_events")

    def logged() -> list[dict[str, Any]]:
        return [d for d in documents_of(es, [correlation_id]) if d["topic"] == topic]

    wait_until(lambda: len(logged()) == 1, timeout=30, what="the opening logged")
    event = logged()[0]["event"]
    assert (event["event_type"], event["localizacao"]) == ("iniciar_sessao", "Olinda, PE")
    assert event["session_id"] == session_id(opened)
    assert not {"nome", "email", "cpf"} & set(event)


def raw_opening(user_id: int) -> SessionOpened:
    """An opening as the API would publish it, for writing straight to the topic."""
    correlation_id = correlation_ids.issue(ADMIN)
    return SessionOpened(
        correlation_id=correlation_id,
        user_id=user_id,
        requested_by=ADMIN,
        session_id=session_id_of(user_id, correlation_id),
        dispositivo="Web",
        localizacao="Maceió, AL",
    )


def test_an_opening_delivered_again_is_counted_once_and_answered_the_same(
    api: httpx.Client, worker: Worker
) -> None:
    user_id = subscribed_user(api, "Básico")
    event = raw_opening(user_id)
    record = (user_key(user_id), encode_event(event))
    responses = worker.topic("response_events")
    start = run(end_offsets(responses))

    run(produce(worker.topic("session_events"), [record, record]))
    run(produce(worker.topic("session_events"), [record]))

    def its_outcomes(values: list[dict[str, Any]]) -> list[tuple[str, str]]:
        ours = [v for v in values if v.get("correlation_id") == event.correlation_id]
        return [(v["status"], v["message"]) for v in ours]

    outcomes = its_outcomes(run(read_json_since(start, lambda v: len(its_outcomes(v)) >= 3)))
    assert outcomes == [("success", "Sessão iniciada")] * 3
    assert set(sessions_of(api, user_id)) == {event.session_id}
    refused = final(api, open_session(api, user_id))
    assert refused["message"] == "Limite de 1 tela simultânea do plano Básico atingido"


def test_a_session_event_under_another_users_key_ends_in_error(
    api: httpx.Client, worker: Worker
) -> None:
    user_id = subscribed_user(api, "Premium")
    event = raw_opening(user_id)

    run(produce(worker.topic("session_events"), [(user_key(user_id + 1), encode_event(event))]))

    status = wait_for_final_status(api, event.correlation_id)
    assert (status["status"], status["original_event_type"]) == ("error", "iniciar_sessao")
    assert "Kafka key" in status["message"]
    assert sessions_of(api, user_id) == {}


# ---------- workers of their own ----------


@pytest.fixture
def quick_expiry_worker(tmp_path: Path) -> Iterator[Worker]:
    """A worker whose sessions expire after 2 s without activity."""
    worker = Worker(tmp_path, SESSION_IDLE_TIMEOUT_S="2", **own_names("sessions-idle")).start()
    yield worker
    worker.stop()


def test_a_session_idle_for_the_timeout_reads_as_ended_and_frees_its_screen(
    quick_expiry_worker: Worker,
) -> None:
    with quick_expiry_worker.client() as api:
        user_id = subscribed_user(api, "Básico")
        opened = open_session(api, user_id)
        assert final(api, opened)["status"] == "success"

        wait_until(
            lambda: sessions_of(api, user_id) == {}, timeout=20, what="the idle session ended"
        )

        expired = sessions_of(api, user_id, ativas_apenas=False)[session_id(opened)]
        assert (expired["ativa"], expired["motivo_encerramento"]) == (False, "inatividade")
        idle_for = instant(expired["encerrada_em"]) - instant(expired["ultima_atividade"])
        assert idle_for == timedelta(seconds=2)
        late = final(api, api.put(f"/sessoes/{session_id(opened)}/atividade"))
        assert late["message"] == "Sessão já encerrada"
        assert final(api, open_session(api, user_id))["status"] == "success"


def test_sessions_and_their_count_survive_a_crash_and_a_lost_data_dir(tmp_path: Path) -> None:
    names = own_names("sessions-restart")
    worker = Worker(tmp_path / "restart", WORKER_INSTANCE_ID=names["APP_ID"], **names).start()
    try:
        with worker.client() as api:
            user_id = subscribed_user(api, "Padrão")
            kept, ended = open_session(api, user_id), open_session(api, user_id)
            assert [final(api, a)["status"] for a in (kept, ended)] == ["success", "success"]
            assert final(api, api.delete(f"/sessoes/{session_id(ended)}"))["status"] == "success"
            before = sessions_of(api, user_id, ativas_apenas=False)
        worker.stop(signal.SIGKILL)
        shutil.rmtree(worker.data_dir)  # RocksDB gone: only the changelog remains
        worker.start()
        with worker.client() as api:
            assert sessions_of(api, user_id, ativas_apenas=False) == before
            # One screen of two still taken: one more opens, the next is refused.
            assert final(api, open_session(api, user_id))["status"] == "success"
            refused = final(api, open_session(api, user_id))
            assert refused["message"] == "Limite de 2 telas simultâneas do plano Padrão atingido"
    finally:
        worker.stop()


def users_on_every_partition(api: httpx.Client) -> list[int]:
    """Subscribed users whose keys cover every partition, so every worker owns some of them."""
    partitions = list(range(PARTITIONS))
    by_partition: dict[int, int] = {}
    for _ in range(10 * PARTITIONS):
        created = api.post("/usuarios")
        assert final(api, created, AFTER_A_JOIN_S)["status"] == "success"
        user_id = created.json()["usuario"]["user_id"]
        by_partition.setdefault(DefaultPartitioner()(user_key(user_id), partitions, []), user_id)
        if len(by_partition) == PARTITIONS:
            break
    assert len(by_partition) == PARTITIONS
    for user_id in by_partition.values():
        subscribed = api.post(f"/usuarios/{user_id}/assinatura", json={"plano": "Premium"})
        assert final(api, subscribed, AFTER_A_JOIN_S)["status"] == "success"
    return list(by_partition.values())


def listings_answered(worker: Worker) -> float:
    """How many session listings ``worker`` answered 200 (as receiver or as owner)."""
    with worker.client() as admin:
        metrics = admin.get("/metrics").text
    wanted = {"method": "GET", "route": "/sessoes/usuario/{user_id}", "status": "200"}
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == "http_requests_total" and sample.labels == wanted
    )


def test_every_users_sessions_are_read_from_its_owner_through_either_of_two_workers(
    tmp_path: Path,
) -> None:
    names = own_names("sessions-pair")
    first = Worker(tmp_path / "first", **names).start()
    second = Worker(tmp_path / "second", **names).start()
    try:
        with first.client() as first_api, second.client() as second_api:
            users = users_on_every_partition(first_api)
            for user_id in users:
                opened = open_session(second_api, user_id)
                assert final(first_api, opened, AFTER_A_JOIN_S)["status"] == "success"
            for user_id in users:
                through_first = sessions_of(first_api, user_id)
                assert len(through_first) == 1
                assert sessions_of(second_api, user_id) == through_first
        # Each user was read through both workers, one of which does not own it:
        # that read was forwarded, and answered by the owner too.
        assert listings_answered(first) + listings_answered(second) == 3 * len(users)
    finally:
        first.stop()
        second.stop()
