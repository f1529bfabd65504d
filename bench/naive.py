"""The baseline: the original's design, one transaction and one round trip per event.

Same input (a backlog of valid events on a topic of its own), same validation
(:func:`app.accounts.commands.decode_user_event`), same tables, same ledger row in
``processed_events``: only the unit of work differs. Each event is sent as one
``BEGIN; <effect>; <ledger row>; COMMIT`` string (one round trip, one commit,
so one WAL flush per event), and its outcome is produced to Kafka without
waiting for each acknowledgement (the worker waits per batch; the baseline is
not made slower than it has to be).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import aiopg
import orjson
import psycopg2
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from app.accounts.commands import UserEvent, decode_user_event
from app.requests.outcomes import response_event
from app.settings import get_settings
from harness.services import kafka_bootstrap

_EFFECTS = {
    "criar_usuario": """INSERT INTO usuarios (user_id, nome, email, cpf, data_criacao)
        VALUES (%(user_id)s, %(nome)s, %(email)s, %(cpf)s, %(data_criacao)s)""",
    "atualizar_assinatura": """INSERT INTO assinaturas (user_id, plano, inicio, fim)
        VALUES (%(user_id)s, %(plano)s, %(inicio)s, %(fim)s)
        ON CONFLICT (user_id) DO UPDATE SET plano = EXCLUDED.plano,
            inicio = EXCLUDED.inicio, fim = EXCLUDED.fim, atualizado_em = now()""",
    "pagamento_realizado": """INSERT INTO pagamentos
        (user_id, valor, forma_pagamento, status, data_pagamento, correlation_id)
        VALUES (%(user_id)s, %(valor)s, %(forma_pagamento)s, %(status)s,
                %(data_pagamento)s, %(correlation_id)s)""",
    "atualizar_config": """INSERT INTO preferencias (user_id, idioma, notificacoes)
        VALUES (%(user_id)s, %(idioma)s, %(notificacoes)s)
        ON CONFLICT (user_id) DO UPDATE SET idioma = EXCLUDED.idioma,
            notificacoes = EXCLUDED.notificacoes, atualizado_em = now()""",
}
_LEDGER = """INSERT INTO processed_events (correlation_id, event_type, user_id, outcome)
    VALUES (%(correlation_id)s, %(event_type)s, %(user_id)s, 'applied')"""


def _parameters(event: UserEvent) -> dict[str, Any]:
    fields = event.model_dump(mode="json")
    fields.update(fields.pop("preferencias", None) or {})
    return {**fields, "event_type": event.event_type}


async def apply_one(cursor: aiopg.Cursor, event: UserEvent) -> str:
    """Apply one event in its own transaction, in one round trip; return its status."""
    params = _parameters(event)
    statement = b"BEGIN; %s; %s; COMMIT;" % (
        cursor.mogrify(_EFFECTS[event.event_type], params),
        cursor.mogrify(_LEDGER, params),
    )
    try:
        await cursor.execute(statement.decode())
    except psycopg2.IntegrityError:
        await cursor.execute("ROLLBACK")
        return "error"
    return "success"


async def _records(topic: str, partitions: int, count: int) -> list[bytes]:
    """The first ``count`` values of ``topic``, read before the clock starts."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap(), enable_auto_commit=False)
    await consumer.start()
    values: list[bytes] = []
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
        await consumer.seek_to_beginning()
        while len(values) < count:
            batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
            values += [r.value for rs in batches.values() for r in rs]
    finally:
        with contextlib.suppress(asyncio.CancelledError):
            await consumer.stop()
    return values[:count]


async def run_naive(topic: str, partitions: int, count: int, response_topic: str) -> float:
    """Process ``count`` backlog events from ``topic`` the naive way; return events/s.

    The backlog is fetched first, so the figure is the per-event write path
    alone: decode, one transaction, one outcome.
    """
    values = await _records(topic, partitions, count)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap(), linger_ms=5)
    await producer.start()
    conn = await aiopg.connect(get_settings().postgres_dsn)
    try:
        cursor = await conn.cursor()
        started = time.perf_counter()
        for value in values:
            event = decode_user_event(value)
            status = await apply_one(cursor, event)
            outcome = response_event(event, status, status)  # type: ignore[arg-type]
            await producer.send(
                response_topic, orjson.dumps(outcome), event.correlation_id.encode()
            )
        await producer.flush()
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
        await producer.stop()
    return len(values) / elapsed
