"""web.routing: which answer a routed table read gets, with Faust's router and assignor faked."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from faust.exceptions import SameNode
from faust.types import TP

from app.application import platform
from tables.status_table import statuses
from web.routing import TableRoute, Unrouted

app = platform().app

UNROUTED = Unrouted(recovering="recovering", no_owner_yet="no owner yet", owner_down="owner down")
CHANGELOG = statuses.changelog_topic.get_topic_name()


class Replies:
    """The owner's and the copy's answers, recording which one was asked, and why."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def owner(self) -> web.Response:
        self.asked.append("owner")
        return web.Response(text="owner")

    async def copy(self, why: str) -> web.Response:
        self.asked.append(f"copy: {why}")
        return web.Response(text="copy")


@pytest.fixture
def route() -> Iterator[TableRoute]:
    # Faust's app keeps every task it was given: this one must not outlive the test.
    tasks = list(app._app_tasks)  # type: ignore[attr-defined]
    yield TableRoute(statuses, UNROUTED)
    app._app_tasks[:] = tasks  # type: ignore[attr-defined]


def router_raising(monkeypatch: pytest.MonkeyPatch, exc: Exception | None) -> None:
    async def route_req(*_: Any) -> web.Response:
        if exc is not None:
            raise exc
        return web.Response(text="forwarded")

    monkeypatch.setattr(app.router, "route_req", route_req)


def states(monkeypatch: pytest.MonkeyPatch, *, rebalancing: bool = False) -> None:
    monkeypatch.setattr(app, "rebalancing", rebalancing)
    monkeypatch.setattr(app, "in_recovery", False)


@pytest.mark.parametrize(
    ("exc", "rebalancing", "asked"),
    [
        (None, False, []),
        (SameNode(), False, ["owner"]),
        (SameNode(), True, ["copy: recovering"]),
        (TypeError("no metadata"), False, ["copy: no owner yet"]),
        (aiohttp.ClientConnectionError(), False, ["copy: owner down"]),
    ],
    ids=["another owner", "this worker", "rebalancing", "no metadata", "owner dead"],
)
async def test_a_read_goes_to_the_owner_else_to_the_copy_saying_why(
    route: TableRoute,
    monkeypatch: pytest.MonkeyPatch,
    exc: Exception | None,
    rebalancing: bool,
    asked: list[str],
) -> None:
    router_raising(monkeypatch, exc)
    states(monkeypatch, rebalancing=rebalancing)
    replies = Replies()
    view = SimpleNamespace(web=None)

    answer = await route.answer(b"key", view, object(), replies.owner, replies.copy)  # type: ignore[arg-type]

    assert replies.asked == asked
    assert answer.text == ("forwarded" if exc is None else asked[0].partition(":")[0])


@pytest.mark.parametrize(
    ("actives", "standbys", "rebalancing", "held"),
    [
        ({TP(CHANGELOG, 3)}, set(), False, True),
        (set(), {TP(CHANGELOG, 3)}, False, True),
        ({TP(CHANGELOG, 2)}, {TP("other-changelog", 3)}, False, False),
        ({TP(CHANGELOG, 3)}, set(), True, False),
    ],
    ids=["owner", "standby", "neither", "rebalancing"],
)
def test_a_copy_is_vouched_for_only_as_owner_or_standby_outside_rebalances(
    route: TableRoute,
    monkeypatch: pytest.MonkeyPatch,
    actives: set[TP],
    standbys: set[TP],
    rebalancing: bool,
    held: bool,
) -> None:
    states(monkeypatch, rebalancing=rebalancing)
    monkeypatch.setattr(app.producer, "key_partition", lambda topic, key: TP(topic, 3))
    monkeypatch.setattr(app.assignor, "assigned_actives", lambda: actives)
    monkeypatch.setattr(app.assignor, "assigned_standbys", lambda: standbys)

    assert route.holds_copy(b"key") is held


def test_without_partition_metadata_no_copy_is_vouched_for(
    route: TableRoute, monkeypatch: pytest.MonkeyPatch
) -> None:
    states(monkeypatch)

    def unknown(topic: str, key: bytes) -> TP:
        raise TypeError("no metadata for the topic")

    monkeypatch.setattr(app.producer, "key_partition", unknown)

    assert route.holds_copy(b"key") is False
