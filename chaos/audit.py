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

A long run audits its requests a slice at a time, while their evidence is still
retained (:mod:`chaos.rolling_audit`): then the caller hands in the
``user_events`` records to look for ghosts in (instead of the whole topic),
sums the slices' verdicts (:func:`merged`) and judges the payment total once,
over the whole run (:func:`judge_payment_total`).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from chaos.evidence import (
    FINAL,
    TABLE_KINDS,
    Accepted,
    Target,
    counts,
    document_counts,
    duplicates,
    fallback_bytes,
    fetch_statuses,
    ledger,
    query,
    topic_events,
)


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
    #: The users this audit covers (accepted and ghost sign-ups), and the applied
    #: payment events it found per user: what the payment total is judged on.
    users: set[int] = field(default_factory=set)
    payments: Counter[int] = field(default_factory=Counter)

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


# --------------------------------------------------------------------------- the audit


async def _converged(
    target: Target,
    accepted: Sequence[Accepted],
    statuses: dict[str, str],
    status_reads_per_s: float | None,
) -> tuple[bool, dict[str, tuple[str, int, str]], dict[tuple[str, str], int]]:
    ids = [a.correlation_id for a in accepted]
    recorded = await asyncio.to_thread(ledger, ids)
    await fetch_statuses(target, ids, statuses, status_reads_per_s)
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
    events: Sequence[dict[str, Any]] | None = None,
    status_reads_per_s: float | None = None,
) -> Verdict:
    """Wait until the run's effects converge (or ``timeout_s``), then judge them.

    ``not_requests``: correlation ids on ``user_events`` that no HTTP request
    made (poison events written straight to the topic). ``events``: the
    ``user_events`` records to look for ghosts in; ``None`` reads the whole
    topic and judges the payment total too (a whole run in one audit). A slice
    of a run passes its own records and leaves the payment total to the end.
    ``status_reads_per_s``: how fast statuses are read (``None``: at once).
    """
    began = time.monotonic()
    statuses: dict[str, str] = {}
    while True:
        done, recorded, documents = await _converged(target, accepted, statuses, status_reads_per_s)
        if done or time.monotonic() - began > timeout_s:
            break
        await asyncio.sleep(1.0)
    verdict = Verdict(accepted=len(accepted), waited_s=time.monotonic() - began)
    verdict.statuses = Counter(statuses.get(a.correlation_id, "?") for a in accepted)
    verdict.final = sum(statuses.get(a.correlation_id) in FINAL for a in accepted)
    verdict.fallback_bytes = fallback_bytes(target.data_dirs)
    _judge_documents(verdict, accepted, documents)
    whole_run = events is None
    if events is None:
        events = await topic_events(target.topic("user_events"))
    in_postgres = [a for a in accepted if a.kind not in TABLE_KINDS]
    await asyncio.to_thread(_judge_rows, verdict, in_postgres, recorded, events, not_requests)
    if whole_run:
        await asyncio.to_thread(judge_payment_total, verdict)
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
        judge_session(verdict, a, statuses.get(a.correlation_id), listed.get(a.session_id or "", 0))


def judge_session(verdict: Verdict, opened: Accepted, status: str | None, listed: int) -> None:
    """One session opening, by its status and how often its user's sessions list it.

    Only a final status judges it: a ``pendente`` one (the status agent behind
    at the audit's deadline) is no refusal, and is counted as not final already.
    """
    session = f"session {opened.session_id}"
    if listed > 1:
        verdict.doubled.append((session, f"listed {listed} times"))
    elif status == "success" and not listed:
        verdict.lost.append((opened.correlation_id, f"{session} opened but not listed"))
    elif status == "error" and listed:
        verdict.doubled.append((session, "refused but listed"))
    elif status in FINAL or listed:
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
    events: Sequence[dict[str, Any]],
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
    users = counts(
        "SELECT user_id, count(*) FROM usuarios WHERE user_id = ANY(%s) GROUP BY 1",
        [a.user_id for a in accepted],
    )
    payments = counts(
        "SELECT correlation_id::text, count(*) FROM pagamentos"
        " WHERE correlation_id = ANY(%s::uuid[]) GROUP BY 1",
        ids,
    )
    targets = sorted({a.user_id for a in accepted})
    subscribed = counts(
        "SELECT user_id, count(*) FROM assinaturas WHERE user_id = ANY(%s) GROUP BY 1", targets
    )
    configured = counts(
        "SELECT user_id, count(*) FROM preferencias WHERE user_id = ANY(%s) GROUP BY 1", targets
    )
    watched = counts(
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
    verdict.doubled += duplicates(user_ids, ids)
    verdict.users.update(user_ids)
    verdict.payments.update(
        uid
        for event_type, uid, outcome in (recorded | ghost_ledger).values()
        if event_type == "pagamento_realizado" and outcome == "applied"
    )


def judge_payment_total(verdict: Verdict) -> None:
    """No more payments on the audited users than their applied payment events explain.

    The events are counted whichever request (or slice of the run) they were
    audited with: a user signed up in one slice may pay in any later one.
    """
    users = sorted(verdict.users)
    expected = sum(n for uid, n in verdict.payments.items() if uid in verdict.users)
    rows = query("SELECT count(*) FROM pagamentos WHERE user_id = ANY(%s)", (users,))
    total = int(rows[0][0])
    if total > expected:
        verdict.doubled.append(("pagamentos of the run's users", f"{total} rows for {expected}"))


def merged(parts: Sequence[Verdict]) -> Verdict:
    """One verdict for a run audited in slices: each slice's requests counted once."""
    total = Verdict()
    for part in parts:
        total.accepted += part.accepted
        total.effects += part.effects
        total.final += part.final
        total.lost += part.lost
        total.doubled += part.doubled
        total.es_documents += part.es_documents
        total.es_expected += part.es_expected
        total.ghosts += part.ghosts
        total.ghosts_applied += part.ghosts_applied
        total.statuses += part.statuses
        total.waited_s = max(total.waited_s, part.waited_s)
        total.users |= part.users
        total.payments += part.payments
    # What is left in the fallback files is the last slice's reading: a backlog now.
    total.fallback_bytes = parts[-1].fallback_bytes if parts else 0
    return total
