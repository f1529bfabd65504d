"""The load of a scenario, recorded: every answer, and when its request went out and came back."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from chaos.evidence import Accepted
from demo.loadgen.engine import NO_ANSWER, ApiClient
from demo.loadgen.traffic import Request


@dataclass(frozen=True, slots=True)
class Answer:
    """One HTTP answer, with when the request really went out and came back."""

    kind: str
    path: str
    status: int
    body: dict[str, Any] | None
    started: float
    ended: float


class RecordingClient(ApiClient):
    """:class:`demo.loadgen.engine.ApiClient` that keeps every answer and spreads requests over URLs.

    ``urls`` may change while the load runs (a worker joins, one is killed).
    """

    def __init__(self, urls: list[str], api_key: str) -> None:
        super().__init__(urls[0], api_key)
        self.urls = urls
        self.answers: list[Answer] = []
        self._turn = 0

    async def post(self, request: Request) -> tuple[int, dict[str, Any] | None]:
        """POST to the next URL; record the answer (``NO_ANSWER`` on a transport error)."""
        answer = await self.send(request)
        return answer.status, answer.body

    async def send(self, request: Request, headers: dict[str, str] | None = None) -> Answer:
        """POST ``request`` (with ``headers``) to the next URL; record and return the answer."""
        self._turn += 1
        url = self.urls[self._turn % len(self.urls)].rstrip("/")
        loop = asyncio.get_running_loop()
        started = loop.time()
        status, body = NO_ANSWER, None
        try:
            async with self._session.post(
                url + request.path, data=request.body, headers=headers
            ) as answer:
                status, raw = answer.status, await answer.read()
            with contextlib.suppress(orjson.JSONDecodeError):
                body = orjson.loads(raw)
        except (aiohttp.ClientError, TimeoutError):
            pass
        recorded = Answer(request.kind, request.path, status, body, started, loop.time())
        self.answers.append(recorded)
        return recorded

    def accepted(self) -> list[Accepted]:
        """The requests answered 202, as the audit needs them (a request sent again, once)."""
        found = [
            accepted_request(a) for a in self.answers if a.status == 202 and a.body is not None
        ]
        return list(dict.fromkeys(found))


def accepted_request(answer: Answer) -> Accepted:
    assert answer.body is not None
    cid = answer.body["correlation_id"]
    if answer.kind == "usuarios":
        return Accepted(cid, answer.kind, int(answer.body["usuario"]["user_id"]))
    if answer.kind == "visualizacao":
        viewing = answer.body["visualizacao"]
        return Accepted(
            cid, answer.kind, int(viewing["user_id"]), conteudo_id=viewing["conteudo_id"]
        )
    if answer.kind == "sessao":
        session = answer.body["sessao"]
        return Accepted(cid, answer.kind, int(session["user_id"]), session_id=session["session_id"])
    return Accepted(cid, answer.kind, int(answer.path.split("/")[2]))
