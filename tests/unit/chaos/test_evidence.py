"""How the audit reads statuses: every one, at most 32 at a time, paced when asked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from chaos.evidence import Target, fetch_statuses


class StatusServer:
    """A stand-in status API: ``success`` for every id, each answer held ``hold_s``."""

    def __init__(self, hold_s: float) -> None:
        self.hold_s = hold_s
        self.in_flight = 0
        self.most_in_flight = 0
        self.arrivals: list[float] = []

    async def status(self, request: web.Request) -> web.Response:
        self.arrivals.append(asyncio.get_running_loop().time())
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(self.hold_s)
        self.in_flight -= 1
        cid = request.match_info["cid"]
        return web.json_response({"correlation_id": cid, "status": "success"})


async def _serve(api: StatusServer) -> AsyncIterator[Target]:
    app = web.Application()
    app.router.add_get("/status/{cid}", api.status)
    async with TestServer(app, host="127.0.0.1") as server:
        yield Target("t-", str(server.make_url("/")), "key", ())


@pytest.fixture
async def held() -> AsyncIterator[tuple[StatusServer, Target]]:
    api = StatusServer(hold_s=0.01)
    async for target in _serve(api):
        yield api, target


async def test_every_status_is_read_and_at_most_32_at_a_time(
    held: tuple[StatusServer, Target],
) -> None:
    api, target = held
    ids = [f"id-{n}" for n in range(100)]
    known: dict[str, str] = {}
    await fetch_statuses(target, ids, known)
    assert known == {cid: "success" for cid in ids}
    assert 1 < api.most_in_flight <= 32


async def test_paced_reads_start_no_faster_than_asked(held: tuple[StatusServer, Target]) -> None:
    api, target = held
    ids = [f"id-{n}" for n in range(20)]
    known: dict[str, str] = {}
    await fetch_statuses(target, ids, known, reads_per_s=200.0)
    assert known == {cid: "success" for cid in ids}
    # The 20th read may start no sooner than 19 / 200 s after the first.
    assert api.arrivals[-1] - api.arrivals[0] >= 19 / 200.0 - 0.005


async def test_final_statuses_already_known_are_not_read_again(
    held: tuple[StatusServer, Target],
) -> None:
    api, target = held
    known = {"a": "success", "b": "pendente"}
    await fetch_statuses(target, ["a", "b"], known)
    assert len(api.arrivals) == 1
    assert known == {"a": "success", "b": "success"}
