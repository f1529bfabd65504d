"""app.guard.faust_fixes: a resume drops queued records only when flow was suspended."""

from __future__ import annotations

from mode.utils.queues import FlowControlEvent, FlowControlQueue

from app.guard.faust_fixes import ResumingFlowControl


def queue_of(flow: FlowControlEvent) -> FlowControlQueue[int]:
    return FlowControlQueue(flow_control=flow, clear_on_resume=True)


def test_a_resume_without_a_suspension_keeps_what_the_queues_hold() -> None:
    flow = ResumingFlowControl()
    flow.resume()  # recovery starts
    queue = queue_of(flow)
    queue.put_nowait(41)  # fetched while the tables recover
    flow.resume()  # recovery completes
    assert queue.qsize() == 1


def test_a_resume_after_a_suspension_clears_what_was_left_from_before() -> None:
    flow = ResumingFlowControl()
    flow.resume()
    queue = queue_of(flow)
    queue.put_nowait(41)
    flow.suspend()  # a rebalance: what is queued belongs to the old assignment
    flow.resume()
    assert queue.qsize() == 0 and flow.is_active()


def test_faust_own_flow_control_drops_them_on_every_resume() -> None:
    flow = FlowControlEvent(initially_suspended=False)
    queue = queue_of(flow)
    queue.put_nowait(41)
    flow.resume()
    assert queue.qsize() == 0  # the upstream behaviour the fix corrects
