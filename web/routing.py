"""Reads of a table answered by the worker that owns the key's partition.

A table partition lives on one worker (its owner) and, as standby copies, on
others. A read is forwarded to the owner, headers included so that the owner
authenticates it again, as Faust's ``table_route`` does; the owner answers
from its part of the table. When the owner cannot answer (its table is
recovering, no owner is known yet, or it died and the group has not noticed
yet) the table's own rule decides whether a local copy may answer instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from faust.exceptions import SameNode
from faust.types import TP, CollectionT
from faust.web import Request, Response, View

from app.application import platform
from app.kafka.publishing import kafka_producer

services = platform()

#: The owner's answer.
OwnerAnswer = Callable[[], Awaitable[web.Response]]
#: The answer without the owner, given why the owner could not answer.
CopyAnswer = Callable[[str], Awaitable[web.Response]]


@dataclass(frozen=True)
class Unrouted:
    """Why the owner could not answer, in the words of one table's clients."""

    recovering: str
    no_owner_yet: str
    owner_down: str


class TableRoute:
    """Routes reads of ``table`` by key to the key's owner; registers the metadata lookup."""

    def __init__(self, table: CollectionT, unrouted: Unrouted) -> None:
        self.table = table
        self.unrouted = unrouted
        services.app.task(self.learn_partitions)

    async def answer(
        self, key: bytes, view: View, request: Request, owner: OwnerAnswer, copy: CopyAnswer
    ) -> Response | web.Response:
        """The owner's answer for ``key`` (``owner`` when it is this worker), else ``copy``'s."""
        try:
            return await services.app.router.route_req(self.table.name, key, view.web, request)
        except SameNode:
            if services.app.rebalancing or services.app.in_recovery:
                return await copy(self.unrouted.recovering)
            return await owner()
        except TypeError:  # aiokafka has no partition metadata for the changelog yet
            return await copy(self.unrouted.no_owner_yet)
        except aiohttp.ClientError:  # the owner died; the group has not noticed yet
            return await copy(self.unrouted.owner_down)

    def holds_copy(self, key: bytes) -> bool:
        """Whether this worker keeps ``key``'s partition up to date (as owner or standby).

        Never while rebalancing or recovering: a copy may then be incomplete.
        """
        if services.app.rebalancing or services.app.in_recovery:
            return False
        try:
            partition = services.app.producer.key_partition(self._changelog, key).partition
        except TypeError:  # no partition metadata yet: nothing can be vouched for
            return False
        assignor = services.app.assignor
        held = assignor.assigned_actives() | assignor.assigned_standbys()
        return TP(self._changelog, partition) in held

    async def learn_partitions(self) -> None:
        """Fetch the changelog's partition metadata once the worker is up.

        Faust's router hashes a key with the producer's metadata, which only
        knows topics it has produced to; without this a fresh worker could not
        route a read until it had written to the table itself.
        """
        await kafka_producer(services.app).partitions_for(self._changelog)

    @property
    def _changelog(self) -> str:
        return self.table.changelog_topic.get_topic_name()
