"""A batch waits for its own table changelog entries, not for the producer to go idle.

A table write leaves through Faust's producer buffer: ``table[key] = value``
queues a changelog entry and returns a future that Kafka's acknowledgement
resolves. Before a checkpoint moves, the entries its batch wrote must be in
Kafka. ``app.producer.flush()`` was the way to say so, and it has two faults:

* it waits until the buffer is *empty*, including every entry other agents
  queue meanwhile; at 200 requests/s the buffer never empties for long, and
  batches outlived their 30-s deadline inside it (``docs/chaos.md``);
* it returns as soon as no entry left the buffer for 0.1 s, even when some are
  still queued (``ProducerBuffer.flush_atmost``), so a producer stalled longer
  than that let a checkpoint pass entries not yet written.

:class:`ReceiptTable` (the app's table class, ``Table=`` in
:func:`app.application.create_app`) hands each entry's future to the batch that
wrote it; :func:`collecting_receipts` opens a batch's collection and
:func:`receipts_in_kafka` waits for exactly those futures. A write outside a
collection (none is open) is left as Faust leaves it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import faust
from faust.types import FutureMessage

#: The futures of the changelog entries written in the current batch (None: no batch).
#: A context variable: tasks a handler starts inherit the same list.
_receipts: ContextVar[list[FutureMessage] | None] = ContextVar("changelog_receipts", default=None)


class ReceiptTable(faust.Table):
    """``faust.Table`` whose changelog entries are collected by the batch that wrote them."""

    def send_changelog(self, *args: Any, **kwargs: Any) -> FutureMessage:
        """Queue the entry as Faust does, and keep its future for the open collection."""
        sent: FutureMessage = super().send_changelog(*args, **kwargs)
        receipts = _receipts.get()
        if receipts is not None:
            receipts.append(sent)
        return sent


@contextmanager
def collecting_receipts() -> Iterator[list[FutureMessage]]:
    """Collect the changelog entries written inside the block (and by tasks it starts)."""
    receipts: list[FutureMessage] = []
    token = _receipts.set(receipts)
    try:
        yield receipts
    finally:
        _receipts.reset(token)


async def receipts_in_kafka() -> None:
    """Return once every entry collected so far is acknowledged by Kafka.

    A failed send raises its error here (the guard then tries the batch again).
    Outside a collection there is nothing to wait for.
    """
    receipts = _receipts.get()
    if receipts:
        pending = list(receipts)
        await asyncio.gather(*pending)
        del receipts[: len(pending)]
