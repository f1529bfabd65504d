"""The delivery guarantee: every event of a topic handled, in order, once, nothing skipped.

The one door to the guarantee: agents, the event log and the platform import
from here, never from the modules behind it.
"""

from app.guard.checkpoints import ALARM_WORDS
from app.guard.command_batches import (
    DecodedBatch,
    applied_outcome,
    decode_batch,
    invalid_reason,
    outcome_message,
)
from app.guard.dead_letters import DeadLetter, dead_letter, send_dead_letters
from app.guard.faust_fixes import PlatformApp
from app.guard.guarded import (
    TRANSIENT,
    BatchHandler,
    Guard,
    GuardedAgent,
    acting_on,
    guarded_agent,
)
from app.guard.topic_batches import feed_group
from app.kafka.publishing import Message, publish_all

__all__ = [
    "ALARM_WORDS",
    "TRANSIENT",
    "BatchHandler",
    "DeadLetter",
    "DecodedBatch",
    "Guard",
    "GuardedAgent",
    "Message",
    "PlatformApp",
    "acting_on",
    "applied_outcome",
    "dead_letter",
    "decode_batch",
    "feed_group",
    "guarded_agent",
    "invalid_reason",
    "outcome_message",
    "publish_all",
    "send_dead_letters",
]
