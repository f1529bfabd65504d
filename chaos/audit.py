"""The audit after a fault: every accepted request has exactly one effect, a final
status and its two documents; nothing is doubled.

Checks, for the correlation ids that got a 202:

* PostgreSQL (psycopg2): one ``processed_events`` row each; for an applied
  ``criar_usuario`` its ``usuarios`` row (by user id), for an applied payment
  exactly one ``pagamentos`` row (by correlation id), for an applied
  subscription or preference change the user's row; duplicates by
  ``GROUP BY ... HAVING count(*) > 1``; and no more payments on the run's users
  than applied payment events explain;
* the status API (admin key): ``success`` or ``error``, never ``pendente``;
* Elasticsearch: exactly one ``user_events`` and one ``response_events``
  document per correlation id (counted by a terms aggregation, so a second
  document under another id would show), and the fallback files empty.

It waits (up to a deadline) for the system to converge before judging: the
stream may still be draining a backlog built up during the fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg2
from aiokafka import AIOKafkaConsumer

from app.eventlog.indices import SYSTEM_LOGS
from app.settings import get_settings
from harness.broker import end_offsets
from harness.services import kafka_bootstrap

#: The request kinds of :mod:`demo.loadgen.traffic` and the event each one becomes.
EVENT_TYPES = {
    "usuarios": "criar_usuario",
    "assinatura": "atualizar_assinatura",
    "pagamento": "pagamento_realizado",
    "config": "atualizar_config",
    "visualizacao": "registrar_visualizacao",
    "sessao": "iniciar_sessao",
}
#: The topic each request kind's event goes to (the rest: ``user_events``).
REQUEST_TOPICS = {"visualizacao": "viewing_events", "sessao": "session_events"}
#: Kinds whose effect lives in a Faust table, not PostgreSQL: no ledger row.
TABLE_KINDS = frozenset({"sessao"})
FINAL = frozenset({"success", "error"})
_ES_CHUNK = 1000
_STATUS_CONCURRENCY = 32


@dataclass(frozen=True, slots=True)
class Accepted:
    """One request answered 202: what it asked for and its correlation id."""

    correlation_id: str
    kind: str
    user_id: int
    #: What a viewing watched, or the session an opening named.
    conteudo_id: int | None = None
    session_id: str | None = None

    @property
    def event_type(self) -> str:
        """The event type this request became."""
        return EVENT_TYPES[self.kind]

    @property
    def request_topic(self) -> str:
        """The base name of the topic its event went to."""
        return REQUEST_TOPICS.get(self.kind, "user_events")


@dataclass
class Verdict:
    """What the audit found."""

    accepted: int = 0
    #: Accepted requests whose effect is in PostgreSQL (ledger row, and the
    #: business row when applied).
    effects: int = 0
    final: int = 0
    #: ``(correlation id or "-", why)`` of each accepted request that lacks something.
    lost: list[tuple[str, str]] = field(default_factory=list)
    #: ``(what, why)`` of each thing found more than once.
    doubled: list[tuple[str, str]] = field(default_factory=list)
    es_documents: int = 0
    es_expected: int = 0
    fallback_bytes: int = 0
    #: Events on ``user_events`` whose request got no 202 (a 503 or no answer
    #: whose event Kafka kept all the same), and how many of those were applied.
    ghosts: int = 0
    ghosts_applied: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    waited_s: float = 0.0

    @property
    def lost_count(self) -> int:
        """Accepted requests missing an effect, a document or (after the deadline) nothing else."""
        return len({cid for cid, _ in self.lost})

    @property
    def doubled_count(self) -> int:
        """Things found more than once."""
        return len(self.doubled)

    @property
    def all_final(self) -> bool:
        """Every accepted request has a final status."""
        return self.final == self.accepted

    @property
    def clean(self) -> bool:
        """Nothing lost, nothing doubled, every status final, no fallback backlog left."""
        return not self.lost and not self.doubled and self.all_final and self.fallback_bytes == 0


@dataclass(frozen=True)
class Target:
    """Where the run's traces are: topic prefix, the API to read statuses from, data dirs."""

    topic_prefix: str
    status_url: str
    api_key: str
    data_dirs: Sequence[Path]

    def topic(self, base: str) -> str:
        """``base`` under the run's prefix."""
        return self.topic_prefix + base


# --------------------------------------------------------------------------- PostgreSQL


