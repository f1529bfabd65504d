"""Auditing a long run as it goes: each accepted request once, while its evidence is kept.

With retention shortened so that it acts during a soak, the first requests'
ledger rows, outcomes and documents are legitimately gone by the end: an audit
at the end only would call them lost. So every ``every_s`` the requests
answered between the last slice and ``lag_s`` ago (time enough for their
outcome and documents to land) are audited with :func:`chaos.audit.audit`;
at the end the remainder is. The slices' verdicts are summed
(:func:`chaos.audit.merged`) and the payment total judged once, over the whole
run (a user signed up in one slice pays in later ones).

``user_events`` is read as it grows (:class:`chaos.evidence.TopicTail`), not
from its beginning at each slice: an event whose request was not accepted
(a ghost) is judged with the slice after the one that read it, when its
request's answer, if any, has been recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chaos.audit import Verdict, audit, judge_payment_total, merged
from chaos.evidence import Target, TopicTail
from chaos.recording import Answer, accepted_request


@dataclass(frozen=True)
class AuditPace:
    """How often a slice is audited, and how old its newest request must be by then."""

    every_s: float = 120.0
    lag_s: float = 120.0
    #: How fast a slice's statuses are read through the worker's API (``None``: at once).
    status_reads_per_s: float | None = None


def slice_end(answers: Sequence[Answer], start: int, cutoff: float) -> int:
    """The end (exclusive) of the slice from ``start``: answers that came back before ``cutoff``.

    ``answers`` are in the order they came back, so the slice is a run of them.
    """
    end = start
    while end < len(answers) and answers[end].ended < cutoff:
        end += 1
    return end


def accepted_ids(answers: Sequence[Answer]) -> set[str]:
    """The correlation ids answered 202 among ``answers``."""
    return {a.body["correlation_id"] for a in answers if a.status == 202 and a.body is not None}


class RollingAudit:
    """Audits the answers recorded in ``answers`` a slice at a time; :meth:`verdict` sums them."""

    def __init__(
        self, target: Target, answers: list[Answer], pace: AuditPace, timeout_s: float
    ) -> None:
        self.target = target
        self.answers = answers
        self.pace = pace
        self.timeout_s = timeout_s
        self.parts: list[Verdict] = []
        #: The age, when its slice was judged, of the oldest request audited so far: its
        #: evidence must have been kept that long (:func:`chaos.soak_retention.check_audit_fits`).
        self.oldest_age_s = 0.0
        #: How many of ``answers`` have been audited (they are audited in order).
        self.audited = 0
        self._tail = TopicTail(target.topic("user_events"))
        self._accepted: set[str] = set()
        #: ``user_events`` records read whose request is not (yet) known as accepted.
        self._unclaimed: list[dict[str, Any]] = []
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """Start a slice every ``pace.every_s`` on the clock (at once when the last one took
        longer), until :meth:`stop`.

        On the clock, not ``every_s`` after the last slice ended: an audit slowed by the
        load would otherwise leave ever larger slices, each taking longer, and requests
        reached ever later (a 1-hour soak at 200 req/s saw slices of 24,000, 39,000 and
        50,000 requests take 75, 129 and 189 s).
        Stopped rather than cancelled: a slice cut short would lose the records
        its read of ``user_events`` consumed.
        """
        loop = asyncio.get_running_loop()
        next_start = loop.time() + self.pace.every_s
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                wait_s = max(0.0, next_start - loop.time())
                await asyncio.wait_for(self._stopping.wait(), wait_s)
                return
            next_start = loop.time() + self.pace.every_s
            await self.audit_until(loop.time() - self.pace.lag_s)

    def stop(self) -> None:
        """Let :meth:`run` return once the slice under audit, if any, is done."""
        self._stopping.set()

    async def audit_until(self, cutoff: float, last: bool = False) -> Verdict | None:
        """Audit the answers not audited yet that came back before ``cutoff``.

        ``last``: the load is over, every answer is in: the records still
        unclaimed are ghosts.
        """
        end = slice_end(self.answers, self.audited, cutoff)
        part = self.answers[self.audited : end]
        self._accepted |= accepted_ids(self.answers[self.audited :])
        judged = self._unclaimed  # read at the last slice: their answers have come in since
        fresh = [
            e for e in await self._tail.read() if e.get("correlation_id") not in self._accepted
        ]
        if last:
            judged, fresh = judged + fresh, []
        self._unclaimed = fresh
        ghosts = [e for e in judged if e.get("correlation_id") not in self._accepted]
        if not part and not ghosts:
            return None
        requests = list(
            dict.fromkeys(accepted_request(a) for a in part if a.status == 202 and a.body)
        )
        verdict = await audit(
            self.target,
            requests,
            timeout_s=self.timeout_s,
            events=ghosts,
            # Once the load is over, nothing is left to disturb: the remainder is read at once.
            status_reads_per_s=None if last else self.pace.status_reads_per_s,
        )
        if part:
            age = asyncio.get_running_loop().time() - part[0].started
            self.oldest_age_s = max(self.oldest_age_s, age)
        self.parts.append(verdict)
        self.audited = end
        print(
            f"audit slice {len(self.parts)}: {verdict.accepted} accepted, {verdict.final} final, "
            f"{verdict.lost_count} lost, {verdict.doubled_count} doubled, {verdict.ghosts} ghosts "
            f"(converged in {verdict.waited_s:.1f}s)",
            flush=True,
        )
        return verdict

    async def finish(self) -> Verdict:
        """Audit what is left, then the run's verdict: the slices summed, the payment total judged."""
        await self.audit_until(float("inf"), last=True)
        await self._tail.close()
        total = merged(self.parts)
        await asyncio.to_thread(judge_payment_total, total)
        return total
