"""The soak's judgement: memory trends over the second half, the worker's ceiling, lag after
the warm-up, and the pruned stores within their bounds."""

from __future__ import annotations

from bench.progress import Backlog
from chaos.soak_checks import (
    LAG_LIMIT_S,
    RSS_SLOPE_LIMIT_MB_PER_MIN,
    Bounds,
    Sample,
    furthest_behind_s,
    judge,
    seconds_behind,
)

BOUNDS = Bounds(ceiling_mb=190.0, rows=1000, indices=2)


def _samples(
    rss: list[float],
    lags_s: list[float] | None = None,
    rows: list[int] | None = None,
    indices: list[int] | None = None,
    postgres: list[float] | None = None,
) -> list[Sample]:
    n = len(rss)
    lags_s, rows = lags_s or [0.0] * n, rows or [0] * n
    indices, postgres = indices or [1] * n, postgres or [50.0] * n
    return [
        Sample(
            10.0 * (i + 1),
            {"worker": rss[i], "postgresql": postgres[i]},
            int(lags_s[i] * 100),
            None,
            None,
            {},
            {"processed_events": rows[i]},
            indices[i],
            lag_s=lags_s[i],
        )
        for i in range(n)
    ]


def _failed(samples: list[Sample]) -> list[str]:
    return [name for name, ok in judge(samples, BOUNDS).checks().items() if not ok]


def test_memory_that_grows_while_warming_up_then_stays_flat_has_no_trend() -> None:
    warming = [100.0 + 5 * i for i in range(10)]
    verdicts = judge(_samples(warming + [150.0] * 10), BOUNDS)
    assert verdicts.slopes["worker"] == 0
    assert _failed(_samples(warming + [150.0] * 10)) == []


def test_memory_growing_a_fifth_of_a_mib_a_minute_to_the_end_is_a_trend() -> None:
    growing = [100.0 + 0.2 * (i / 6) for i in range(60)]  # a sample every 10 s
    verdicts = judge(_samples(growing), BOUNDS)
    assert verdicts.slopes["worker"] > RSS_SLOPE_LIMIT_MB_PER_MIN
    assert [name for name in _failed(_samples(growing)) if "slope" in name] == [
        f"worker memory slope over the 2nd half <= {RSS_SLOPE_LIMIT_MB_PER_MIN:g} MiB/min"
    ]


def test_every_sampled_process_is_judged_for_its_trend() -> None:
    growing = [50.0 + 0.5 * (i / 6) for i in range(60)]
    failed = _failed(_samples([120.0] * 60, postgres=growing))
    assert failed == [
        f"postgresql memory slope over the 2nd half <= {RSS_SLOPE_LIMIT_MB_PER_MIN:g} MiB/min"
    ]


def test_a_worker_over_its_ceiling_once_fails_even_in_the_first_half() -> None:
    rss = [150.0] * 5 + [191.0] + [150.0] * 14
    assert _failed(_samples(rss)) == ["worker RSS <= its ceiling 190 MiB"]


def test_lag_is_judged_after_the_warm_up_only() -> None:
    lags = [LAG_LIMIT_S * 10] * 5 + [LAG_LIMIT_S] * 15  # the first 50 s: a backlog being drained
    verdicts = judge(_samples([100.0] * 20, lags), BOUNDS)
    assert verdicts.lag_max_s == LAG_LIMIT_S
    assert _failed(_samples([100.0] * 20, lags)) == []


def test_lag_over_its_limit_after_the_warm_up_fails() -> None:
    lags = [1.0] * 10 + [LAG_LIMIT_S + 0.5] + [1.0] * 9
    assert _failed(_samples([100.0] * 20, lags)) == [
        f"lag after 60s <= {LAG_LIMIT_S:g}s of the agents' input"
    ]


def test_lag_in_seconds_is_the_time_the_stream_took_to_bring_that_many_records() -> None:
    # 6,000 records written over 10 s since the first read: 600 a second, so 1,800 behind is 3 s
    assert seconds_behind(1_800, written=16_000, since=(5.0, 10_000), t=15.0) == 3.0


def test_the_group_furthest_behind_in_seconds_is_judged_not_the_sum() -> None:
    first = (0.0, {"statuses": 0, "logging": 0})
    backlogs = {
        # 1,000 records a second, 500 behind: half a second
        "statuses": Backlog(written=10_000, behind=500),
        # 100 records a second, 400 behind: four seconds, though fewer records
        "logging": Backlog(written=1_000, behind=400),
    }
    assert furthest_behind_s(backlogs, first, t=10.0) == 4.0


def test_lag_in_seconds_is_unknown_until_the_stream_has_moved() -> None:
    assert seconds_behind(50, written=10_000, since=(5.0, 10_000), t=15.0) is None
    assert seconds_behind(50, written=10_000, since=(5.0, 9_000), t=5.0) is None


def test_rows_and_indices_are_judged_over_the_second_half_only() -> None:
    # filling past the bound before the first pruning, then kept under it
    rows = [400 * i for i in range(10)] + [900] * 10
    indices = [3] * 10 + [2] * 10
    assert _failed(_samples([100.0] * 20, rows=rows, indices=indices)) == []


def test_rows_or_indices_past_their_bound_in_the_second_half_fail() -> None:
    rows = [500] * 10 + [500, 1001] + [500] * 8
    indices = [1] * 19 + [3]
    assert _failed(_samples([100.0] * 20, rows=rows, indices=indices)) == [
        "processed_events rows over the 2nd half <= 1000",
        "event-log indices over the 2nd half <= 2",
    ]
