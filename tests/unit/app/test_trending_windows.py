"""Trending windows as TRENDING_WINDOWS spells them: parsed, checked, placed in time."""

from __future__ import annotations

import pytest

from app.trending_windows import Window, finest_hop_s, parse_windows


def test_the_default_spelling_gives_the_last_hour_by_5_minutes_and_the_day_by_hours() -> None:
    assert parse_windows("1h/5m,24h/1h") == (Window("1h", 3600, 300), Window("24h", 86400, 3600))


@pytest.mark.parametrize("spec", ["", "1h", "1h/7m", "1x/5m", "0h/5m", "1h/5m,1h/10m"])
def test_a_wrong_spelling_is_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_windows(spec)


def test_a_window_ends_with_the_current_hop() -> None:
    hour = Window("1h", 3600, 300)
    assert hour.start(now=10_000) == 10_200 - 3600  # the hop 9,900-10,200 is the last one


def test_the_finest_hop_is_the_shortest_one() -> None:
    assert finest_hop_s(parse_windows("24h/1h,1h/5m")) == 300
