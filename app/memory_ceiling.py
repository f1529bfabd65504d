"""The worker's stated memory ceiling: what a worker holding the tables may peak at.

``RSS ≈ B + D × 0.3 MiB + ROCKSDB_BLOCK_CACHE_MB + 6 MiB + C + W`` (docs/operations.md,
"The worker's memory ceiling"): the process at rest, each open RocksDB
database's own structures, the one shared block cache (memtables included,
:mod:`app.table_store`), the allocator's slack around RocksDB, the API's
two caches when full, and the work in flight at the request rate it serves.
``make soak`` judges a real worker against it.
"""

from __future__ import annotations

from app.settings import Settings

#: ``B``: the Python process at rest, per role holding the tables (measured 2026-12-07:
#: 132 MiB at ready for ``all`` less its 32 open databases: 40 MiB of mapped libraries,
#: 47 MiB held by jemalloc, 45 MiB of pymalloc's arenas and stacks; 2026-12-08, with the
#: intake's librdkafka producer: 139 MiB at ready, +4.7 MiB of mapped library and +2.6 of
#: its threads and buffers). Roles without tables have no ceiling here.
BASE_RSS_MB = {"all": 129.0}
#: The Faust tables (status, sessions, trending, recommendations): one database per partition.
TABLES = 4
#: Each open database's own structures, not cached data.
PER_DATABASE_MB = 0.3
#: What the allocator keeps around RocksDB (memtables freed by the flush threads), measured.
ALLOCATOR_SLACK_MB = 6.0
#: ``C``: the API's caches when full, each its bound × an entry's measured size (tracemalloc):
#: users' creators (web/ownership.py, ~100 bytes each at their peak: a dict slot, the int key,
#: the caller's one shared string) and catalogue titles (web/title_cache.py, ~1 KiB each).
#: Each fills as distinct users or titles are touched within its time to live, then stays.
CACHED_USERS = 100_000
CACHED_USER_BYTES = 100
CACHED_TITLES = 4096
CACHED_TITLE_BYTES = 1024
API_CACHES_MB = (CACHED_USERS * CACHED_USER_BYTES + CACHED_TITLES * CACHED_TITLE_BYTES) / 1024**2
#: ``W``: what a worker holds for the work in flight, per request/s it serves: Python's objects
#: of the requests, events and batches under way (and pymalloc's arenas around them), native
#: buffers (fetched records, produce batches, connections) and jemalloc's dirty pages
#: churning under them. Measured at 200 requests/s of mixed traffic on two cores (an hour's
#: soak, 2026-12-07): 46 MiB above the other terms at its peak, 0.23 MiB per request/s; at
#: the end, split by allocator: +24 MiB of Python, +9.5 MiB of live native data, +17 MiB of
#: jemalloc's overhead against the worker at rest. The next hour (2026-12-08, the intake on
#: librdkafka) peaked 56 MiB above them for a few seconds, while the audit's reads left
#: 5,564 records in flight: 0.28 MiB per request/s. The larger, rounded up. Little's law: it
#: is the rate times how long each request's data lives, so a slower machine (more lag)
#: holds more.
IN_FLIGHT_MB_PER_REQUEST_PER_S = 0.3


def memory_ceiling_mb(settings: Settings, requests_per_s: float = 0.0) -> float:
    """The RSS, in MiB, a worker of ``settings``' role and budget should stay under.

    ``D`` is every table partition held (actives and standbys): at most
    :data:`TABLES` × ``TOPIC_PARTITIONS``; ``requests_per_s`` the rate it serves (``W``).
    Raises ``ValueError`` for a role whose ``B`` was never measured.
    """
    base = BASE_RSS_MB.get(settings.worker_role)
    if base is None:
        raise ValueError(f"no measured base RSS for WORKER_ROLE={settings.worker_role}")
    databases = TABLES * settings.topic_partitions
    rocksdb = databases * PER_DATABASE_MB + settings.rocksdb_block_cache_mb + ALLOCATOR_SLACK_MB
    in_flight = requests_per_s * IN_FLIGHT_MB_PER_REQUEST_PER_S
    return base + rocksdb + API_CACHES_MB + in_flight
