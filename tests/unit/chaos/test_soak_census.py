"""The soak's censuses: taken at half time and near the end, summarised by what grew."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import orjson
import pytest

from app.telemetry.object_census import Census, Container
from chaos import soak_census
from chaos.soak_census import SoakCensus


def write(directory: Path, number: int, census: Census) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"census-{number:03d}.json").write_bytes(orjson.dumps(census.as_json()))


def test_the_summary_names_the_holders_and_types_that_grew_most(tmp_path: Path) -> None:
    census = SoakCensus(tmp_path)
    census.taken_at = [900.0, 1710.0]
    write(tmp_path, 1, Census(700_000, 1, {"a.Link": 100}, [Container("dict", 5000, "m.cache")]))
    write(tmp_path, 2, Census(760_000, 1, {"a.Link": 900}, [Container("dict", 9000, "m.cache")]))
    summary = census.summary()
    assert summary is not None
    assert "900s and 1710s" in summary
    assert "blocks 700k → 760k" in summary
    assert "+4,000 m.cache (dict)" in summary
    assert "+800 a.Link" in summary


def test_nothing_is_summarised_until_both_censuses_are_written(tmp_path: Path) -> None:
    census = SoakCensus(tmp_path)
    census.taken_at = [900.0, 1710.0]
    write(tmp_path, 1, Census(1, 1))
    assert census.summary() is None


def test_the_worker_is_signalled_at_half_time_and_near_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(soak_census.os, "kill", lambda pid, sig: sent.append((pid, sig)))
    census = SoakCensus(tmp_path)
    asyncio.run(census.run(lambda: 4242, duration_s=0.2))
    assert sent == [(4242, signal.SIGUSR2), (4242, signal.SIGUSR2)]
    assert census.taken_at == pytest.approx([0.1, 0.19])
    assert census.worker_env() == {"MEMORY_SNAPSHOT_DIR": str(tmp_path), "MEMORY_TRACE_FRAMES": "0"}
