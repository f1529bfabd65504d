"""Trending on the real services: distinct viewers per title, exact across a crash."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from app.requests.envelope import CorrelationIds, encode_event
from app.settings import get_settings
from app.viewing.viewing_events import ViewingRecorded
from harness.broker import produce, run
from harness.services import pg_rows
from harness.workers import ADMIN, Worker, own_names, wait_for_final_status
from tests.integration.test_viewing import heartbeat
from tests.support.flow import create_user

pytestmark = pytest.mark.integration

HOUR = next(w for w in get_settings().trending_windows if w.name == "1h")


@pytest.fixture
def trending_worker(tmp_path: Path) -> Iterator[Worker]:
    """A worker of its own: its trending counts only this test's viewings."""
    worker = Worker(tmp_path / "trending", **own_names("trending")).start()
    yield worker
    worker.stop()


def trending(api: httpx.Client, **query: Any) -> dict[int, int]:
    """``conteudo_id -> viewers`` of the 1h list."""
    answer = api.get("/em-alta", params={"janela": "1h", "limit": 100, **query})
    assert answer.status_code == 200, answer.text
    return {item["conteudo_id"]: item["espectadores"] for item in answer.json()["itens"]}


def wait_for_counts(api: httpx.Client, expected: dict[int, int], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    seen: dict[int, int] = {}
    while time.monotonic() < deadline:
        seen = trending(api)
        if {title: seen.get(title, 0) for title in expected} == expected:
            return
        time.sleep(0.2)
    raise AssertionError(f"trending {seen} never reached {expected}")


def recount(users: list[int], titles: list[int]) -> dict[int, int]:
    """Distinct viewers per title in the current 1h window, counted from PostgreSQL."""
    start = HOUR.start(time.time())
    rows = pg_rows(
        "SELECT conteudo_id, count(*) FROM visualizacoes"
        " WHERE user_id = ANY(%s) AND conteudo_id = ANY(%s)"
        " AND ultimo_acesso >= to_timestamp(%s) GROUP BY conteudo_id",
        [users, titles, start],
    )
    return {int(title): int(viewers) for title, viewers in rows}


def test_each_viewer_counts_once_per_title_and_lists_break_down_by_tipo(
    trending_worker: Worker,
) -> None:
    with trending_worker.client() as api:
        ana, bia, caio = (create_user(api) for _ in range(3))
        film, other = 9100, 9101
        sent = [heartbeat(api, ana, film, 10 * n, n) for n in range(1, 4)]
        sent += [heartbeat(api, bia, film, 10, 1), heartbeat(api, bia, other, 10, 1)]
        sent += [heartbeat(api, caio, other, 10, 1)]
        for cid in sent:
            assert wait_for_final_status(api, cid)["status"] == "success"

        wait_for_counts(api, {film: 2, other: 2})
        kind = api.get(f"/conteudos/{film}").json()["tipo"]
        assert film in trending(api, tipo=kind)
        assert api.get("/em-alta", params={"janela": "2h"}).status_code == 422


def test_a_crash_and_redelivered_viewings_count_no_viewer_twice(trending_worker: Worker) -> None:
    titles, other_titles = list(range(9200, 9205)), list(range(9205, 9210))
    topic = trending_worker.topic("viewing_events")
    with trending_worker.client() as api:
        users = [create_user(api) for _ in range(6)]
    first = _viewings(users, titles, rounds=(1, 2))
    run(produce(topic, first))
    trending_worker.stop(signal.SIGKILL)  # mid-stream: outcomes, counts, checkpoints cut short
    trending_worker.start()
    with trending_worker.client() as api:
        for _, value in first:
            wait_for_final_status(api, orjson.loads(value)["correlation_id"], timeout=60)
        wait_for_counts(api, recount(users, titles), timeout=60)  # counts rebuilt after the crash
    # Every earlier viewing delivered again (replays only: the new ones are of other titles).
    later = _viewings(users, other_titles, rounds=(3,))
    run(produce(topic, first + later))
    with trending_worker.client() as api:
        for _, value in first + later:
            cid = orjson.loads(value)["correlation_id"]
            assert wait_for_final_status(api, cid, timeout=60)["status"] == "success"
        expected = recount(users, titles + other_titles)
        assert sum(expected.values()) > len(titles)
        wait_for_counts(api, expected, timeout=60)


def _viewings(
    users: list[int], titles: list[int], rounds: tuple[int, ...]
) -> list[tuple[bytes, bytes]]:
    """Heartbeats of a few users on a few titles (not every user watches every title)."""
    ids = CorrelationIds(get_settings().correlation_secret)
    records = []
    for n in rounds:
        for i, user in enumerate(users):
            for title in titles[i % 3 : i % 3 + 3]:
                event = ViewingRecorded(
                    correlation_id=ids.issue(ADMIN),
                    user_id=user,
                    conteudo_id=title,
                    tempo_assistido=30 * n,
                    posicao=Decimal(10 * n),
                    requested_by=ADMIN,
                )
                records.append((str(user).encode(), encode_event(event)))
    return records
