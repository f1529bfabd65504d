"""PostgreSQL: the Database service, which opens the pool and migrates the schema.

Every SQL statement of the system is in this package, one module per concept
(:mod:`app.storage.ledger`, :mod:`app.storage.agent_checkpoints`,
:mod:`app.storage.users`, :mod:`app.storage.catalogue`,
:mod:`app.storage.watching`, :mod:`app.storage.dead_letter_replays`,
:mod:`app.storage.ledger_pruning`, :mod:`app.storage.personal_data`); :class:`Database` is all of them at once.
The service connects in the background with backoff, so the worker (and ``GET
/health``) come up even while PostgreSQL is down; callers that need the
database await :meth:`Database.wait_ready`.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import aiopg
from mode import Service

from app.retry import retrying
from app.storage.agent_checkpoints import CheckpointQueries
from app.storage.catalogue import CatalogueQueries, CatalogueSeed, seed_catalogue
from app.storage.dead_letter_replays import ReplayQueries
from app.storage.ledger import LedgerQueries
from app.storage.ledger_pruning import PruningQueries
from app.storage.personal_data import PersonalDataQueries
from app.storage.pool import TRANSIENT_ERRORS
from app.storage.users import UserQueries
from app.storage.watching import WatchingQueries

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
#: Any constant shared by all workers: serialises concurrent migrations.
_MIGRATION_LOCK_KEY = 4_711_2025

_CREATE_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    TEXT PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)"""
_APPLIED_MIGRATIONS = "SELECT version FROM schema_migrations"
_RECORD_MIGRATION = "INSERT INTO schema_migrations (version) VALUES (%s)"


class Database(
    Service,
    LedgerQueries,
    CheckpointQueries,
    UserQueries,
    CatalogueQueries,
    WatchingQueries,
    ReplayQueries,
    PruningQueries,
    PersonalDataQueries,
):
    """Owns the aiopg pool; runs migrations once connected; answers every query.

    Each query is its concept's (the classes it is made of, one module each);
    after migrating it seeds ``conteudos`` with the catalogue it was given
    (:func:`app.storage.catalogue.seed_catalogue`).
    """

    def __init__(
        self, dsn: str, pool_size: int, seed: CatalogueSeed | None = None, **kwargs: Any
    ) -> None:
        self._dsn = dsn
        self._pool_size = pool_size
        self._seed = seed
        self._pool: aiopg.Pool | None = None
        self._ready = asyncio.Event()
        super().__init__(**kwargs)

    @Service.task
    async def _connect_and_migrate(self) -> None:
        await retrying(self._open_and_migrate, on=TRANSIENT_ERRORS, what="connecting to PostgreSQL")
        self._ready.set()
        log.info("PostgreSQL ready")

    async def _open_and_migrate(self) -> None:
        await self._open_pool()
        await self._migrate()

    async def _open_pool(self) -> None:
        if self._pool is None:
            self._pool = await aiopg.create_pool(
                self._dsn,
                minsize=1,
                maxsize=self._pool_size,
                timeout=30.0,
                enable_hstore=False,
            )

    async def on_stop(self) -> None:
        """Close the pool's connections."""
        if self._pool is not None:
            self._pool.close()
            await self._pool.wait_closed()

    @property
    def is_ready(self) -> bool:
        """True once connected and migrated."""
        return self._ready.is_set()

    async def wait_ready(self) -> None:
        """Return once the pool is open and the schema migrated."""
        await self._ready.wait()

    async def _migrate(self) -> None:
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK_KEY,))
            try:
                await cur.execute(_CREATE_MIGRATIONS_TABLE)
                await cur.execute(_APPLIED_MIGRATIONS)
                applied = {row[0] for row in await cur.fetchall()}
                for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
                    if path.stem not in applied:
                        await self._apply_migration(cur, path)
                if self._seed is not None:
                    await seed_catalogue(cur, self._seed)
            finally:
                await cur.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK_KEY,))

    @staticmethod
    async def _apply_migration(cur: aiopg.Cursor, path: Path) -> None:
        log.info("applying migration %s", path.name)
        async with cur.begin():
            await cur.execute(path.read_text())
            await cur.execute(_RECORD_MIGRATION, (path.stem,))

    async def ping(self) -> bool:
        """True once migrated and seeded, when PostgreSQL answers a trivial query within a second.

        Before that, requests needing the database would get 503s: a worker is
        not ready yet (``GET /health`` answers 503), though PostgreSQL may be up.
        """
        if self._pool is None or not self.is_ready:
            return False
        try:
            async with asyncio.timeout(1.0), self._pool.acquire() as conn, conn.cursor() as cur:
                await cur.execute("SELECT 1")
            return True
        except TRANSIENT_ERRORS:
            return False
