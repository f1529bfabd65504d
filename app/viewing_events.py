"""The events on ``viewing_events``: one per heartbeat a player sends.

``registrar_visualizacao`` carries the envelope of every request event
(:class:`app.events.Envelope`) and the fields of the :class:`app.models.Viewing`
command, so an event is valid exactly when its command would be. Heartbeats
have a topic of their own (keyed by user id, like ``user_events``): they are
the platform's largest stream by far, and a backlog of them must delay neither
sign-ups nor payments; their agent applies a whole batch in one statement.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict

from app.events import Envelope
from app.models import Viewing


class ViewingRecorded(Envelope, Viewing):
    """``registrar_visualizacao``: how far a user got in a title, at the moment it was sent."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    event_type: Literal["registrar_visualizacao"] = "registrar_visualizacao"


def decode_viewing(raw: bytes) -> ViewingRecorded:
    """Parse and validate a ``viewing_events`` value; raises ``ValueError`` if unusable."""
    return ViewingRecorded.model_validate_json(raw)
