"""HTTP load against the API: closed loop (fixed concurrency) and open loop (fixed rate).

The open loop schedules request ``i`` at ``start + i / rate`` whatever the
server does, and measures each latency from that *scheduled* instant: when the
server (or the client) falls behind, the queueing shows in the latency instead
of silently lowering the offered rate (no coordinated omission).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, Self, TextIO, TypeVar

import aiohttp
import orjson

from app.telemetry.percentiles import nearest_rank
from demo.loadgen.traffic import Request

T = TypeVar("T")

#: Status recorded for a request that got no HTTP answer (refused, reset, timed out).
NO_ANSWER = 0
#: Connections the client keeps open at most; beyond it requests queue (and it shows).
MAX_CONNECTIONS = 512
REQUEST_TIMEOUT_S = 30.0


class TrafficSource(Protocol):
    """What the loops send: the next request, and the users whose sign-up was accepted."""

    def next_request(self) -> Request:
        """The request to send next."""
        ...

    def user_accepted(self, user_id: int) -> None:
        """A sign-up of ``user_id`` answered 202."""
        ...


@dataclass
class LoadResult:
    """What one load run sent and got back."""

    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    #: (correlation id, scheduled instant on the event-loop clock) of every 202.
    accepted_ids: list[tuple[str, float]] = field(default_factory=list)
    #: When each of ``accepted_ids`` was answered (event-loop clock), in the same order.
    answered_at: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def accepted(self) -> int:
        """Requests answered 202 Accepted."""
        return self.statuses[202]

    @property
    def errors(self) -> dict[int, int]:
        """Count of every answer but 202, by status code (0: no answer)."""
        return {code: n for code, n in sorted(self.statuses.items()) if code != 202}


class ApiClient:
    """POSTs :class:`Request`s to one API base URL, with the API key header when given."""

    def __init__(self, url: str, api_key: str | None) -> None:
        headers = {"content-type": "application/json"}
        if api_key:
            headers["X-API-Key"] = api_key
        self._url = url.rstrip("/")
        self._session = aiohttp.ClientSession(
            headers=headers,
            connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS),
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._session.close()

    async def post(self, request: Request) -> tuple[int, dict[str, Any] | None]:
        """The status and JSON body of the answer; ``NO_ANSWER`` on a transport error."""
        try:
            async with self._session.post(self._url + request.path, data=request.body) as answer:
                body = await answer.read()
        except (aiohttp.ClientError, TimeoutError):
            return NO_ANSWER, None
        try:
            return answer.status, orjson.loads(body)
        except orjson.JSONDecodeError:
            return answer.status, None


async def _send(
    client: ApiClient,
    traffic: TrafficSource,
    result: LoadResult,
    since: float,
) -> None:
    request = traffic.next_request()
    result.sent += 1
    status, body = await client.post(request)
    result.latencies_ms.append((_now() - since) * 1000)
    result.statuses[status] += 1
    if status != 202 or body is None:
        return
    result.accepted_ids.append((body["correlation_id"], since))
    result.answered_at.append(_now())
    if request.kind == "usuarios":
        traffic.user_accepted(int(body["usuario"]["user_id"]))


def _now() -> float:
    return asyncio.get_running_loop().time()


async def on_timetable(items: Iterable[T], per_s: float | None) -> AsyncIterator[tuple[T, float]]:
    """Each of ``items`` with its scheduled instant (the event loop's clock), once it is due.

    The n-th is due n / ``per_s`` seconds after the first (``None``: each at once), on a
    fixed timetable: a late one does not push back those after it.
    """
    start = _now()
    for n, item in enumerate(items):
        due = _now() if per_s is None else start + n / per_s
        if (delay := due - _now()) > 0:
            await asyncio.sleep(delay)
        yield item, due


async def closed_loop(
    client: ApiClient, traffic: TrafficSource, concurrency: int, duration_s: float
) -> LoadResult:
    """``concurrency`` requests always in flight for ``duration_s``; latency per request."""
    result = LoadResult()
    start = _now()
    deadline = start + duration_s

    async def one_caller() -> None:
        while _now() < deadline:
            await _send(client, traffic, result, _now())

    await asyncio.gather(*(one_caller() for _ in range(concurrency)))
    result.elapsed_s = _now() - start
    return result


async def open_loop(
    client: ApiClient,
    traffic: TrafficSource,
    rate: float,
    duration_s: float,
    progress: TextIO | None = None,
) -> LoadResult:
    """``rate`` requests per second on a fixed timetable for ``duration_s``.

    Latency is measured from each request's scheduled instant; a progress bar
    goes to ``progress`` when given.
    """
    result = LoadResult()
    total = max(1, round(rate * duration_s))
    start = _now()
    in_flight: set[asyncio.Task[None]] = set()
    reporter = _start_progress(result, total, progress)
    async for _, due in on_timetable(range(total), rate):
        task = asyncio.create_task(_send(client, traffic, result, due))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    await asyncio.gather(*in_flight)
    result.elapsed_s = _now() - start
    await _stop(reporter)
    _draw(result, total, progress)
    return result


def _start_progress(
    result: LoadResult, total: int, out: TextIO | None
) -> asyncio.Task[None] | None:
    if out is None:
        return None

    async def redraw() -> None:
        while True:
            _draw(result, total, out)
            await asyncio.sleep(0.25)

    return asyncio.create_task(redraw())


async def _stop(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def _draw(result: LoadResult, total: int, out: TextIO | None, width: int = 30) -> None:
    if out is None:
        return
    done = sum(result.statuses.values())
    filled = width * done // total
    errors = done - result.accepted
    bar = "#" * filled + "-" * (width - filled)
    out.write(f"\r[{bar}] {done}/{total} answered, {result.accepted} accepted, {errors} errors")
    if done >= total:
        out.write("\n")
    out.flush()


def summary_rows(result: LoadResult) -> list[list[str]]:
    """The closing summary of a load run: counts, errors by status, latency percentiles."""
    rows = [
        ["sent", str(result.sent)],
        ["accepted (202)", str(result.accepted)],
        ["achieved rate", f"{result.sent / result.elapsed_s:,.1f} req/s"],
    ]
    rows += [[f"status {code or 'no answer'}", str(n)] for code, n in result.errors.items()]
    if result.latencies_ms:
        for q in (50, 90, 99):
            rows.append([f"p{q} latency", f"{nearest_rank(result.latencies_ms, q) or 0:,.1f} ms"])
        rows.append(["max latency", f"{max(result.latencies_ms):,.1f} ms"])
    return rows
