"""agents.sessions_agent: one batch of session commands, with the table, PostgreSQL and Kafka faked."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

import orjson
import pytest

from agents import sessions_agent as agent
from app.accounts.commands import Subscription
from app.kafka.readers import Record
from app.requests.envelope import encode_event
from app.viewing.session_commands import (
    SessionActivity,
    SessionOpened,
    SessionsErased,
    session_id_of,
)
from app.viewing.sessions import UserSessions

SUBSCRIPTION = Subscription("Básico", date(2000, 1, 1), date(2100, 12, 31))


class World:
    """What the agent touches: the table, PostgreSQL, Kafka; and the order it touched them in."""

    def __init__(self) -> None:
        self.table: dict[int, UserSessions] = {}
        self.queries: list[list[int]] = []
        self.steps: list[str] = []
        self.outcomes: list[dict[str, Any]] = []
        self.letters: list[dict[str, Any]] = []

    def stored(self, user_id: int) -> UserSessions:
        return self.table.get(user_id, UserSessions())

    def store(self, user_id: int, state: UserSessions) -> None:
        self.steps.append("table")
        self.table[user_id] = state

    async def subscriptions(self, user_ids: list[int]) -> dict[int, Subscription | None]:
        self.queries.append(user_ids)
        return {uid: SUBSCRIPTION for uid in user_ids}

    async def changelog_in_kafka(self) -> None:
        self.steps.append("changelog in Kafka")

    async def publish(self, topic: object, messages: Sequence[tuple[bytes, bytes]]) -> None:
        self.steps.append("outcomes")
        self.outcomes.extend(orjson.loads(value) for _, value in messages)

    async def send_letters(self, topic: object, messages: Sequence[tuple[bytes, bytes]]) -> None:
        self.letters.extend(orjson.loads(value) for _, value in messages)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> World:
    faked = World()
    monkeypatch.setattr(agent, "stored_sessions", faked.stored)
    monkeypatch.setattr(agent, "store_sessions", faked.store)
    monkeypatch.setattr(agent.services.database, "subscriptions", faked.subscriptions)
    monkeypatch.setattr(agent, "receipts_in_kafka", faked.changelog_in_kafka)
    monkeypatch.setattr(agent, "publish_all", faked.publish)
    monkeypatch.setattr(agent, "send_dead_letters", faked.send_letters)
    return faked


def opening(user_id: int) -> SessionOpened:
    correlation_id = str(uuid.uuid4())
    return SessionOpened(
        correlation_id=correlation_id,
        user_id=user_id,
        session_id=session_id_of(user_id, correlation_id),
        dispositivo="Web",
        localizacao="Belém, PA",
    )


def activity(session_id: str, user_id: int) -> SessionActivity:
    return SessionActivity(correlation_id=str(uuid.uuid4()), user_id=user_id, session_id=session_id)


def record(value: bytes, key: bytes, offset: int) -> Record:
    return Record("session_events", 0, offset, key, value, None)


def batch_of(*commands: SessionOpened | SessionActivity) -> list[Record]:
    return [record(encode_event(c), str(c.user_id).encode(), i) for i, c in enumerate(commands)]


async def test_each_command_is_answered_in_order_after_the_table_is_in_kafka(
    world: World,
) -> None:
    first, second = opening(5), opening(5)

    await agent.track_sessions(batch_of(first, second, activity(first.session_id, 5)))

    assert [(o["status"], o["message"]) for o in world.outcomes] == [
        ("success", "Sessão iniciada"),
        ("error", "Limite de 1 tela simultânea do plano Básico atingido"),
        ("success", "Atividade registrada"),
    ]
    assert world.outcomes[0]["correlation_id"] == first.correlation_id
    assert world.steps == ["table"] * 3 + ["changelog in Kafka", "outcomes"]


async def test_one_subscription_query_per_batch_for_the_users_opening_sessions_only(
    world: World,
) -> None:
    await agent.track_sessions(batch_of(opening(8), opening(3), opening(8)))
    await agent.track_sessions(batch_of(activity(session_id_of(3, str(uuid.uuid4())), 3)))

    assert world.queries == [[3, 8]]


async def test_a_batch_handled_again_gives_the_same_outcomes_and_writes_the_same_state_again(
    world: World,
) -> None:
    batch = batch_of(opening(5), opening(5))
    await agent.track_sessions(batch)
    first_outcomes, table = list(world.outcomes), dict(world.table)
    world.outcomes.clear()

    await agent.track_sessions(batch)

    assert [o["message"] for o in world.outcomes] == [o["message"] for o in first_outcomes]
    assert world.table == table
    # Written again, unchanged: a crash may have left the first writes in the store only.
    assert world.steps.count("table") == 4


async def test_invalid_events_and_events_under_another_users_key_become_dead_letters(
    world: World,
) -> None:
    wrong_key = opening(5)
    batch = [
        record(b"not json", b"5", 0),
        record(encode_event(wrong_key), b"6", 1),
        *batch_of(opening(7)),
    ]

    await agent.track_sessions(batch)

    assert [letter["offset"] for letter in world.letters] == [0, 1]
    assert "user_id" in world.letters[1]["reason"]
    assert [(o["correlation_id"], o["status"]) for o in world.outcomes[:1]] == [
        (wrong_key.correlation_id, "error")
    ]
    assert world.outcomes[1]["status"] == "success"
    assert list(world.table) == [7]


async def test_an_erased_users_sessions_are_forgotten_without_an_outcome(world: World) -> None:
    opened = opening(5)
    erased = SessionsErased(correlation_id=str(uuid.uuid4()), user_id=5)
    batch = [*batch_of(opened, opening(7)), record(encode_event(erased), b"5", 2)]

    await agent.track_sessions(batch)

    assert world.table[5].is_empty
    assert not world.table[7].is_empty
    assert len(world.outcomes) == 2  # the two openings'
    assert erased.correlation_id not in {o["correlation_id"] for o in world.outcomes}
    assert world.letters == []
