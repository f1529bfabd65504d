"""Retrying a failing operation until it succeeds, with exponential backoff and jitter.

The one retry loop of the system (on tenacity): an agent waits out an outage of
PostgreSQL, Kafka or the disk instead of moving on past its input; the services
connect in the background the same way. Only the errors named as transient are
retried; any other error is raised at once, for the caller to decide.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    wait_exponential_jitter,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
#: Error types worth waiting out.
Transient = tuple[type[BaseException], ...]

#: The first wait; each next one doubles, up to the ceiling.
FIRST_WAIT_S = 0.1
#: Random extra wait, so that several workers do not hammer a recovering service in step.
JITTER_S = 0.1


async def retrying(
    operation: Callable[[], Awaitable[T]],
    *,
    on: Transient,
    what: str,
    ceiling_s: float = 5.0,
) -> T:
    """``operation()``, called again after each transient error until it succeeds.

    ``what`` names the work in the warning logged before each wait.
    """
    retry = AsyncRetrying(
        retry=retry_if_exception_type(on),
        wait=wait_exponential_jitter(multiplier=FIRST_WAIT_S, max=ceiling_s, jitter=JITTER_S),
        before_sleep=_warn(what),
        reraise=True,
    )

    # A coroutine function, so tenacity awaits each attempt (a lambda returning
    # a coroutine would look synchronous to it).
    async def attempt() -> T:
        return await operation()

    return await retry(attempt)


def _warn(what: str) -> Callable[[RetryCallState], None]:
    def warn(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning("%s failed (%r); retrying in %.1f s", what, error, wait)

    return warn
