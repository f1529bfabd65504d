"""app.retry: transient errors are waited out, any other error is raised at once."""

from __future__ import annotations

import pytest

from app.retry import retrying


class Flaky:
    """Fails with ``error`` ``times`` times, then answers ``done``."""

    def __init__(self, error: Exception, times: int) -> None:
        self.error = error
        self.times = times
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.times:
            raise self.error
        return "done"


async def test_a_transient_error_is_retried_until_the_operation_succeeds() -> None:
    flaky = Flaky(ConnectionError("refused"), times=2)
    assert await retrying(flaky, on=(ConnectionError,), what="test") == "done"
    assert flaky.calls == 3


async def test_an_error_not_named_transient_is_raised_at_once() -> None:
    flaky = Flaky(ValueError("bad data"), times=1)
    with pytest.raises(ValueError):
        await retrying(flaky, on=(ConnectionError,), what="test")
    assert flaky.calls == 1