def _query(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    conn = psycopg2.connect(get_settings().postgres_dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def ledger(correlation_ids: Sequence[str]) -> dict[str, tuple[str, int, str]]:
    """``processed_events`` rows: correlation id -> (event type, user id, outcome)."""
    rows = _query(
        "SELECT correlation_id::text, event_type, user_id, outcome FROM processed_events"
        " WHERE correlation_id = ANY(%s::uuid[])",
        (list(correlation_ids),),
    )
    return {cid: (event_type, uid, outcome) for cid, event_type, uid, outcome in rows}


def _counts(sql: str, keys: Sequence[Any]) -> dict[Any, int]:
    return {str(key): int(n) for key, n in _query(sql, (list(keys),))}


_HAVING_MORE_THAN_ONE = (
    "SELECT {key}::text, count(*) FROM {table} WHERE {where} GROUP BY 1 HAVING count(*) > 1"
)
_BY_CORRELATION_ID = "correlation_id = ANY(%s::uuid[])"
_BY_USER_ID = "user_id = ANY(%s)"


def _duplicates(user_ids: Sequence[int], correlation_ids: Sequence[str]) -> list[tuple[str, str]]:
    """Rows present more than once, by every key that must be unique."""
    same_as_users = "{key} IN (SELECT {key} FROM usuarios WHERE user_id = ANY(%s))"
    checks: list[tuple[str, str, str, Sequence[Any]]] = [
        ("processed_events", "correlation_id", _BY_CORRELATION_ID, correlation_ids),
        ("pagamentos", "correlation_id", _BY_CORRELATION_ID, correlation_ids),
        ("usuarios", "user_id", _BY_USER_ID, user_ids),
        ("usuarios", "email", same_as_users.format(key="email"), user_ids),
        ("usuarios", "cpf", same_as_users.format(key="cpf"), user_ids),
        ("assinaturas", "user_id", _BY_USER_ID, user_ids),
        ("preferencias", "user_id", _BY_USER_ID, user_ids),
    ]
    found = []
    for table, key, where, keys in checks:
        sql = _HAVING_MORE_THAN_ONE.format(key=key, table=table, where=where)
        for value, n in _query(sql, (list(keys),)):
            found.append((f"{table}.{key}={value}", f"{n} rows"))
    return found


# --------------------------------------------------------------------------- the status API


async def fetch_statuses(
    target: Target, correlation_ids: Sequence[str], known: dict[str, str]
) -> None:
    """Update ``known`` (correlation id -> status) for the ids not final yet."""
    todo = [cid for cid in correlation_ids if known.get(cid) not in FINAL]
    if not todo:
        return
    limit = asyncio.Semaphore(_STATUS_CONCURRENCY)
    headers = {"X-API-Key": target.api_key}
    async with httpx.AsyncClient(base_url=target.status_url, headers=headers, timeout=10) as http:

        async def one(cid: str) -> None:
            async with limit:
                try:
                    answer = await http.get(f"/status/{cid}")
                except httpx.HTTPError as exc:
                    known[cid] = f"no answer ({type(exc).__name__})"
                    return
            if answer.status_code == 200:
                known[cid] = str(answer.json().get("status"))
            else:
                known[cid] = f"HTTP {answer.status_code}"

        await asyncio.gather(*(one(cid) for cid in todo))


# --------------------------------------------------------------------------- Elasticsearch


async def document_counts(
    target: Target, correlation_ids: Sequence[str]
) -> dict[tuple[str, str], int]:
    """Documents per (correlation id, base topic) among the run's request/response topics."""
    bases = ("user_events", "response_events", *REQUEST_TOPICS.values())
    topics = {target.topic(base): base for base in bases}
    counts: dict[tuple[str, str], int] = {}
    async with httpx.AsyncClient(base_url=get_settings().elasticsearch_host, timeout=30) as es:
        await es.post(f"/{SYSTEM_LOGS}/_refresh")
        for start in range(0, len(correlation_ids), _ES_CHUNK):
            chunk = list(correlation_ids[start : start + _ES_CHUNK])
            body = {
                "size": 0,
                "query": {
                    "bool": {
                        "filter": [
                            {"terms": {"correlation_id": chunk}},
                            {"terms": {"topic": list(topics)}},
                        ]
                    }
                },
                "aggs": {
                    "ids": {
                        "terms": {"field": "correlation_id", "size": len(chunk)},
                        "aggs": {"topics": {"terms": {"field": "topic", "size": 10}}},
                    }
                },
            }
            answer = await es.post(f"/{SYSTEM_LOGS}/_search", json=body)
            answer.raise_for_status()
            for bucket in answer.json()["aggregations"]["ids"]["buckets"]:
                for by_topic in bucket["topics"]["buckets"]:
                    key = (bucket["key"], topics[by_topic["key"]])
                    counts[key] = int(by_topic["doc_count"])
    return counts


def fallback_bytes(data_dirs: Sequence[Path]) -> int:
    """Bytes still waiting in the workers' Elasticsearch fallback files."""
    total = 0
    for directory in data_dirs:
        for name in ("es-fallback.jsonl", "es-fallback.jsonl.replaying"):
            with contextlib.suppress(FileNotFoundError):
                total += (directory / name).stat().st_size
    return total


# --------------------------------------------------------------------------- Kafka


async def topic_events(topic: str) -> list[dict[str, Any]]:
    """Every JSON object on ``topic`` (from the beginning to its current end)."""
    ends = await end_offsets(topic)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap(),
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024**2,
    )
    await consumer.start()
    events: list[dict[str, Any]] = []
    try:
        consumer.assign(list(ends))
        await consumer.seek_to_beginning(*ends)
        pending = {tp for tp, end in ends.items() if end > 0}
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=1000)
            for records in batches.values():
                for record in records:
                    with contextlib.suppress(orjson.JSONDecodeError):
                        value = orjson.loads(record.value)
                        if isinstance(value, dict):
                            events.append(value)
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
    finally:
        with contextlib.suppress(asyncio.CancelledError):
            await consumer.stop()
    return events


