"""A minimal Faust worker for showing what Faust itself does with records around recovery.

``faust -A tests.support.faust_probe worker`` runs one plain Faust agent on a
topic of the test's own: it writes each record into a table (so the worker
goes through table recovery, where the flow control is resumed more than
once) and remembers every offset it was handed; ``GET /seen`` lists them.

Environment: ``PROBE_APP_ID``, ``PROBE_SOURCE`` (topic), ``PROBE_PARTITIONS``,
``PROBE_DIR`` (data dir), ``PROBE_HANDLE_MS`` (time the agent spends on each
record, so records wait in its queue), ``PROBE_SEEK_DELAY_S`` (the event
loop is held this long after recovery's seek, as a loaded worker's loop
is, so the fetcher delivers records before the flow control is resumed
again), and ``PROBE_FIXED`` (1: the platform's app class with its fixes,
:class:`app.guard.faust_fixes.PlatformApp`; otherwise plain ``faust.App``).
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict

import faust
from faust.transport.consumer import Consumer
from faust.types import StreamT
from faust.web import Request, Response, View

from app.guard.faust_fixes import PlatformApp

PARTITIONS = int(os.environ.get("PROBE_PARTITIONS", "2"))
HANDLE_S = float(os.environ.get("PROBE_HANDLE_MS", "5")) / 1000
SEEK_DELAY_S = float(os.environ.get("PROBE_SEEK_DELAY_S", "0"))

app_class = PlatformApp if os.environ.get("PROBE_FIXED") == "1" else faust.App
app = app_class(
    os.environ["PROBE_APP_ID"],
    broker=f"kafka://{os.environ.get('KAFKA_BOOTSTRAP_SERVERS', '127.0.0.1:9092')}",
    store="memory://",
    datadir=os.environ["PROBE_DIR"],
    topic_partitions=PARTITIONS,
    consumer_auto_offset_reset="earliest",
    stream_recovery_delay=0.1,
    web_tables_enabled=False,
)
source = app.topic(
    os.environ["PROBE_SOURCE"],
    key_type=bytes,
    value_type=bytes,
    key_serializer="raw",
    value_serializer="raw",
    partitions=PARTITIONS,
)
copies = app.Table("probe_copies", key_type=bytes, partitions=PARTITIONS)
seen: dict[int, set[int]] = defaultdict(set)


@app.agent(source)
async def copy_records(stream: StreamT[bytes]) -> None:
    """Consumes the source; produces its table and the offsets it was handed."""
    async for event in stream.events():
        seen[event.message.partition].add(event.message.offset)
        copies[event.key] = event.message.offset
        await asyncio.sleep(HANDLE_S)


def _hold_the_loop_after_seeking() -> None:
    """Make recovery's seek slow to come back, as on a loaded worker (see the module)."""
    original = Consumer.perform_seek

    async def perform_seek(self: Consumer) -> None:
        await original(self)
        await asyncio.sleep(SEEK_DELAY_S)

    Consumer.perform_seek = perform_seek  # type: ignore[method-assign]


if SEEK_DELAY_S:
    _hold_the_loop_after_seeking()


@app.page("/seen")
class SeenView(View):
    """The offsets the agent was handed, per partition."""

    async def get(self, request: Request) -> Response:
        """Produces ``{"seen": {partition: [offset, ...]}, "rebalancing": bool}``."""
        body = {"seen": {p: sorted(o) for p, o in seen.items()}, "rebalancing": app.rebalancing}
        return self.json(body)
