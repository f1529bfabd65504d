"""Direct access to the running services, for arranging and checking tests."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import psycopg2

from app.settings import get_settings

#: The Elasticsearch the tests read, as the worker sees it.
ES_URL = os.environ.get("ELASTICSEARCH_HOST", get_settings().elasticsearch_host)


def pg_rows(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run one query against the real PostgreSQL and return its rows."""
    with psycopg2.connect(get_settings().postgres_dsn) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


def kafka_bootstrap() -> str:
    """The broker list, as the worker sees it."""
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", get_settings().kafka_bootstrap_servers)
