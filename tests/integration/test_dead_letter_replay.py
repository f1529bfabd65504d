"""``faust -A app dead-letters [replay]``: a poison event fixed, replayed once, one effect.

A worker of its own, on a scratch database and topics of its own: a test-local
"migration" breaks payments by Boleto (a trigger PostgreSQL raises in), the
event is dead-lettered with an ``error`` status; a replay before the fix
fails again and comes back with its count raised; the fixing migration drops
the trigger; the next replay applies the payment once and the status turns
``success``. Running the replay again re-sends nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import psycopg2
import pytest

from app.guard.dead_letters import MAX_PAYLOAD_CHARS
from harness.broker import produce, run
from harness.services import scratch_database
from harness.workers import (
    ADMIN,
    REPO_ROOT,
    Worker,
    correlation_ids,
    own_names,
    wait_for_final_status,
)
from tests.support.flow import create_user

pytestmark = pytest.mark.integration

BREAK_BOLETO = """
CREATE FUNCTION refuse_boleto() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.forma_pagamento = 'Boleto' THEN
        RAISE EXCEPTION 'boleto not accepted by this schema';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER refuse_boleto BEFORE INSERT ON pagamentos
    FOR EACH ROW EXECUTE FUNCTION refuse_boleto();
"""
FIX_BOLETO = "DROP TRIGGER refuse_boleto ON pagamentos; DROP FUNCTION refuse_boleto();"


class ReplayRig:
    """A worker on a scratch database, and the CLI run with the same settings."""

    def __init__(self, worker: Worker, dsn: str, env: dict[str, str]) -> None:
        self.worker = worker
        self.dsn = dsn
        self.env = env

    def migrate(self, sql: str) -> None:
        with psycopg2.connect(self.dsn) as conn, conn.cursor() as cur:
            cur.execute(sql)

    def rows(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with psycopg2.connect(self.dsn) as conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def cli(self, *args: str) -> dict[str, Any]:
        """``faust --json -A app dead-letters ARGS``, its JSON answer."""
        command = [sys.executable, "-m", "faust", "--json", "-A", "app", "dead-letters", *args]
        done = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    def letters(self, reason: str, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The dead letters whose reason has ``reason``, once there are ``count`` of them."""
        deadline = time.monotonic() + timeout
        while True:
            letters = self.cli("--reason", reason)["letters"]
            if len(letters) >= count or time.monotonic() > deadline:
                return list(letters)
            time.sleep(1.0)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplayRig]:
    with scratch_database("replay") as dsn:
        env = {**own_names("replay"), "POSTGRES_DB": dsn.split("dbname=")[1].split()[0]}
        worker = Worker(tmp_path_factory.mktemp("replay"), **env).start()
        try:
            worker.wait_ready()
            yield ReplayRig(worker, dsn, env)
        finally:
            worker.stop()


def status_with_replays(api: httpx.Client, correlation_id: str, replays: int) -> dict[str, Any]:
    """The final status of ``correlation_id`` once it is the outcome of replay ``replays``."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = wait_for_final_status(api, correlation_id)
        if status["replays"] >= replays:
            return status
        time.sleep(0.2)
    raise TimeoutError(f"{correlation_id}: no outcome of replay {replays}: {status}")


def test_a_poison_event_fixed_by_a_migration_and_replayed_takes_effect_once(
    rig: ReplayRig,
) -> None:
    rig.migrate(BREAK_BOLETO)
    with rig.worker.client() as api:
        user_id = create_user(api)
        paid = api.post(
            f"/usuarios/{user_id}/pagamento", json={"valor": 49.9, "forma_pagamento": "Boleto"}
        )
        correlation_id = paid.json()["correlation_id"]
        assert wait_for_final_status(api, correlation_id)["status"] == "error"
        (letter,) = rig.letters("boleto not accepted", 1)
        assert (letter["stage"], letter["replays"], letter["replayed"]) == ("processing", 0, "no")

        # Replayed before the fix: refused again, back in the dead letters with its count raised.
        first = rig.cli("replay", "--reason", "boleto not accepted")
        assert (first["resent"], first["skipped"]) == (1, 0)
        assert status_with_replays(api, correlation_id, 1)["status"] == "error"
        letters = rig.letters("boleto not accepted", 2)
        assert [(x["replays"], x["replayed"] != "no") for x in letters] == [(0, True), (1, False)]

        rig.migrate(FIX_BOLETO)
        fixed = rig.cli("replay", "--reason", "boleto not accepted")
        assert (fixed["resent"], fixed["replayed_before"]) == (1, 1)
        status = status_with_replays(api, correlation_id, 2)
        assert (status["status"], status["message"]) == (
            "success",
            "Pagamento registrado com sucesso",
        )

        again = rig.cli("replay", "--reason", "boleto not accepted")
        assert (again["resent"], again["replayed_before"]) == (0, 2)
    payments = rig.rows(
        "SELECT valor::text FROM pagamentos WHERE correlation_id = %s", (correlation_id,)
    )
    assert payments == [("49.90",)]
    ledger = rig.rows(
        "SELECT outcome FROM processed_events WHERE correlation_id = %s", (correlation_id,)
    )
    assert ledger == [("applied",)]


def test_a_dead_letter_cut_short_is_replayed_whole_from_its_original_record(rig: ReplayRig) -> None:
    fields = {
        "event_type": "criar_usuario",
        "correlation_id": correlation_ids.issue(ADMIN),
        "user_id": 424242,
        "nome": "N" * (MAX_PAYLOAD_CHARS + 100),
        "email": "longo@example.com",
        "cpf": "529.982.247-25",
    }
    original = orjson.dumps(fields)
    run(produce(rig.worker.topic("user_events"), [(b"424242", original)]))
    (letter,) = rig.letters("String should have at most", 1)
    assert letter["refused_record"].startswith(rig.worker.topic("user_events"))

    replayed = rig.cli("replay", "--reason", "String should have at most")

    assert replayed["resent"] == 1
    _, again = rig.letters("String should have at most", 2)
    assert again["replays"] == 1
    resent = rig.cli("--reason", "String should have at most")["letters"][1]
    assert resent["payload_bytes"] == len(orjson.dumps({**fields, "replays": 1}))
