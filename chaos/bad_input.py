"""Scenarios 6, 7 and 11: poison events, a fuzzed API, and sign-ups sent twice."""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaProducer

from app.eventlog.indices import SYSTEM_LOGS
from app.requests.envelope import IDEMPOTENCY_HEADER
from app.settings import get_settings
from chaos.evidence import Target, fetch_statuses, topic_events
from chaos.recording import Answer, RecordingClient
from chaos.stage import (
    ADMIN_KEY,
    WORK_DIR,
    Options,
    Row,
    Stage,
    run_scenario,
)
from demo.loadgen.traffic import Request
from harness.services import kafka_bootstrap


def poison_records(topic_max_bytes: int = 1_000_000) -> list[tuple[str, bytes | None, bytes]]:
    """``(what, key, value)`` of each poison event; those with a correlation id name it."""

    def event(**fields: Any) -> bytes:
        return orjson.dumps({"correlation_id": str(uuid.uuid4()), **fields})

    huge_name = "x" * topic_max_bytes
    return [
        ("not JSON", b"1", b"\xff{not json at all"),
        ("JSON but not an object", b"1", b"[1, 2, 3]"),
        (
            "wrong types",
            b"7",
            event(event_type="pagamento_realizado", user_id="sete", valor="dez reais"),
        ),
        ("missing fields", b"7", event(event_type="criar_usuario", user_id=7)),
        ("unknown event_type", b"7", event(event_type="apagar_tudo", user_id=7)),
        (
            "1 MB value",
            b"7",
            event(event_type="criar_usuario", user_id=7, nome=huge_name)[: topic_max_bytes - 100]
            + b'"}',
        ),
    ]


async def _produce_poison(topic: str) -> list[tuple[str, int, int, str | None]]:
    """Write the poison events; ``(what, partition, offset, correlation id)`` of each."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap(), max_request_size=4 * 1024**2)
    await producer.start()
    written = []
    try:
        for what, key, value in poison_records():
            meta = await producer.send_and_wait(topic, value=value, key=key)
            cid = None
            with contextlib.suppress(orjson.JSONDecodeError, TypeError, AttributeError):
                cid = orjson.loads(value).get("correlation_id")
            written.append((what, meta.partition, meta.offset, cid))
    finally:
        await producer.stop()
    return written


async def poison_events(options: Options) -> Row:
    """Poison events straight on ``user_events``: each a dead letter with its reason; then
    valid requests still succeed."""

    async def body(stage: Stage) -> Row:
        worker = await stage.start(stage.worker("a"))
        written = await _produce_poison(stage.topic("user_events"))
        stage.extra_ids = {cid for *_, cid in written if cid}

        async def no_fault() -> None:
            return None

        await stage.load([worker.url], max(5.0, options.n / 100), no_fault)
        verdict = await stage.audit(worker)
        letters = await _dead_letters_of(stage, written)
        row = Row("", verdict, None, [f"dead letters {len(letters)}/{len(written)}"])
        for what, partition, offset, _ in written:
            letter = letters.get((partition, offset))
            reason = letter.get("reason") if letter else None
            row.checks[f"dead letter for {what}"] = bool(reason)
            if reason:
                row.notes.append(f"{what}: {reason[:60]}")
        statuses: dict[str, str] = {}
        target = Target(stage.prefix, worker.url, ADMIN_KEY, [worker.data_dir])
        named = [cid for *_, cid in written if cid]
        await fetch_statuses(target, named, statuses)
        row.checks["poison with a correlation id reads as error"] = all(
            statuses.get(cid) == "error" for cid in named
        )
        row.checks["dead letters logged in Elasticsearch"] = await _dead_letter_documents(
            stage, written
        )
        return row

    return await run_scenario(options, 6, "6 poison events", body)


async def _dead_letters_of(
    stage: Stage, written: list[tuple[str, int, int, str | None]], timeout_s: float = 60.0
) -> dict[tuple[int, int], dict[str, Any]]:
    """The dead letters of the poison events, by (partition, offset) of the refused record."""
    wanted = {(p, o) for _, p, o, _ in written}
    deadline = time.monotonic() + timeout_s
    while True:
        letters = {
            (e.get("partition"), e.get("offset")): e
            for e in await topic_events(stage.topic("dead_letters"))
            if e.get("topic") == stage.topic("user_events") and e.get("stage") == "processing"
        }
        if wanted <= set(letters) or time.monotonic() > deadline:
            return {k: v for k, v in letters.items() if k in wanted}
        await asyncio.sleep(1.0)


async def _dead_letter_documents(
    stage: Stage, written: list[tuple[str, int, int, str | None]]
) -> bool:
    """Each poison event's dead letter is one ``system_logs`` document (deterministic id)."""
    ids = [
        f"{stage.topic('dead_letters')}:processing:{stage.topic('user_events')}:{p}:{o}"
        for _, p, o, _ in written
    ]
    async with httpx.AsyncClient(base_url=get_settings().elasticsearch_host, timeout=30) as es:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            # A search, not _mget: the alias spans several indices.
            body = {"query": {"ids": {"values": ids}}, "size": 0, "track_total_hits": True}
            answer = await es.post(f"/{SYSTEM_LOGS}/_search", json=body)
            if answer.status_code == 200 and answer.json()["hits"]["total"]["value"] == len(ids):
                return True
            await asyncio.sleep(1.0)
    return False


