"""Reading a table on the worker that owns the key, from whichever worker was asked.

Faust's ``table_route`` forwards a request (headers included, so the owner
authenticates it again) to the worker owning the key's table partition, and
answers locally when that is this worker. While no owner is known yet, or the
owner does not answer (it died and the group has not noticed yet), the view's
``from_copy`` may still answer from this worker's own copy of the table (a
standby replica, or partitions it owned before); otherwise it is a 503.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web
from faust.exceptions import SameNode
from faust.types import CollectionT
from faust.web import Request, Response, View

from app.application import app

#: An answer from this worker's copy when the owner cannot answer, given why.
CopyRead = Callable[[str], Awaitable[web.Response]]


async def read_on_owner(
    table: CollectionT,
    key: str,
    view: View,
    request: Request,
    owner_read: Callable[[], Awaitable[web.Response]],
    copy_read: CopyRead,
) -> Response | web.Response:
    """The owner's answer for ``key`` (``owner_read`` when this worker owns it)."""
    try:
        return await app.router.route_req(table.name, key, view.web, request)
    except SameNode:
        return await owner_read()
    except TypeError:  # aiokafka has no partition metadata for the changelog yet
        return await copy_read("Ainda não disponível neste worker")
    except aiohttp.ClientError:  # the owner died; the group has not noticed yet
        return await copy_read("Worker dono destes dados indisponível")
