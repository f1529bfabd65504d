"""The Faust app class of the platform: faust.App with one fix, and rebalance hooks.

**The fix: a resume clears only what a suspension left.** Faust's flow
control (``mode.utils.queues.FlowControlEvent``) empties every queue marked
``clear_on_resume`` each time ``resume()`` is called. A rebalance suspends
flow once but resumes it several times while its tables recover (on
recovery start, when standby partitions start, again when recovery
completes; ``faust/tables/recovery.py``), with the consumer's fetcher running
in between. What the fetcher delivered between two of those resumes is then
thrown away although the consumer's position has moved past it:

* table changelog entries waiting in the table manager's queue: a standby
  copy skips one and persists an offset beyond the hole (a survivor once
  lacked one status of 2,000 after its partner died, chaos scenario 5);
* records in an agent's input queue (after a stream partition's seek): the
  stream never sees them, and Faust's commit stops at the hole.

Revocation already clears those queues (``App._on_partitions_revoked``), and a
record of an older generation is recognised by its generation id, so a
resume that follows no suspension has nothing stale to drop. Here such a
resume drops nothing. ``docs/faust-upstream.md`` is the note for upstream.

**The hooks.** Agents that write tables read their topics with consumers of
their own (:mod:`app.guard.guarded`), and must stop before a rebalance moves a
table partition and start again once Faust has recovered its tables.
:class:`RebalanceListener` objects registered on the app are told both.
"""

from __future__ import annotations

from typing import Any, Protocol

import faust
from mode.utils.objects import cached_property
from mode.utils.queues import FlowControlEvent


class ResumingFlowControl(FlowControlEvent):
    """Flow control whose ``resume`` clears the queues only when flow was suspended."""

    def resume(self) -> None:
        """Resume production into the queues; drop what they hold only after a suspension."""
        was_suspended = not self.is_active()
        self._suspend.clear()
        self._resume.set()
        if was_suspended:
            self.clear()


class RebalanceListener(Protocol):
    """Told when the group starts moving partitions and when this worker's tables are ready."""

    def rebalance_started(self) -> None:
        """A rebalance began: no table partition of this worker is certain any more."""

    def rebalance_ended(self) -> None:
        """The assignment settled and Faust recovered this worker's active tables."""

    async def stopping(self) -> None:
        """The worker stops: finish with the tables before Faust closes them."""


class PlatformApp(faust.App):
    """``faust.App`` with :class:`ResumingFlowControl` and :class:`RebalanceListener` hooks."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rebalance_listeners: list[RebalanceListener] = []

    @cached_property
    def flow_control(self) -> FlowControlEvent:
        """Flow control of the streams and the tables' changelog queue (see the module)."""
        return ResumingFlowControl(loop=self.loop)

    def on_rebalance_start(self) -> None:
        """Faust calls this first thing when the group rebalances."""
        super().on_rebalance_start()
        for listener in self.rebalance_listeners:
            listener.rebalance_started()

    async def on_stop(self) -> None:
        """Listeners finish with the tables first; then Faust stops its consumer and tables."""
        for listener in self.rebalance_listeners:
            await listener.stopping()
        await super().on_stop()

    def on_rebalance_end(self) -> None:
        """Faust calls this once recovery completed ("Worker ready")."""
        super().on_rebalance_end()
        for listener in self.rebalance_listeners:
            listener.rebalance_ended()
