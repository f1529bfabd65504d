"""Summing the verdicts of a run audited in slices."""

from __future__ import annotations

from collections import Counter

from chaos.audit import Verdict, merged


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