# --------------------------------------------------------------------------- the audit


async def _converged(
    target: Target, accepted: Sequence[Accepted], statuses: dict[str, str]
) -> tuple[bool, dict[str, tuple[str, int, str]], dict[tuple[str, str], int]]:
    ids = [a.correlation_id for a in accepted]
    recorded = await asyncio.to_thread(ledger, ids)
    await fetch_statuses(target, ids, statuses)
    documents = await document_counts(target, ids)
    done = (
        len(recorded) == sum(a.kind not in TABLE_KINDS for a in accepted)
        and all(statuses.get(cid) in FINAL for cid in ids)
        and all(documents.get((a.correlation_id, t), 0) >= 1 for a in accepted for t in _logged(a))
        and fallback_bytes(target.data_dirs) == 0
    )
    return done, recorded, documents


def _logged(request: Accepted) -> tuple[str, str]:
    """The (base) topics whose documents a request must have: its event's, and its outcome's."""
    return request.request_topic, "response_events"


async def audit(
    target: Target,
    accepted: Sequence[Accepted],
    timeout_s: float = 120.0,
    not_requests: frozenset[str] = frozenset(),
) -> Verdict:
    """Wait until the run's effects converge (or ``timeout_s``), then judge them.

    ``not_requests``: correlation ids on ``user_events`` that no HTTP request
    made (poison events written straight to the topic).
    """
    began = time.monotonic()
    statuses: dict[str, str] = {}
    while True:
        done, recorded, documents = await _converged(target, accepted, statuses)
        if done or time.monotonic() - began > timeout_s:
            break
        await asyncio.sleep(1.0)
    verdict = Verdict(accepted=len(accepted), waited_s=time.monotonic() - began)
    verdict.statuses = Counter(statuses.get(a.correlation_id, "?") for a in accepted)
    verdict.final = sum(statuses.get(a.correlation_id) in FINAL for a in accepted)
    verdict.fallback_bytes = fallback_bytes(target.data_dirs)
    _judge_documents(verdict, accepted, documents)
    events = await topic_events(target.topic("user_events"))
    in_postgres = [a for a in accepted if a.kind not in TABLE_KINDS]
    await asyncio.to_thread(_judge_rows, verdict, in_postgres, recorded, events, not_requests)
    await _judge_sessions(verdict, target, [a for a in accepted if a.kind == "sessao"], statuses)
    return verdict


async def _judge_sessions(
    verdict: Verdict, target: Target, opened: Sequence[Accepted], statuses: dict[str, str]
) -> None:
    """Each session opened with ``success`` is listed once for its user; a refused one never."""
    users = sorted({a.user_id for a in opened})
    listed: Counter[str] = Counter()
    async with httpx.AsyncClient(
        base_url=target.status_url, headers={"X-API-Key": target.api_key}, timeout=10
    ) as http:
        for user_id in users:
            answer = await http.get(
                f"/sessoes/usuario/{user_id}", params={"ativas_apenas": "false"}
            )
            if answer.status_code == 200:
                listed.update(s["session_id"] for s in answer.json()["sessoes"])
    for a in opened:
        found = listed.get(a.session_id or "", 0)
        succeeded = statuses.get(a.correlation_id) == "success"
        if succeeded and found == 0:
            verdict.lost.append((a.correlation_id, f"session {a.session_id} opened but not listed"))
        elif found > 1:
            verdict.doubled.append((f"session {a.session_id}", f"listed {found} times"))
        elif not succeeded and found:
            verdict.doubled.append((f"session {a.session_id}", "refused but listed"))
        else:
            verdict.effects += 1


