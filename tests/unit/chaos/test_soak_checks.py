"""The soak's judgement: a memory trend over the second half, lag after the warm-up."""

from __future__ import annotations

from chaos.soak import LAG_LIMIT_S, RSS_SLOPE_LIMIT_MB_PER_MIN, Sample, judge


def _samples(rss: list[float], lags: list[int] | None = None) -> list[Sample]:
    lags = lags or [0] * len(rss)
    return [
        Sample(10.0 * (i + 1), {"worker": mb}, lag, None, None, {})
        for i, (mb, lag) in enumerate(zip(rss, lags, strict=True))
    ]


def test_memory_that_grows_while_warming_up_then_stays_flat_has_no_trend() -> None:
    warming = [100.0 + 10 * i for i in range(10)]
    verdicts = judge(_samples(warming + [200.0] * 10), rate=50)
    assert verdicts.rss_slope_mb_per_min == 0
    assert all(verdicts.checks().values())


def test_memory_growing_two_mib_a_minute_to_the_end_is_a_trend() -> None:
    growing = [100.0 + 2 * (i / 6) for i in range(60)]  # a sample every 10 s
    verdicts = judge(_samples(growing), rate=50)
    assert verdicts.rss_slope_mb_per_min > RSS_SLOPE_LIMIT_MB_PER_MIN
    assert not all(verdicts.checks().values())


def test_lag_is_judged_after_the_warm_up_only() -> None:
    limit = int(50 * LAG_LIMIT_S)
    lags = [limit * 10] * 5 + [limit] * 15  # the first 50 s: a backlog being drained
    verdicts = judge(_samples([100.0] * 20, lags), rate=50)
    assert verdicts.lag_max == limit
    assert all(verdicts.checks().values())
