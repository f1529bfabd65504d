"""The load engine's timetable: each item in order, none before its turn."""

from __future__ import annotations

import asyncio

import pytest

from demo.loadgen.engine import on_timetable


async def test_items_come_in_order_each_no_sooner_than_its_turn() -> None:
    loop = asyncio.get_running_loop()
    began = loop.time()
    seen = [(item, loop.time() - began, due) async for item, due in on_timetable("abcde", 100.0)]
    assert [item for item, _, _ in seen] == list("abcde")
    for n, (_, at, due) in enumerate(seen):
        assert at >= n / 100.0 - 0.001
        assert due - seen[0][2] == pytest.approx(n / 100.0)


async def test_without_a_rate_every_item_comes_at_once_in_order() -> None:
    assert [item async for item, _ in on_timetable(range(1000), None)] == list(range(1000))
