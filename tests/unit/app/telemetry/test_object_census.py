"""A census finds large containers and names the global that holds each."""

from __future__ import annotations

import asyncio
import sys
import types
from collections.abc import Iterator

import pytest

from app.telemetry.object_census import MIN_ENTRIES, Census, take_census

MODULE = "census_fixture_module"


class Holder:
    def __init__(self) -> None:
        # numbers to strings: a dict the garbage collector does not track
        self.plain_entries = {n: str(n) for n in range(MIN_ENTRIES * 400)}
        self.objects = [Holder.__new__(Holder) for _ in range(MIN_ENTRIES * 300)]


class Slotted:
    __slots__ = ("rows",)

    def __init__(self) -> None:
        self.rows = [object() for _ in range(MIN_ENTRIES * 200)]


@pytest.fixture
def module() -> Iterator[types.ModuleType]:
    fixture = types.ModuleType(MODULE)
    sys.modules[MODULE] = fixture
    try:
        yield fixture
    finally:
        del sys.modules[MODULE]


def _holders(census: Census) -> dict[str, int]:
    return {c.holder: c.entries for c in census.containers}


def test_each_large_container_is_listed_with_the_global_path_that_holds_it(
    module: types.ModuleType,
) -> None:
    module.holder = Holder()
    module.slotted = Slotted()
    holders = _holders(take_census(largest=5))
    assert holders[f"{MODULE}.holder.plain_entries"] == MIN_ENTRIES * 400
    assert holders[f"{MODULE}.holder.objects"] == MIN_ENTRIES * 300
    assert holders[f"{MODULE}.slotted.rows"] == MIN_ENTRIES * 200


def test_a_container_in_a_suspended_coroutines_locals_is_named_by_the_coroutine() -> None:
    async def hoarding(release: asyncio.Event) -> None:
        hoard = {n: object() for n in range(MIN_ENTRIES * 500)}
        await release.wait()
        assert hoard

    async def main() -> dict[str, int]:
        release = asyncio.Event()
        task = asyncio.create_task(hoarding(release))
        await asyncio.sleep(0)  # suspended in release.wait(), its hoard alive
        holders = _holders(take_census(largest=3))
        release.set()
        await task
        return holders

    holders = asyncio.run(main())
    qualname = "test_a_container_in_a_suspended_coroutines_locals_is_named_by_the_coroutine"
    assert holders[f"<coroutine {qualname}.<locals>.hoarding>.hoard"] == MIN_ENTRIES * 500


def test_small_containers_are_left_out(module: types.ModuleType) -> None:
    module.small = {n: object() for n in range(MIN_ENTRIES - 1)}
    assert f"{MODULE}.small" not in _holders(take_census())


def test_objects_are_counted_by_type(module: types.ModuleType) -> None:
    module.many = [Holder.__new__(Holder) for _ in range(5000)]
    census = take_census(largest=0)
    assert census.types[f"{__name__}.Holder"] >= 5000
    assert census.objects >= 5000 and census.blocks > 0


def test_a_census_reads_back_from_its_json(module: types.ModuleType) -> None:
    module.holder = Holder()
    census = take_census(largest=3)
    assert census.containers
    assert Census.from_json(census.as_json()) == census
