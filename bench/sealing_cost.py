"""The CPU a sign-up's sealing adds: its event sealed at the API, opened by the agent.

A sign-up's personal fields travel sealed with their person's key
(:mod:`app.sealing`). This measures, in the bench's own process, the CPU time
of encoding ``--sealing-n`` demo sign-ups in clear and sealed
(:func:`app.requests.envelope.encode_event`, ``encode_sealed_event``), and of
decoding each form as the accounts agent does
(:func:`app.accounts.sealed_events.decode_sealed_user_event`). The figure is
the difference per sign-up, both sides together. The key's PostgreSQL round
trips (one at the API, one per agent batch) are not in it: the bench's
pipeline phases pay those.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from app.accounts.commands import UserCreated
from app.accounts.sealed_events import decode_sealed_user_event
from app.requests.envelope import encode_event, encode_sealed_event
from app.sealing import new_key
from demo.people import demo_user
from harness.workers import correlation_ids


def _cpu_us_each(work: Callable[[int], object], count: int) -> float:
    """Process CPU µs per call of ``work(i)`` over ``count`` calls."""
    began = time.process_time()
    for number in range(count):
        work(number)
    return (time.process_time() - began) * 1e6 / count


def sealing_us_per_signup(count: int = 2000) -> dict[str, float]:
    """µs of CPU sealing adds to one sign-up: encoding at the API plus decoding at the agent."""
    events = [
        UserCreated(
            correlation_id=correlation_ids.issue("bench"),
            user_id=number + 1,
            **demo_user().model_dump(),
        )
        for number in range(count)
    ]
    keys = {event.user_id: new_key() for event in events}
    clear = [encode_event(event) for event in events]
    sealed = [encode_sealed_event(event, keys[event.user_id]) for event in events]
    encode_clear = _cpu_us_each(lambda i: encode_event(events[i]), count)
    encode_sealed = _cpu_us_each(
        lambda i: encode_sealed_event(events[i], keys[events[i].user_id]), count
    )
    decode_clear = _cpu_us_each(lambda i: decode_sealed_user_event(clear[i], keys), count)
    decode_sealed = _cpu_us_each(lambda i: decode_sealed_user_event(sealed[i], keys), count)
    return {
        "sealing_api_us": encode_sealed - encode_clear,
        "sealing_agent_us": decode_sealed - decode_clear,
        "sealing_us_per_signup": encode_sealed - encode_clear + decode_sealed - decode_clear,
    }