#: Schemathesis checks of scenario 7: no 5xx, and every answer as ``/openapi.json`` says
#: (its status code, content type, headers and body schema), on every operation.
SCHEMATHESIS_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)


def run_schemathesis(url: str, max_examples: int, report: Path) -> tuple[int, str]:
    """Schemathesis 4 against ``url``'s ``/openapi.json``, admin key, the conformance checks."""
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{url}/openapi.json",
        "--header",
        f"X-API-Key: {ADMIN_KEY}",
        "--checks",
        ",".join(SCHEMATHESIS_CHECKS),
        "--max-examples",
        str(max_examples),
        "--phases",
        "examples,coverage,fuzzing",
        "--generation-database",
        "none",
        "--seed",
        "7",
        # One worker thread: with two, Hypothesis once failed inside itself ("AST
        # constructor recursion depth mismatch") and the run read as failed.
        "--workers",
        "1",
        "--request-timeout",
        "15",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(report),
    ]
    done = subprocess.run(
        command, cwd=WORK_DIR, capture_output=True, text=True, check=False, timeout=900
    )
    return done.returncode, done.stdout + done.stderr


async def fuzz_api(options: Options) -> Row:
    """Schemathesis on every operation of ``/openapi.json``: no 5xx and every answer as
    documented, the worker survives, and valid requests afterwards have exactly one effect each."""

    async def body(stage: Stage) -> Row:
        worker = await stage.start(stage.worker("a"))
        # A worker still recovering its table answers GET /status with 503, by design:
        # fuzzing must start once it is up, or that 503 reads as a server error.
        await asyncio.to_thread(worker.wait_ready)
        report = WORK_DIR / f"{stage.app_id}-schemathesis.xml"
        code, output = await asyncio.to_thread(
            run_schemathesis, worker.url, options.fuzz_examples, report
        )
        (WORK_DIR / f"{stage.app_id}-schemathesis.txt").write_text(output)
        summary = _schemathesis_summary(output)

        async def no_fault() -> None:
            return None

        await stage.load([worker.url], max(5.0, options.n / 100), no_fault)
        verdict = await stage.audit(worker, ghosts=False)
        row = Row("", verdict, None, [f"schemathesis exit {code}: {summary}"])
        row.checks["schemathesis: no 5xx, every answer as documented"] = code == 0
        row.checks["worker alive after fuzzing"] = worker.alive
        return row

    return await run_scenario(options, 7, "7 API fuzzing", body)


def _schemathesis_summary(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in reversed(lines):
        if re.search(r"\d+ (passed|failed|errors?)|No issues found|test cases", line):
            return line.strip("= ")
    return lines[-1] if lines else "no output"


class SignupRetryingClient(RecordingClient):
    """Sends every sign-up twice with one ``Idempotency-Key``: alternately both at once
    (racing for the user id) and one after the other's answer (a client retrying)."""

    def __init__(self, urls: list[str], api_key: str) -> None:
        super().__init__(urls, api_key)
        self.pairs: list[tuple[Answer, Answer]] = []

    async def post(self, request: Request) -> tuple[int, dict[str, Any] | None]:
        """A sign-up twice (the first answer is returned); anything else once."""
        if request.kind != "usuarios":
            return await super().post(request)
        headers = {IDEMPOTENCY_HEADER: uuid.uuid4().hex}
        if len(self.pairs) % 2:
            first = await self.send(request, headers)
            second = await self.send(request, headers)
        else:
            first, second = await asyncio.gather(
                self.send(request, headers), self.send(request, headers)
            )
        self.pairs.append((first, second))
        return first.status, first.body

    def mismatched(self) -> list[tuple[Answer, Answer]]:
        """Pairs both answered 202 that disagree on the correlation id or the user id."""
        return [
            (a, b)
            for a, b in self.pairs
            if a.status == b.status == 202 and _signup_ids(a) != _signup_ids(b)
        ]


def _signup_ids(answer: Answer) -> tuple[str, int]:
    assert answer.body is not None
    return answer.body["correlation_id"], int(answer.body["usuario"]["user_id"])


async def signups_sent_twice(options: Options) -> Row:
    """Every sign-up sent twice with one ``Idempotency-Key`` (at once, or after the answer):
    both answers carry the same ``user_id``; one user each, nothing doubled."""

    async def body(stage: Stage) -> Row:
        worker = await stage.start(stage.worker("a"))

        async def no_fault() -> None:
            return None

        duration = max(5.0, options.n / 100)
        await stage.load([worker.url], duration, no_fault, SignupRetryingClient)
        client = stage.client
        assert isinstance(client, SignupRetryingClient)
        verdict = await stage.audit(worker)
        both = sum(a.status == b.status == 202 for a, b in client.pairs)
        wrong = client.mismatched()
        notes = [f"{len(client.pairs)} sign-ups sent twice, {both} answered 202 twice"]
        notes += [f"{_signup_ids(a)} then {_signup_ids(b)}" for a, b in wrong[:3]]
        row = Row("", verdict, None, notes)
        row.checks["both answers of a sign-up carry one user_id"] = both > 0 and not wrong
        return row

    return await run_scenario(options, 11, "11 sign-ups sent twice", body)
