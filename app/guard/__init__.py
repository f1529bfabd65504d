"""The delivery guarantee: every event of a topic handled, in order, once, nothing skipped.

This package is its one door: agents, the event log and the platform import
from here, never from the modules behind it. A guarded agent is a batch
handler plus one declaration (:func:`guarded_agent`); the guard reads the
agent's topic with a consumer of its own from the agent's checkpoint in
PostgreSQL, moves the checkpoint only once what the handler produced is
durable, puts each attempt under a deadline, waits out outages, hands a
failing batch over event by event and dead-letters an event that fails
alone (:mod:`app.guard.guarded` tells how).

What it offers:

* :func:`guarded_agent` declares an agent; :data:`BatchHandler` is what it runs;
  :data:`TRANSIENT` are the failures waited out (anything else a handler raises
  sends its batch one event at a time);
* :func:`decode_batch` splits a batch into decoded commands and refusals (a dead
  letter each, and an ``error`` outcome for those naming a request);
  :func:`applied_outcome` and :func:`outcome_message` answer a command on
  ``response_events``;
* :func:`publish_all` produces and returns once Kafka acknowledged every
  message; :func:`send_dead_letters` does the same for dead letters, and counts them;
* :func:`acting_on` makes an event Faust's current one, so a table write lands
  in its partition;
* :class:`TableSweep` deletes a table's expired keys from a timer, on the
  partitions this worker actively owns, with changelog tombstones (or rewrites
  them: :meth:`TableSweep.renew`, leaving a value as it is for :data:`KEEP`).

Adding an agent: one declaration and one checklist
--------------------------------------------------

1. **The topic**: one line in :class:`app.kafka.topics.Topics`,
   ``self.title_ratings = self._declare("title_ratings", logged=True)``
   (``logged``: the event log keeps every event of it, with an agent of its own).
2. **The event**: its command's fields in a request's envelope
   (:class:`app.requests.envelope.Envelope`), beside the feature's rules in
   ``app/<feature>/``; the words of its outcomes in :mod:`app.requests.outcomes`.
3. **The effect**: its SQL in ``app/storage/<feature>.py``, applied through the
   ledger (``processed_events``), so that a batch handed over again applies
   nothing twice; a table written instead: ``writes=table``, each write inside
   ``with acting_on(event):``.
4. **The handler and its declaration**: ``agents/<feature>_agent.py``, as below.
   Every request event gets one outcome; what does not decode is refused by
   :func:`decode_batch`; dead letters and outcomes are sent before it returns.
5. **The role**: the module in :data:`app.application.ROLE_MODULES`
   (``processing`` for PostgreSQL's agents, ``api`` for the tables'; ``all``
   imports the whole ``agents`` package).
6. **The schema**: the event model in :data:`app.event_schemas.TOPICS`, then
   ``make events``.

The example, ``agents/ratings_agent.py`` (run as it stands by
``tests/unit/app/guard/test_adding_an_agent.py``)::

    \"\"\"Agent: ``title_ratings`` -> PostgreSQL -> ``response_events`` (and dead letters).\"\"\"

    from __future__ import annotations

    from collections.abc import Sequence
    from typing import Literal

    from faust.types import EventT
    from pydantic import Field

    from app.application import platform
    from app.guard import applied_outcome, decode_batch, guarded_agent, publish_all
    from app.guard import send_dead_letters
    from app.requests.envelope import Envelope

    services = platform()
    STAGE = "ratings"


    class TitleRated(Envelope):
        \"\"\"``avaliar_conteudo``: a user's rating of a title (in app/<feature>/).\"\"\"

        event_type: Literal["avaliar_conteudo"] = "avaliar_conteudo"
        conteudo_id: int = Field(ge=1)
        nota: int = Field(ge=1, le=5)


    async def rate_titles(batch: Sequence[EventT]) -> None:
        \"\"\"Consumes ``title_ratings``; produces ratings, one outcome each, dead letters.

        Idempotent: a batch handed over again (after a crash) applies nothing twice
        and sends the same outcomes again.
        \"\"\"
        decoded = decode_batch(batch, TitleRated.model_validate_json, STAGE)
        ratings = [rating for _, rating in decoded.valid]
        codes = await services.database.apply_ratings(ratings)  # through the ledger
        outcomes = [applied_outcome(rating, code) for rating, code in zip(ratings, codes)]
        await send_dead_letters(services.topics.dead_letters, decoded.letters)
        await publish_all(services.topics.response_events, decoded.responses + outcomes)


    ratings_agent = guarded_agent(services.topics.title_ratings, rate_titles, stage=STAGE)
"""

from app.guard.changelog_receipts import ReceiptTable, receipts_in_kafka
from app.guard.checkpoints import ALARM_WORDS
from app.guard.dead_letters import DeadLetter, dead_letter, send_dead_letters
from app.guard.faust_fixes import PlatformApp
from app.guard.guarded import (
    TRANSIENT,
    BatchHandler,
    DecodedBatch,
    Guard,
    GuardedAgent,
    acting_on,
    applied_outcome,
    decode_batch,
    guarded_agent,
    invalid_reason,
    outcome_message,
)
from app.guard.table_sweeps import KEEP, TableSweep
from app.guard.topic_batches import feed_group
from app.kafka.publishing import Message, publish_all

__all__ = [
    "ALARM_WORDS",
    "KEEP",
    "TRANSIENT",
    "BatchHandler",
    "DeadLetter",
    "DecodedBatch",
    "Guard",
    "GuardedAgent",
    "Message",
    "PlatformApp",
    "ReceiptTable",
    "TableSweep",
    "acting_on",
    "applied_outcome",
    "dead_letter",
    "decode_batch",
    "feed_group",
    "guarded_agent",
    "invalid_reason",
    "outcome_message",
    "publish_all",
    "receipts_in_kafka",
    "send_dead_letters",
]
