"""The worker's stated memory ceiling, computed from its settings."""

from __future__ import annotations

import pytest

from app.memory_ceiling import API_CACHES_MB, memory_ceiling_mb
from app.settings import Settings


def _settings(**env: str) -> Settings:
    return Settings(**env)  # type: ignore[arg-type]  # aliases, as in the environment


def test_the_defaults_give_the_222_mib_at_rest_the_docs_state() -> None:
    ceiling = memory_ceiling_mb(_settings(TOPIC_PARTITIONS="8", ROCKSDB_BLOCK_CACHE_MB="64"))
    assert API_CACHES_MB == pytest.approx(13.5, abs=0.1)
    assert ceiling == pytest.approx(129 + 32 * 0.3 + 64 + 6 + API_CACHES_MB)
    assert round(ceiling) == 222


def test_work_in_flight_adds_three_tenths_of_a_mib_per_request_per_second() -> None:
    settings = _settings(TOPIC_PARTITIONS="8", ROCKSDB_BLOCK_CACHE_MB="64")
    assert memory_ceiling_mb(settings, 200) - memory_ceiling_mb(settings) == pytest.approx(60)
    assert round(memory_ceiling_mb(settings, 200)) == 282


def test_the_ceiling_follows_the_partitions_and_the_cache() -> None:
    small = memory_ceiling_mb(
        _settings(TOPIC_PARTITIONS="4", ROCKSDB_BLOCK_CACHE_MB="16", ROCKSDB_WRITE_BUFFER_MB="8")
    )
    big = memory_ceiling_mb(_settings(TOPIC_PARTITIONS="24", ROCKSDB_BLOCK_CACHE_MB="128"))
    assert small == pytest.approx(129 + 16 * 0.3 + 16 + 6 + API_CACHES_MB)
    assert big == pytest.approx(129 + 96 * 0.3 + 128 + 6 + API_CACHES_MB)


def test_a_role_whose_base_was_never_measured_has_no_ceiling() -> None:
    with pytest.raises(ValueError, match="WORKER_ROLE=logging"):
        memory_ceiling_mb(_settings(WORKER_ROLE="logging"))
