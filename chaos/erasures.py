"""Scenario 12: people erased under load, across a worker crash (LGPD, ``docs/privacy.md``).

A few people sign up (each with a name and e-mail nobody else has), then, while
the usual mixed load runs, half of them are erased, the only worker is killed at
once (their erasures in flight) and restarted, and the other half are erased.
Besides the audit of the load (0 lost, 0 doubled), every erasure must end
``success``, every erased person must read 404, and none of their values may be
found, in clear or easily reversed, in PostgreSQL, Elasticsearch, the scenario's
Kafka topics (changelogs included), the worker's RocksDB or its files.
"""

from __future__ import annotations

import asyncio
import time

import httpx
from elasticsearch import Elasticsearch

from chaos.faults import ChaosWorker
from chaos.stage import LEAD_S, Options, Row, Stage, now, outage_load_s, run_scenario
from harness import personal_traces
from harness.services import ES_URL
from harness.workers import wait_for_final_status

#: People signed up before the load, then erased during it.
PEOPLE = 6
#: Longest wait for an erasure to be accepted (503s while the restarted worker warms up).
ACCEPT_S = 60.0


def sign_up(api: httpx.Client, stage: Stage) -> tuple[int, dict[str, str]]:
    """One distinct person signed up and applied: their user id and values."""
    person = personal_traces.a_distinct_person()
    answer = api.post("/usuarios", json=person).json()
    stage.extra_ids.add(answer["correlation_id"])  # not a request of the audited load
    assert wait_for_final_status(api, answer["correlation_id"])["status"] == "success"
    return int(answer["usuario"]["user_id"]), person


def erase(api: httpx.Client, stage: Stage, user_id: int) -> str:
    """``DELETE /usuarios/{id}`` until accepted (a 503 accepted nothing); its correlation id."""
    deadline = time.monotonic() + ACCEPT_S
    while True:
        try:
            answer = api.delete(f"/usuarios/{user_id}")
            if answer.status_code == 202:
                correlation_id: str = answer.json()["correlation_id"]
                stage.extra_ids.add(correlation_id)
                return correlation_id
        except httpx.TransportError:
            pass  # the worker is restarting
        if time.monotonic() > deadline:
            raise TimeoutError(f"the erasure of user {user_id} was never accepted")
        time.sleep(0.5)


async def traces(stage: Stage, worker: ChaosWorker, needles: list[bytes]) -> list[str]:
    """Where any of ``needles`` is still found: every store the scenario's worker wrote."""
    found = await personal_traces.in_kafka(stage.prefix, needles)
    found += await asyncio.to_thread(personal_traces.in_postgres, needles)
    es = Elasticsearch(ES_URL, request_timeout=30)
    try:
        found += await asyncio.to_thread(personal_traces.in_elasticsearch, es, needles)
    finally:
        es.close()
    found += await asyncio.to_thread(personal_traces.in_rocksdb, worker.data_dir, needles)
    found += await asyncio.to_thread(personal_traces.in_files, worker.data_dir, needles)
    return found


async def erasures_across_a_crash(options: Options) -> Row:
    """Erase people under load while the only worker is killed and restarted."""

    async def body(stage: Stage) -> Row:
        worker = await stage.start(stage.worker("a"))
        with worker.client() as api:
            people = [await asyncio.to_thread(sign_up, api, stage) for _ in range(PEOPLE)]
        erasures: dict[int, str] = {}

        async def fault() -> float:
            await asyncio.sleep(LEAD_S)
            with worker.client() as api:
                for user_id, _ in people[: PEOPLE // 2]:
                    erasures[user_id] = await asyncio.to_thread(erase, api, stage, user_id)
                worker.kill()  # those erasures still in flight
                await asyncio.sleep(1.0)
                notes.append(f"restart {await asyncio.to_thread(worker.restart):.1f}s")
                for user_id, _ in people[PEOPLE // 2 :]:
                    erasures[user_id] = await asyncio.to_thread(erase, api, stage, user_id)
            return now()

        notes: list[str] = []
        cleared = await stage.load([worker.url], outage_load_s(options, 8.0), fault)
        verdict = await stage.audit(worker)
        row = Row("", verdict, stage.recovery_s(cleared), notes)
        with worker.client() as api:
            outcomes = [
                await asyncio.to_thread(wait_for_final_status, api, cid, 60.0)
                for cid in erasures.values()
            ]
            gone = [api.get(f"/usuarios/{user_id}").status_code == 404 for user_id in erasures]
        left = await traces(
            stage,
            worker,
            personal_traces.forms(value for _, person in people for value in person.values()),
        )
        notes.append(f"{len(left)} traces" + (f": {left[:3]}" if left else ""))
        row.checks[f"{PEOPLE} erasures final, success"] = len(outcomes) == PEOPLE and all(
            outcome["status"] == "success" for outcome in outcomes
        )
        row.checks["erased people read 404"] = all(gone)
        row.checks["no trace of an erased person in any store"] = left == []
        return row

    return await run_scenario(options, 12, "erasures under load + worker SIGKILL", body)
