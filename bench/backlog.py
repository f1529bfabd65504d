"""A backlog of valid events, produced straight to Kafka as the API would have.

Each person signs up, then subscribes, pays and sets preferences: four events
per user id, keyed by user id like the API's, so that one user's events stay
in order on one partition. Ids come from the app's id blocks and every e-mail
carries a run tag, so the events apply (``applied``) rather than collide.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from app.accounts.commands import (
    PaymentMade,
    PreferencesUpdated,
    SubscriptionUpdated,
    UserCreated,
    UserEvent,
)
from app.requests.envelope import Envelope, encode_event
from demo.people import demo_payment, demo_preferences, demo_subscription, demo_user

EVENTS_PER_USER = 4


@dataclass
class Backlog:
    """Encoded ``(key, value)`` records and what they will write."""

    records: list[tuple[bytes, bytes]] = field(default_factory=list)
    correlation_ids: list[str] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)

    def add(self, event: Envelope) -> None:
        """Append one event, keyed by its user id."""
        self.records.append((str(event.user_id).encode(), encode_event(event)))
        self.correlation_ids.append(event.correlation_id)


def _one_user(user_id: int, tag: str) -> Iterator[UserEvent]:
    person = demo_user().model_dump()
    local, domain = person["email"].split("@")
    person["email"] = f"{local}.{tag}@{domain}"
    commands = (
        (UserCreated, person),
        (SubscriptionUpdated, demo_subscription().model_dump()),
        (PaymentMade, demo_payment().model_dump()),
        (PreferencesUpdated, {"preferencias": demo_preferences()}),
    )
    for model, fields in commands:
        yield model.model_validate({"correlation_id": _cid(), "user_id": user_id, **fields})


def _cid() -> str:
    return str(uuid.uuid4())


def build_backlog(count: int, user_ids: list[int], tag: str) -> Backlog:
    """``count`` events for ``count / 4`` new people (``user_ids`` must hold enough ids)."""
    backlog = Backlog()
    for user_id in user_ids:
        if len(backlog.records) >= count:
            break
        backlog.user_ids.append(user_id)
        for event in _one_user(user_id, tag):
            if len(backlog.records) < count:
                backlog.add(event)
    return backlog


def users_needed(count: int) -> int:
    """User ids a backlog of ``count`` events takes."""
    return -(-count // EVENTS_PER_USER)
