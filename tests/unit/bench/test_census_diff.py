"""Comparing two censuses: growth by type and by holder, the largest first."""

from __future__ import annotations

from app.telemetry.object_census import Census, Container
from bench.census_diff import Growth, container_growth, type_growth


def test_types_are_ranked_by_growth_and_a_type_new_in_the_later_census_counts_from_zero() -> None:
    earlier = Census(blocks=10, objects=3, types={"a.Link": 100, "a.Task": 50})
    later = Census(blocks=20, objects=4, types={"a.Link": 700, "a.Task": 40, "a.Request": 90})
    assert type_growth(earlier, later) == [
        Growth("a.Link", 100, 700),
        Growth("a.Request", 0, 90),
        Growth("a.Task", 50, 40),
    ]


def test_containers_alike_are_summed_per_holder_and_one_gone_counts_zero() -> None:
    earlier = Census(
        1,
        1,
        {},
        [Container("builtins.dict", 400, "m.cache"), Container("builtins.list", 500, "m.queue")],
    )
    later = Census(
        1,
        1,
        {},
        [
            Container("builtins.dict", 900, "m.cache"),
            Container("builtins.list", 300, "?"),
            Container("builtins.list", 350, "?"),
        ],
    )
    assert container_growth(earlier, later) == [
        Growth("? (builtins.list)", 0, 650),
        Growth("m.cache (builtins.dict)", 400, 900),
        Growth("m.queue (builtins.list)", 500, 0),
    ]
