"""Adding an agent: the guard package's example module, run as it stands.

The platform it asks for is made of stand-ins: a Faust app that never starts,
the real topics with the checklist's new one, checkpoints and a ledger in
memory, and Kafka's acknowledgements recorded instead of sent.
"""

from __future__ import annotations

import asyncio
import re
import sys
import textwrap
import uuid
from collections.abc import Sequence
from types import ModuleType, SimpleNamespace
from typing import Any

import orjson
import pytest
from faust.types import TopicT

import app.application
import app.guard
from app.guard import Guard, GuardedAgent, Message, PlatformApp
from app.kafka import publishing
from app.kafka.readers import Record
from app.kafka.topics import Topics
from app.settings import get_settings
from tests.unit.app.guard.conftest import MemoryStore


def example_module() -> str:
    """The code block of ``agents/ratings_agent.py`` in :mod:`app.guard`'s docstring."""
    doc = app.guard.__doc__ or ""
    after = doc[doc.index("``agents/ratings_agent.py``") :]
    block = after[after.index("::\n") + 3 :]
    lines = []
    for line in block.splitlines():
        if line.strip() and not line.startswith("    "):
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines))


def topic_declaration() -> str:
    """Step 1 of the checklist: the topic's one line in :class:`Topics`."""
    found = re.search(r"``(self\.\w+ = self\._declare\([^`]*\))``", app.guard.__doc__ or "")
    assert found is not None, "the checklist names the topic's declaration"
    return found.group(1)


class Ledger(MemoryStore):
    """PostgreSQL in memory: the checkpoints, and ratings applied once per request."""

    def __init__(self) -> None:
        super().__init__()
        self.ratings: dict[str, tuple[int, int]] = {}
        self.applied = 0

    async def apply_ratings(self, ratings: Sequence[Any]) -> list[str]:
        for rating in ratings:
            if rating.correlation_id not in self.ratings:
                self.ratings[rating.correlation_id] = (rating.conteudo_id, rating.nota)
                self.applied += 1
        return ["applied"] * len(ratings)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Message]]:
    """What reached Kafka, by topic (every message acknowledged at once)."""
    produced: dict[str, list[Message]] = {}

    async def send(topic: TopicT, messages: Sequence[Message]) -> None:
        produced.setdefault(topic.get_topic_name(), []).extend(messages)

    declared = asyncio.Event()
    declared.set()
    monkeypatch.setattr(publishing, "topics_declared", declared)
    monkeypatch.setattr(publishing, "_send_and_confirm", send)
    return produced


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """A platform whose services are stand-ins; the example asks for it as for the real one."""
    settings = get_settings()
    faust_app = PlatformApp("ratings-example", broker="kafka://127.0.0.1:1", store="memory://")
    topics = Topics(faust_app, settings)
    exec(topic_declaration(), {"self": topics})  # noqa: S102  (the documented line, run)
    ledger = Ledger()
    guard = Guard(faust_app, ledger, settings, topics.dead_letters)
    services = SimpleNamespace(
        app=faust_app, topics=topics, database=ledger, settings=settings, guard=guard
    )
    monkeypatch.setattr(app.application, "platform", lambda: services)
    return services


def rating(correlation_id: str, nota: int) -> bytes:
    fields = {"event_type": "avaliar_conteudo", "correlation_id": correlation_id}
    return orjson.dumps({**fields, "user_id": 7, "conteudo_id": 1234, "nota": nota})


async def test_the_documented_agent_applies_answers_and_dead_letters_each_event_once(
    platform: SimpleNamespace, sent: dict[str, list[Message]], monkeypatch: pytest.MonkeyPatch
) -> None:
    module = ModuleType("agents.ratings_agent")
    monkeypatch.setitem(sys.modules, module.__name__, module)  # where pydantic finds its names
    code = compile(example_module(), "agents/ratings_agent.py", "exec", dont_inherit=True)
    exec(code, module.__dict__)  # noqa: S102  (the documented module, run as it stands)
    agent = module.ratings_agent
    assert isinstance(agent, GuardedAgent) and platform.guard.feeds == [agent.feed]

    topic = platform.topics.title_ratings
    assert topic in platform.topics.logged  # so the event log keeps its events too
    good, refused = str(uuid.uuid4()), str(uuid.uuid4())
    values = [rating(good, 5), rating(refused, 9), b"not even JSON"]
    batch = [Record(topic.get_topic_name(), 0, n, b"7", v, 1.7e9) for n, v in enumerate(values)]

    await agent.handle_batch(batch)
    await agent.handle_batch(batch)  # handed over again, as after a crash

    assert platform.database.ratings == {good: (1234, 5)} and platform.database.applied == 1
    assert platform.database.saved == {0: 3}  # the checkpoint moved past the whole batch
    outcomes = [
        orjson.loads(value) for _, value in sent[platform.topics.response_events.get_topic_name()]
    ]
    assert [(o["correlation_id"], o["status"]) for o in outcomes] == [
        (refused, "error"),
        (good, "success"),
    ] * 2
    letters = [
        orjson.loads(value) for _, value in sent[platform.topics.dead_letters.get_topic_name()]
    ]
    assert [letter["offset"] for letter in letters] == [1, 2, 1, 2]
    assert {letter["stage"] for letter in letters} == {"ratings"}
