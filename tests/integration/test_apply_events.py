"""``apply_events``: set-based, with the outcomes of applying each event in turn.

Scenarios name what a batch must do (order within the batch, the first of two
sign-ups wins, a replay is answered with its outcome); the comparison runs
random batches, full of clashes, through the set-based function and through
the one-event-at-a-time one (``apply_events_one_by_one``) on two databases and
asks for the same outcomes and the same rows.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import orjson
import pytest

from app.storage.database import Database
from harness.services import migrated_database

pytestmark = pytest.mark.integration

Outcome = tuple[str, str, bool]
_STATE = {
    "usuarios": "SELECT user_id, nome, email, cpf, criado_por FROM usuarios ORDER BY user_id",
    "assinaturas": "SELECT user_id, plano, inicio, fim FROM assinaturas ORDER BY user_id",
    "pagamentos": "SELECT user_id, valor, correlation_id FROM pagamentos ORDER BY correlation_id",
    "preferencias": "SELECT user_id, idioma, notificacoes FROM preferencias ORDER BY user_id",
    "processed": "SELECT correlation_id, outcome FROM processed_events ORDER BY correlation_id",
}


async def _apply(
    db: Database, batch: list[dict[str, Any]], function: str = "apply_events"
) -> list[Outcome]:
    statement = f"SELECT correlation_id::text, outcome, replayed FROM {function}(%s::jsonb)"
    async with db.pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(statement, (orjson.dumps(batch).decode(),))
        return [tuple(row) for row in await cur.fetchall()]


async def _set_based_takes(db: Database, batch: list[dict[str, Any]]) -> None:
    """Raises if the set-based statements refuse ``batch`` (which would mean a fallback)."""
    async with db.pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("BEGIN")
        try:
            await cur.execute("SELECT apply_event_set(%s::jsonb)", (orjson.dumps(batch).decode(),))
        finally:
            await cur.execute("ROLLBACK")


async def _state(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    found = {}
    async with db.pool.acquire() as conn, conn.cursor() as cur:
        for table, query in _STATE.items():
            await cur.execute(query)
            found[table] = list(await cur.fetchall())
    return found


def _event(kind: str, user_id: int, **fields: Any) -> dict[str, Any]:
    base = {"event_type": kind, "correlation_id": str(uuid.uuid4()), "user_id": user_id}
    defaults: dict[str, dict[str, Any]] = {
        "criar_usuario": {
            "nome": "Ana",
            "email": f"u{user_id}@example.com",
            "cpf": f"cpf-{user_id}",
            "data_criacao": "2026-01-01T00:00:00Z",
            "requested_by": "alice",
        },
        "atualizar_assinatura": {"plano": "Premium", "inicio": "2026-01-01", "fim": "2026-02-01"},
        "pagamento_realizado": {
            "valor": 39.9,
            "forma_pagamento": "Pix",
            "status": "aprovado",
            "data_pagamento": "2026-01-02T00:00:00Z",
        },
        "atualizar_config": {"preferencias": {"idioma": "pt-BR", "notificacoes": True}},
    }
    return base | defaults[kind] | fields


def _outcomes(result: list[Outcome]) -> list[tuple[str, bool]]:
    return [(outcome, replayed) for _, outcome, replayed in result]


async def test_events_see_what_earlier_events_of_the_batch_did(empty_database: Database) -> None:
    batch = [
        _event("pagamento_realizado", 2),  # before its user's sign-up: not found
        _event("criar_usuario", 1),
        _event("atualizar_assinatura", 1),
        _event("pagamento_realizado", 1),
        _event("atualizar_config", 1),
        _event("criar_usuario", 2),
        _event("atualizar_assinatura", 2),
    ]
    result = await _apply(empty_database, batch)
    assert [r[0] for r in result] == [e["correlation_id"] for e in batch]
    assert _outcomes(result) == [("user_not_found", False)] + [("applied", False)] * 6
    state = await _state(empty_database)
    assert [row[0] for row in state["usuarios"]] == [1, 2]
    assert [row[0] for row in state["pagamentos"]] == [1]


async def test_of_two_sign_ups_claiming_the_same_thing_the_first_wins(
    empty_database: Database,
) -> None:
    batch = [
        _event("criar_usuario", 1, email="x@example.com", cpf="c1"),
        _event("criar_usuario", 2, email="x@example.com", cpf="c2"),  # e-mail taken by 1
        _event("criar_usuario", 3, email="y@example.com", cpf="c1"),  # CPF taken by 1
        _event("criar_usuario", 4, email="y@example.com", cpf="c4"),  # 3 failed: y is free
        _event("criar_usuario", 1, email="z@example.com", cpf="c5"),  # user id taken by 1
        _event("atualizar_config", 2),  # 2 was never created
    ]
    outcomes = _outcomes(await _apply(empty_database, batch))
    assert [o for o, _ in outcomes] == [
        "applied",
        "email_taken",
        "cpf_taken",
        "applied",
        "user_exists",
        "user_not_found",
    ]


async def test_the_same_event_twice_applies_once(empty_database: Database) -> None:
    sign_up, payment = _event("criar_usuario", 1), _event("pagamento_realizado", 1)
    first = await _apply(empty_database, [sign_up, payment, payment])
    assert _outcomes(first) == [("applied", False), ("applied", False), ("applied", True)]
    again = await _apply(empty_database, [payment, _event("criar_usuario", 1)])
    assert _outcomes(again) == [("applied", True), ("user_exists", False)]
    assert len((await _state(empty_database))["pagamentos"]) == 1


async def test_the_last_subscription_of_a_batch_stands(empty_database: Database) -> None:
    batch = [
        _event("criar_usuario", 1),
        _event("atualizar_assinatura", 1, plano="Básico"),
        _event("atualizar_assinatura", 1, plano="Premium"),
        _event("atualizar_assinatura", 1, inicio="2026-03-01", fim="2026-01-01"),  # invalid
    ]
    outcomes = _outcomes(await _apply(empty_database, batch))
    assert [o for o, _ in outcomes] == ["applied", "applied", "applied", "invalid"]
    assert (await _state(empty_database))["assinaturas"][0][1] == "Premium"


async def test_a_refused_batch_is_applied_event_by_event(empty_database: Database) -> None:
    # A value the column cannot hold fails the set-based statement: the fallback
    # gives that event alone an ``invalid`` outcome.
    batch = [
        _event("criar_usuario", 1),
        _event("pagamento_realizado", 1, valor=1e12),
        _event("pagamento_realizado", 1),
    ]
    outcomes = _outcomes(await _apply(empty_database, batch))
    assert [o for o, _ in outcomes] == ["applied", "invalid", "applied"]


def _random_batch(dice: random.Random, seen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events over few users, e-mails and CPFs, so that they clash; some sent again."""
    batch = []
    for _ in range(dice.randint(1, 30)):
        if seen and dice.random() < 0.1:
            batch.append(dice.choice(seen))
            continue
        kind = dice.choice(
            ["criar_usuario"] * 3
            + ["atualizar_assinatura", "pagamento_realizado", "atualizar_config"]
        )
        user_id = dice.randint(1, 8)
        fields: dict[str, Any] = {}
        if kind == "criar_usuario":
            fields = {"email": f"e{dice.randint(1, 5)}@x.com", "cpf": f"c{dice.randint(1, 5)}"}
        elif kind == "atualizar_assinatura":
            fields = {
                "plano": dice.choice(["Básico", "Padrão"]),
                "fim": dice.choice(["2026-02-01", "2025-12-01"]),
            }
        elif kind == "atualizar_config":
            fields = {
                "preferencias": {"idioma": dice.choice(["en", "pt-BR"]), "notificacoes": True}
            }
        event = _event(kind, user_id, **fields)
        seen.append(event)
        batch.append(event)
    return batch


@pytest.mark.parametrize("seed", range(6))
async def test_set_based_and_one_by_one_agree(seed: int) -> None:
    dice = random.Random(seed)
    seen: list[dict[str, Any]] = []
    batches = [_random_batch(dice, seen) for _ in range(8)]
    async with (
        migrated_database("set_based") as set_based,
        migrated_database("one_by_one") as one_by_one,
    ):
        for batch in batches:
            await _set_based_takes(set_based, batch)  # no fallback behind the agreement
            expected = await _apply(one_by_one, batch, "apply_events_one_by_one")
            assert await _apply(set_based, batch) == expected
        assert await _state(set_based) == await _state(one_by_one)