def _judge_documents(
    verdict: Verdict, accepted: Sequence[Accepted], documents: dict[tuple[str, str], int]
) -> None:
    verdict.es_expected = len(accepted) * 2
    for a in accepted:
        for topic in _logged(a):
            n = documents.get((a.correlation_id, topic), 0)
            verdict.es_documents += min(n, 1)
            if n == 0:
                verdict.lost.append((a.correlation_id, f"no {topic} document in Elasticsearch"))
            elif n > 1:
                verdict.doubled.append((f"{topic} documents of {a.correlation_id}", f"{n} docs"))


def _judge_rows(
    verdict: Verdict,
    accepted: Sequence[Accepted],
    recorded: dict[str, tuple[str, int, str]],
    events: list[dict[str, Any]],
    not_requests: frozenset[str],
) -> None:
    accepted_ids = {a.correlation_id for a in accepted}
    ghosts = [
        e
        for e in events
        if isinstance(e.get("correlation_id"), str)
        and e["correlation_id"] not in accepted_ids
        and e["correlation_id"] not in not_requests
    ]
    ghost_ledger = ledger([g["correlation_id"] for g in ghosts]) if ghosts else {}
    verdict.ghosts = len({g["correlation_id"] for g in ghosts})
    verdict.ghosts_applied = sum(o == "applied" for _, _, o in ghost_ledger.values())

    user_ids = sorted(
        {a.user_id for a in accepted if a.kind == "usuarios"}
        | {int(g["user_id"]) for g in ghosts if g.get("event_type") == "criar_usuario"}
    )
    ids = [a.correlation_id for a in accepted]
    users = _counts(
        "SELECT user_id, count(*) FROM usuarios WHERE user_id = ANY(%s) GROUP BY 1",
        [a.user_id for a in accepted],
    )
    payments = _counts(
        "SELECT correlation_id::text, count(*) FROM pagamentos"
        " WHERE correlation_id = ANY(%s::uuid[]) GROUP BY 1",
        ids,
    )
    targets = sorted({a.user_id for a in accepted})
    subscribed = _counts(
        "SELECT user_id, count(*) FROM assinaturas WHERE user_id = ANY(%s) GROUP BY 1", targets
    )
    configured = _counts(
        "SELECT user_id, count(*) FROM preferencias WHERE user_id = ANY(%s) GROUP BY 1", targets
    )
    watched = _counts(
        "SELECT user_id || ':' || conteudo_id, count(*) FROM visualizacoes"
        " WHERE user_id = ANY(%s) GROUP BY 1",
        targets,
    )
    rows_of = {
        "criar_usuario": lambda a: users.get(str(a.user_id), 0),
        "pagamento_realizado": lambda a: payments.get(a.correlation_id, 0),
        "atualizar_assinatura": lambda a: min(1, subscribed.get(str(a.user_id), 0)),
        "atualizar_config": lambda a: min(1, configured.get(str(a.user_id), 0)),
        "registrar_visualizacao": lambda a: watched.get(f"{a.user_id}:{a.conteudo_id}", 0),
    }
    for a in accepted:
        entry = recorded.get(a.correlation_id)
        if entry is None:
            verdict.lost.append((a.correlation_id, f"{a.event_type} never applied (no ledger row)"))
            continue
        if entry[0] != a.event_type or entry[1] != a.user_id:
            verdict.lost.append((a.correlation_id, f"ledger row {entry} is not {a}"))
            continue
        if entry[2] != "applied":
            verdict.effects += 1  # refused for good (e.g. e-mail taken): the ledger row is it
            continue
        n = rows_of[a.event_type](a)
        if n == 0:
            verdict.lost.append((a.correlation_id, f"{a.event_type} applied but no row"))
        elif n > 1:
            verdict.doubled.append((f"{a.event_type} {a.correlation_id}", f"{n} rows"))
        else:
            verdict.effects += 1
    verdict.doubled += _duplicates(user_ids, ids)
    _judge_payment_total(verdict, recorded | ghost_ledger, user_ids)


def _judge_payment_total(
    verdict: Verdict,
    recorded: dict[str, tuple[str, int, str]],
    user_ids: Sequence[int],
) -> None:
    """No more payments on the run's users than their applied payment events explain."""
    users = set(user_ids)
    expected = sum(
        event_type == "pagamento_realizado" and outcome == "applied" and uid in users
        for event_type, uid, outcome in recorded.values()
    )
    rows = _query("SELECT count(*) FROM pagamentos WHERE user_id = ANY(%s)", (list(user_ids),))
    total = int(rows[0][0])
    if total > expected:
        verdict.doubled.append(("pagamentos of the run's users", f"{total} rows for {expected}"))
