"""The versioned schema applies to an empty database, once, and supports the agent."""

from __future__ import annotations

import uuid

import pytest

from app.storage.database import Database

pytestmark = pytest.mark.integration


async def test_schema_builds_from_nothing_and_applies_events_once(empty_database: Database) -> None:
    await empty_database._migrate()  # a second run (another worker starting) changes nothing
    event = {
        "event_type": "criar_usuario",
        "correlation_id": str(uuid.uuid4()),
        "user_id": 42,
        "nome": "Ana",
        "email": "ana@example.com",
        "cpf": "529.982.247-25",
        "data_criacao": "2026-01-01T00:00:00Z",
        "requested_by": "alice",
    }
    first = await empty_database.apply_events([event])
    again = await empty_database.apply_events([event])
    assert [(o.outcome, o.replayed) for o in first + again] == [
        ("applied", False),
        ("applied", True),
    ]
    user = await empty_database.fetch_user(42)
    assert user is not None and user["criado_por"] == "alice"
