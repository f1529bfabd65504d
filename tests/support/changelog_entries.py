"""A stand-in for the future Faust's changelog topic returns for a table write (no broker)."""

from __future__ import annotations

import asyncio


class SentEntry(asyncio.Future[None]):
    """A changelog entry's future, shaped as Faust's ``FutureMessage`` (``.message.partition``);
    the test acknowledges it (``set_result``) or fails it (``set_exception``)."""

    def __init__(self, partition: int | None) -> None:
        super().__init__()
        self.message = self
        self.partition = partition
