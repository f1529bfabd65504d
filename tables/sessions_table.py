"""The session table: user id -> the user's viewing sessions.

Fed by ``session_events`` (keyed by user id, same partition count), so
``GET /sessoes/usuario/{id}`` can be routed to the worker that owns the user.
Stored in RocksDB with a compacted changelog topic: sessions survive restarts
and move with their partitions on rebalance. Values are the JSON form of
:class:`app.viewing.sessions.UserSessions`; the rules that change them are
there. A value is pruned each time it changes (what ended a day before
leaves it), and a value left empty is deleted, so compaction drops it from
the changelog too.
"""

from __future__ import annotations

from app.kafka.topics import user_key
from app.viewing.sessions import UserSessions
from tables.routable import routable_table

sessions = routable_table("user_sessions", help="user id -> the user's viewing sessions")


def stored_sessions(user_id: int) -> UserSessions:
    """The sessions this worker's copy of the table holds for ``user_id`` (none: empty)."""
    value = sessions.get(user_key(user_id))
    return UserSessions() if value is None else UserSessions.model_validate(value)


def store_sessions(user_id: int, state: UserSessions) -> None:
    """Make ``state`` the sessions of ``user_id`` (the agent only, inside its event)."""
    key = user_key(user_id)
    if not state.is_empty:
        sessions[key] = state.model_dump(mode="json")
    else:
        # A tombstone even when this copy holds nothing: the copy may have deleted the
        # entry before a crash cut its tombstone (agents/sessions_agent.py, _apply).
        del sessions[key]
