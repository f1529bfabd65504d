"""The rolling audit's slices: each answer once, in the order they came back."""

from __future__ import annotations

import asyncio
import itertools

from chaos.evidence import Target
from chaos.recording import Answer
from chaos.rolling_audit import AuditPace, RollingAudit, accepted_ids, slice_end


def _answer(ended: float, status: int = 202, cid: str | None = None) -> Answer:
    body = {"correlation_id": cid or f"id-{ended}"} if status == 202 else None
    return Answer("assinatura", "/usuarios/1/assinatura", status, body, ended - 0.01, ended)


ANSWERS = [_answer(t) for t in (1.0, 2.0, 3.0, 4.0, 5.0)]


def test_a_slice_takes_the_answers_back_before_the_cutoff() -> None:
    assert slice_end(ANSWERS, 0, cutoff=3.5) == 3


def test_the_next_slice_starts_where_the_last_ended_so_each_answer_is_audited_once() -> None:
    first = slice_end(ANSWERS, 0, cutoff=2.5)
    second = slice_end(ANSWERS, first, cutoff=4.5)
    rest = slice_end(ANSWERS, second, cutoff=float("inf"))
    slices = [ANSWERS[:first], ANSWERS[first:second], ANSWERS[second:rest]]
    assert [len(s) for s in slices] == [2, 2, 1]
    assert [a for s in slices for a in s] == ANSWERS


def test_a_slice_with_nothing_settled_yet_is_empty() -> None:
    assert slice_end(ANSWERS, 2, cutoff=2.5) == 2
    assert slice_end(ANSWERS, 5, cutoff=9.0) == 5


def test_only_202s_count_as_accepted() -> None:
    answers = [_answer(1.0, cid="a"), _answer(2.0, status=503), _answer(3.0, cid="b")]
    assert accepted_ids(answers) == {"a", "b"}


async def test_a_stopped_rolling_audit_returns_between_slices_without_auditing() -> None:
    target = Target("run-", "http://127.0.0.1:1", "key", [])
    rolling = RollingAudit(target, list(ANSWERS), AuditPace(every_s=60.0, lag_s=1.0), 1.0)
    running = asyncio.create_task(rolling.run())
    await asyncio.sleep(0)
    rolling.stop()
    await asyncio.wait_for(running, timeout=1.0)
    assert rolling.parts == [] and rolling.audited == 0


async def test_slices_start_on_the_clock_so_a_slow_slice_is_followed_at_once() -> None:
    target = Target("run-", "http://127.0.0.1:1", "key", [])
    rolling = RollingAudit(target, list(ANSWERS), AuditPace(every_s=0.05, lag_s=0.0), 1.0)
    loop = asyncio.get_running_loop()
    started: list[float] = []

    async def slow_slice(cutoff: float, last: bool = False) -> None:
        started.append(loop.time())
        await asyncio.sleep(0.15)  # longer than the pace

    rolling.audit_until = slow_slice  # type: ignore[method-assign]
    running = asyncio.create_task(rolling.run())
    await asyncio.sleep(0.5)
    rolling.stop()
    await asyncio.wait_for(running, timeout=1.0)
    gaps = [b - a for a, b in itertools.pairwise(started)]
    # Each slice starts as the slow one before it ends, not a full pace after it.
    assert len(gaps) >= 2 and all(gap < 0.15 + 0.04 for gap in gaps)
