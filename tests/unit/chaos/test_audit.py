"""Summing the verdicts of a run audited in slices."""

from __future__ import annotations

from collections import Counter

from chaos.audit import Verdict, judge_session, merged
from chaos.evidence import Accepted


def test_the_slices_verdicts_add_up_to_the_runs() -> None:
    first = Verdict(accepted=3, effects=3, final=3, es_documents=6, es_expected=6, waited_s=2.0)
    first.statuses, first.users, first.payments = Counter(success=3), {1, 2}, Counter({1: 2})
    second = Verdict(accepted=2, effects=1, final=2, es_documents=3, es_expected=4, waited_s=5.0)
    second.lost = [("c", "no response_events document in Elasticsearch")]
    second.doubled = [("pagamento_realizado d", "2 rows")]
    second.statuses, second.users, second.payments = Counter(success=2), {3}, Counter({1: 1, 3: 1})
    second.ghosts, second.fallback_bytes = 1, 0
    total = merged([first, second])
    assert (total.accepted, total.effects, total.final) == (5, 4, 5)
    assert (total.es_documents, total.es_expected) == (9, 10)
    assert total.lost_count == 1 and total.doubled_count == 1 and total.ghosts == 1
    assert total.statuses == Counter(success=5)
    assert total.users == {1, 2, 3} and total.payments == Counter({1: 3, 3: 1})
    assert total.waited_s == 5.0
    assert not total.clean


def test_clean_slices_make_a_clean_run() -> None:
    parts = [Verdict(accepted=n, effects=n, final=n) for n in (4, 0, 7)]
    assert merged(parts).clean and merged(parts).accepted == 11


def test_no_slice_is_an_empty_clean_verdict() -> None:
    assert merged([]).accepted == 0 and merged([]).clean


def _judged(status: str | None, listed: int) -> Verdict:
    verdict = Verdict()
    opening = Accepted("cid", "sessao", 7, session_id="7-s")
    judge_session(verdict, opening, status, listed)
    return verdict


def test_a_session_opened_with_success_and_listed_once_is_one_effect() -> None:
    verdict = _judged("success", 1)
    assert verdict.effects == 1 and not verdict.lost and not verdict.doubled


def test_a_session_opened_with_success_but_not_listed_is_lost() -> None:
    assert _judged("success", 0).lost == [("cid", "session 7-s opened but not listed")]


def test_a_refused_session_that_is_listed_is_doubled_and_one_not_listed_is_its_effect() -> None:
    assert _judged("error", 1).doubled == [("session 7-s", "refused but listed")]
    assert _judged("error", 0).effects == 1


def test_a_session_listed_twice_is_doubled() -> None:
    assert _judged("success", 2).doubled == [("session 7-s", "listed 2 times")]


def test_a_pending_status_is_no_refusal_a_listed_session_is_its_effect() -> None:
    listed, not_yet = _judged("pendente", 1), _judged("pendente", 0)
    assert listed.effects == 1 and not listed.doubled
    assert (not_yet.effects, not_yet.lost, not_yet.doubled) == (0, [], [])
