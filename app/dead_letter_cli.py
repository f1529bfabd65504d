"""``faust -A app dead-letters [replay] [--reason R] [--since T]``: the dead letters, re-sent once.

Without ``replay`` it lists them: a line per reason (how many, how many not
replayed yet, the oldest and newest), then each dead letter with its age, the
stage that refused it, the record it refuses, its replay count and whether it
was replayed (when, and where the event went). With ``replay`` it re-sends the
chosen ones to their source topic, each once (:mod:`app.dead_letter_replay`),
and says what it did with each. ``--reason`` keeps the letters whose reason
contains the text (any case), ``--since`` those written since an instant (ISO
8601) or within an age (``30m``, ``2h``, ``7d``). Faust's global ``--json``
prints one JSON object instead of tables.

It needs Kafka and PostgreSQL (the replay ledger); like a worker it applies
pending migrations on connecting. Importing this module registers the
command (``app/__init__.py`` does).
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import click
from aiokafka import AIOKafkaProducer
from faust.cli import AppCommand, argument, option

from app.application import platform
from app.clock import iso_utc, utc_now
from app.dead_letter_replay import (
    Replayed,
    Replayer,
    StoredLetter,
    chosen,
    describe_replay,
    parse_since,
    read_dead_letters,
)
from app.kafka.readers import LogReader, unlisted_topics

#: The command registers on the platform's app; its database is the one the worker uses.
services = platform()
dead_letter_topic = services.topics.dead_letters
DEAD_LETTERS = dead_letter_topic.get_topic_name()

#: How long the command waits for PostgreSQL before it gives up.
CONNECT_TIMEOUT_S = 30.0
#: Longest reason shown in a table (the JSON output has them whole).
SHOWN_REASON = 90


def _since(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """``--since`` as an instant, checked before anything connects."""
    try:
        return parse_since(value, utc_now()) if value else None
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@services.app.command(
    argument("action", type=click.Choice(["list", "replay"]), default="list", required=False),
    option(
        "--reason", default=None, help="Only dead letters whose reason contains this (any case)."
    ),
    option(
        "--since",
        default=None,
        callback=_since,
        help="Only those written since: ISO 8601, or an age (30m, 2h, 7d).",
    ),
)
async def dead_letters(
    self: AppCommand, action: str, reason: str | None, since: datetime | None
) -> None:
    """List the dead letters by reason and age; ``replay`` re-sends the chosen ones, each once."""
    now = utc_now()
    if await unlisted_topics(services.settings.kafka_bootstrap_servers, [DEAD_LETTERS]):
        self.say(f"no dead letters: Kafka has no topic {DEAD_LETTERS} yet")
        return
    async with _services() as (reader, producer):
        partitions = dead_letter_topic.partitions or 1
        log = await read_dead_letters(reader, services.database, DEAD_LETTERS, partitions)
        letters = chosen(log.letters, reason, since)
        if action == "list":
            _say_listing(self, letters, log.unreadable, now)
            return
        replayer = Replayer(services.database, reader, producer, _own_topics())
        done = [await replayer.replay(stored) for stored in letters if stored.replay is None]
        _say_replays(self, done, skipped_before=len(letters) - len(done))


def _own_topics() -> frozenset[str]:
    return frozenset(topic.get_topic_name() for topic in services.topics.all)


@asynccontextmanager
async def _services() -> AsyncIterator[tuple[LogReader, AIOKafkaProducer]]:
    """PostgreSQL (connected and migrated), a Kafka reader and an acks=all producer."""
    await services.database.start()
    reader = LogReader(services.settings.kafka_bootstrap_servers)
    producer = AIOKafkaProducer(
        bootstrap_servers=services.settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=True,
    )
    try:
        await _wait_for_postgres()
        await producer.start()
        yield reader, producer
    finally:
        await producer.stop()
        await reader.close()
        await services.database.stop()


async def _wait_for_postgres() -> None:
    try:
        await asyncio.wait_for(services.database.wait_ready(), CONNECT_TIMEOUT_S)
    except TimeoutError:
        raise SystemExit(
            f"PostgreSQL did not answer within {CONNECT_TIMEOUT_S:g} s "
            f"({services.settings.postgres_host}:{services.settings.postgres_port}); is it up?"
        ) from None


def _say_listing(
    command: AppCommand, letters: Sequence[StoredLetter], unreadable: int, now: datetime
) -> None:
    summary = by_reason(letters, now)
    rows = [_letter_row(stored, now) for stored in letters]
    if command.json:
        command.say(json.dumps({"by_reason": summary, "letters": rows, "unreadable": unreadable}))
        return
    headers = ["reason", "count", "not replayed", "oldest", "newest"]
    shown = [[_short(s["reason"]), *map(str, list(s.values())[1:])] for s in summary]
    command.say(command.tabulate(shown, headers=headers, title=f"{DEAD_LETTERS} by reason"))
    headers = ["offset", "age", "stage", "refused record", "replays", "replayed", "reason"]
    shown = [[*map(str, list(r.values())[:6]), _short(r["reason"])] for r in rows]
    command.say(command.tabulate(shown, headers=headers, title=f"{len(rows)} dead letters"))
    if unreadable:
        command.say(f"{unreadable} records of {DEAD_LETTERS} are not dead letters (skipped)")


def by_reason(letters: Sequence[StoredLetter], now: datetime) -> list[dict[str, Any]]:
    """One summary per reason (its first line: PostgreSQL adds context after), most frequent first."""
    groups: dict[str, list[StoredLetter]] = defaultdict(list)
    for stored in letters:
        groups[stored.letter.reason.strip().split("\n", 1)[0]].append(stored)
    return [
        {
            "reason": reason,
            "count": len(group),
            "not_replayed": sum(1 for s in group if s.replay is None),
            "oldest": age(now, group[0].letter.timestamp),
            "newest": age(now, group[-1].letter.timestamp),
        }
        for reason, group in sorted(groups.items(), key=lambda item: -len(item[1]))
    ]


def _letter_row(stored: StoredLetter, now: datetime) -> dict[str, Any]:
    letter = stored.letter
    return {
        "offset": f"{stored.partition}:{stored.offset}",
        "age": age(now, letter.timestamp),
        "stage": letter.stage,
        "refused_record": f"{letter.topic}:{letter.partition}:{letter.offset}",
        "replays": letter.replays,
        "replayed": describe_replay(stored.replay) if stored.replay else "no",
        "reason": letter.reason,
        "written_at": iso_utc(letter.timestamp),
        "payload_bytes": letter.payload_bytes,
    }


def _say_replays(command: AppCommand, done: Sequence[Replayed], skipped_before: int) -> None:
    resent = [r for r in done if r.resent_to is not None]
    rows = [
        {
            "offset": f"{r.letter.partition}:{r.letter.offset}",
            "refused_record": _refused(r.letter),
            "replays": r.letter.letter.replays + 1 if r.resent_to else r.letter.letter.replays,
            "outcome": "re-sent to " + ":".join(map(str, r.resent_to))
            if r.resent_to
            else "skipped",
            "why": r.skipped or "",
        }
        for r in done
    ]
    if command.json:
        summary = {"resent": len(resent), "skipped": len(done) - len(resent)}
        command.say(json.dumps({**summary, "replayed_before": skipped_before, "letters": rows}))
        return
    headers = ["offset", "refused record", "replays", "outcome", "why"]
    table = [[str(value) for value in row.values()] for row in rows]
    command.say(command.tabulate(table, headers=headers, title="replay"))
    command.say(
        f"{len(resent)} re-sent, {len(done) - len(resent)} skipped, "
        f"{skipped_before} replayed before (left alone)"
    )


def _refused(stored: StoredLetter) -> str:
    letter = stored.letter
    return f"{letter.topic}:{letter.partition}:{letter.offset}"


def _short(reason: str) -> str:
    """A reason on one line, cut to :data:`SHOWN_REASON` characters."""
    line = " ".join(reason.split())
    return line if len(line) <= SHOWN_REASON else line[: SHOWN_REASON - 1] + "…"


def age(now: datetime, then: datetime) -> str:
    """``now - then`` as an operator reads it: ``45s``, ``12m``, ``3h05m``, ``2d04h``."""
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"
