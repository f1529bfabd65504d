"""The two-generation cache: bounded in entries and in time, and a read never renews."""

from __future__ import annotations

import pytest

from tests.support.clock import ManualClock
from web.generational_cache import MISSING, GenerationalCache


def test_a_value_put_is_read_back_including_none() -> None:
    cache: GenerationalCache[int, str | None] = GenerationalCache(10, 600, ManualClock())
    cache.put(1, "caller")
    cache.put(2, None)
    assert cache.get(1) == "caller"
    assert cache.get(2) is None
    assert cache.get(3) is MISSING


def test_it_never_holds_more_than_its_bound() -> None:
    cache: GenerationalCache[int, int] = GenerationalCache(10, 600, ManualClock())
    for key in range(1000):
        cache.put(key, key)
        assert len(cache) <= 10
    assert cache.get(999) == 999
    assert cache.get(0) is MISSING  # long since dropped with its generation


def test_the_latest_half_of_the_bound_is_always_kept() -> None:
    cache: GenerationalCache[int, int] = GenerationalCache(10, 600, ManualClock())
    for key in range(23):
        cache.put(key, key)
    assert all(cache.get(key) == key for key in range(23 - 5, 23))


def test_an_entry_lives_at_least_half_and_at_most_the_whole_time_to_live() -> None:
    clock = ManualClock()
    cache: GenerationalCache[str, int] = GenerationalCache(100, 600, clock)
    cache.put("early", 1)
    clock.now += 299
    assert cache.get("early") == 1
    clock.now += 1  # the young generation is half the time to live old: it becomes the old one
    cache.put("late", 2)
    assert cache.get("early") == 1
    clock.now += 299
    assert cache.get("early") == 1
    clock.now += 1
    assert cache.get("early") is MISSING  # 600 s after it was put
    assert cache.get("late") == 2  # 300 s after it was put


def test_after_an_idle_spell_longer_than_the_time_to_live_nothing_is_kept() -> None:
    clock = ManualClock()
    cache: GenerationalCache[str, int] = GenerationalCache(100, 600, clock)
    cache.put("before", 1)
    clock.now += 601  # not a read nor a write in between: no generation moved
    assert cache.get("before") is MISSING
    cache.put("after", 2)
    assert cache.get("after") == 2


def test_reading_an_entry_does_not_renew_it() -> None:
    clock = ManualClock()
    cache: GenerationalCache[str, int] = GenerationalCache(100, 600, clock)
    cache.put("hot", 1)
    for _ in range(12):
        clock.now += 50
        if clock.now - 1000.0 < 600:
            assert cache.get("hot") == 1
    assert cache.get("hot") is MISSING


def test_a_bound_below_two_entries_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        GenerationalCache(1, 600)
