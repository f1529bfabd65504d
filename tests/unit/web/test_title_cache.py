"""The per-worker title cache: the contract's fields, one hour, bounded, least recently used out."""

from __future__ import annotations

from typing import Any

from tests.support.clock import ManualClock
from web.title_cache import CACHED_FIELDS, TitleCache

#: 2025-01-01T00:00:00Z
START = 1_735_689_600.0


def title(conteudo_id: int) -> dict[str, Any]:
    fields = {field: f"valor {field}" for field in CACHED_FIELDS}
    return fields | {"conteudo_id": conteudo_id, "generos": ["Drama"], "temporadas": None}


def test_an_entry_holds_the_contracts_fields_and_its_expiry() -> None:
    cache = TitleCache(clock=ManualClock(START))
    entry = cache.put(title(1000))
    assert set(entry) == {*CACHED_FIELDS, "em_cache_ate"}
    assert entry["em_cache_ate"] == "2025-01-01T01:00:00Z"
    assert cache.get(1000) == entry


def test_an_entry_expires_after_an_hour() -> None:
    clock = ManualClock(START)
    cache = TitleCache(clock=clock)
    cache.put(title(1000))
    clock.now = START + 3599
    assert cache.get(1000) is not None
    clock.now = START + 3600
    assert cache.get(1000) is None


def test_loading_again_starts_a_new_hour() -> None:
    clock = ManualClock(START)
    cache = TitleCache(clock=clock)
    cache.put(title(1000))
    clock.now = START + 3000
    assert cache.put(title(1000))["em_cache_ate"] == "2025-01-01T01:50:00Z"
    clock.now = START + 3600
    assert cache.get(1000) is not None


def test_a_full_cache_drops_the_least_recently_used() -> None:
    cache = TitleCache(max_entries=3, clock=ManualClock(START))
    for conteudo_id in (1, 2, 3):
        cache.put(title(conteudo_id))
    cache.get(1)
    cache.put(title(4))
    assert len(cache) == 3
    assert cache.get(2) is None
    assert all(cache.get(i) is not None for i in (1, 3, 4))


def test_a_caller_changing_an_answer_does_not_change_the_cache() -> None:
    cache = TitleCache(clock=ManualClock(START))
    cache.put(title(1000))["titulo"] = "outro"
    answer = cache.get(1000)
    assert answer is not None and answer["titulo"] == "valor titulo"
    answer["cache"] = "hit"
    assert "cache" not in (cache.get(1000) or {})
