"""Configuration, read once from the environment into one typed, frozen object.

Every stage takes its settings from :func:`get_settings`; nothing else reads
``os.environ``. The variable names of the original system are kept
(``KAFKA_BOOTSTRAP_SERVERS``, ``POSTGRES_*``, ``ELASTICSEARCH_HOST``,
``LOG_LEVEL``); the rest are ours and documented in the README.

A ``.env`` file in the project root (the one compose reads, see ``.env.example``)
is read too, so a native worker and a compose stack share one set of overrides;
variables set in the environment win over it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, FilePath, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.trending_windows import Window, parse_windows

#: The project root's ``.env``, whatever the working directory of the process.
PROJECT_ENV_FILE = Path(__file__).resolve().parents[1] / ".env"


class Settings(BaseSettings):
    """All knobs of the worker, with the contract's defaults."""

    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", env_file=PROJECT_ENV_FILE, env_file_encoding="utf-8"
    )

    app_id: str = Field("streaming-platform", alias="APP_ID")
    #: Which stages this process runs: ``all`` (one process does everything), or
    #: one of ``api`` (HTTP views, the status and session tables), ``processing`` (user
    #: events -> PostgreSQL) or ``logging`` (every topic -> Elasticsearch), so
    #: that each stage gets an event loop, and a CPU core, of its own.
    worker_role: Literal["all", "api", "processing", "logging"] = Field("all", alias="WORKER_ROLE")
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", alias="KAFKA_BOOTSTRAP_SERVERS")
    topic_partitions: int = Field(8, ge=1, alias="TOPIC_PARTITIONS")
    #: Copies of every topic the app creates, table changelogs included: 3 on a
    #: three-broker cluster, so losing a broker loses no partition.
    topic_replication_factor: int = Field(1, ge=1, alias="TOPIC_REPLICATION_FACTOR")
    #: Replicas that must hold an ``acks=all`` write before it is acknowledged
    #: (default: 2, or the replication factor when smaller). With 3 copies and
    #: 2 in sync, a 202 survives the loss of any one broker, and writes go on
    #: while one is down.
    topic_min_insync_replicas: int | None = Field(None, ge=1, alias="TOPIC_MIN_INSYNC_REPLICAS")
    #: Prepended to every topic name (the contract's names when empty): lets a
    #: benchmark or fault-injection run use topics of its own.
    topic_prefix: str = Field("", pattern=r"^[A-Za-z0-9._-]*$", alias="TOPIC_PREFIX")
    #: How long the group waits for a silent worker before moving its partitions:
    #: the recovery time after a crash (Faust's default, 60 s, is long for us).
    kafka_session_timeout_s: float = Field(10.0, ge=6, alias="KAFKA_SESSION_TIMEOUT_S")
    #: Static group membership: a worker restarted with the same id takes its
    #: partitions back at once, without a rebalance. Unique per worker; optional.
    worker_instance_id: str | None = Field(None, alias="WORKER_INSTANCE_ID")
    #: An agent's fetch is answered once the broker holds this much for it, or
    #: after the agent's batch wait: a busy topic costs one fetch per batch
    #: wait, not one per event (about a full batch of events by default); an
    #: idle one, one a second (app/guard/topic_batches.py).
    kafka_fetch_min_bytes: int = Field(256 * 1024, ge=1, alias="KAFKA_FETCH_MIN_BYTES")

    postgres_user: str = Field("user", alias="POSTGRES_USER")
    postgres_password: str = Field("password", alias="POSTGRES_PASSWORD")
    postgres_db: str = Field("streaming_db", alias="POSTGRES_DB")
    postgres_host: str = Field("127.0.0.1", alias="POSTGRES_HOST")
    postgres_port: int = Field(5432, alias="POSTGRES_PORT")
    postgres_pool_size: int = Field(8, ge=1, alias="POSTGRES_POOL_SIZE")

    elasticsearch_host: str = Field("http://127.0.0.1:9200", alias="ELASTICSEARCH_HOST")
    #: Longest wait for one Elasticsearch request: a hung node is detected this fast.
    elasticsearch_timeout_s: float = Field(5.0, gt=0, alias="ELASTICSEARCH_TIMEOUT_S")
    #: Where documents go while Elasticsearch is unreachable (default: in the data dir).
    elasticsearch_fallback_file: Path | None = Field(None, alias="ELASTICSEARCH_FALLBACK_FILE")
    #: Documents the logging agents index in one ``_bulk`` request.
    log_batch_size: int = Field(1000, ge=1, alias="LOG_BATCH_SIZE")
    log_batch_wait_s: float = Field(0.5, gt=0, alias="LOG_BATCH_WAIT_S")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    #: ``json`` (one object per line, the default in compose) or ``text`` (``make run``).
    log_format: Literal["json", "text"] = Field("text", alias="LOG_FORMAT")
    #: Successful HTTP requests logged per second, at most; the rest of each second are
    #: counted in one line (web/access_log.py). Failures are always logged.
    access_log_successes_per_s: int = Field(20, ge=0, alias="ACCESS_LOG_SUCCESSES_PER_S")

    web_host: str = Field("127.0.0.1", alias="WEB_HOST")
    web_port: int = Field(8000, alias="API_PORT")
    #: A second port serving the same application, so the dashboard answers on the
    #: contract's 8089 without compose's proxy (``make run``, ``start.py``). Off by
    #: default: test workers would fight over one port.
    dashboard_port: int | None = Field(None, ge=1, le=65535, alias="DASHBOARD_PORT")
    #: Where the operator tools answer, seen from this worker: the dashboard links
    #: to a tool that answers, and to its own views (Kafka, logs) otherwise.
    kafka_ui_url: str = Field("http://127.0.0.1:8080/", alias="KAFKA_UI_URL")
    kibana_url: str = Field("http://127.0.0.1:5601/", alias="KIBANA_URL")
    adminer_url: str = Field("http://127.0.0.1:8081/", alias="ADMINER_URL")
    prometheus_url: str = Field("http://127.0.0.1:9090/", alias="PROMETHEUS_URL")
    #: Longest wait for one reading of the dashboard's Kafka view (topics, groups, messages).
    kafka_admin_timeout_s: float = Field(3.0, gt=0, alias="KAFKA_ADMIN_TIMEOUT_S")
    data_dir: Path = Field(Path("var/worker"), alias="WORKER_DATA_DIR")
    #: API keys as a JSON list of digest entries (see app/api_keys.py), and/or a
    #: JSON file of them. Neither set: no key exists and every protected route is 401.
    api_keys: str | None = Field(None, alias="API_KEYS")
    api_keys_file: Path | None = Field(None, alias="API_KEYS_FILE")
    #: A file holding the bearer token Prometheus presents on ``GET /metrics``
    #: (the one its ``credentials_file`` names); it reads metrics and nothing else.
    metrics_token_file: FilePath | None = Field(None, alias="METRICS_TOKEN_FILE")
    #: Signs correlation ids so that ids never issued can be told apart (404).
    correlation_secret: str = Field("dev-only-correlation-secret", alias="CORRELATION_SECRET")

    #: Largest HTTP body accepted; larger ones get 413.
    max_body_bytes: int = Field(64 * 1024, alias="MAX_BODY_BYTES")
    #: How long the producer gathers messages into one request (a POST's 202 waits
    #: for it): fewer, larger produce requests for at most this much latency.
    producer_linger_ms: float = Field(5.0, ge=0, le=100, alias="PRODUCER_LINGER_MS")
    #: How long a POST waits for Kafka to acknowledge its event before a 503.
    produce_timeout_s: float = Field(5.0, gt=0, alias="PRODUCE_TIMEOUT_S")
    #: Longest the producer waits for one request to the broker (a metadata
    #: lookup, a produce, a flush): Faust's default is 20 minutes, during
    #: which an agent awaiting it would stand still.
    producer_request_timeout_s: float = Field(30.0, gt=0, alias="PRODUCER_REQUEST_TIMEOUT_S")
    #: Longest one attempt at a batch may take; past it the attempt is
    #: cancelled (its stack logged) and the batch tried again.
    batch_deadline_s: float = Field(30.0, gt=0, alias="BATCH_DEADLINE_S")
    #: Events the processing agent applies to PostgreSQL in one round trip.
    process_batch_size: int = Field(500, ge=1, alias="PROCESS_BATCH_SIZE")
    process_batch_wait_s: float = Field(0.05, gt=0, alias="PROCESS_BATCH_WAIT_S")
    #: Once an agent has finished no batch for this long, a partition with events
    #: beyond its checkpoint counts as stalled (an alarm; its consumer is moved
    #: back to the checkpoint, see app/guard/checkpoints.py).
    stall_after_s: float = Field(15.0, gt=0, alias="STALL_AFTER_S")
    #: A viewing session with no activity for this long reads as ended (``inatividade``).
    session_idle_timeout_s: float = Field(1800.0, gt=0, alias="SESSION_IDLE_TIMEOUT_S")

    #: The one block cache every RocksDB database of the worker shares (every table,
    #: every partition; app/table_store.py): RocksDB's memory ceiling in the worker.
    rocksdb_block_cache_mb: int = Field(64, ge=8, alias="ROCKSDB_BLOCK_CACHE_MB")
    #: The part of that cache the memtables of all databases may fill before one is flushed.
    rocksdb_write_buffer_mb: int = Field(32, ge=1, alias="ROCKSDB_WRITE_BUFFER_MB")
    #: How far (changelog entries) an active table partition's store may trail its
    #: changelog before the recovery copies the changelog in bulk instead of replaying
    #: it through Faust (app/table_restore.py); 0 turns the bulk copy off.
    table_bulk_restore_from: int = Field(10_000, ge=0, alias="TABLE_BULK_RESTORE_FROM")

    #: How long Kafka keeps events: ``retention.ms`` of the event topics the app creates.
    event_retention_hours: float = Field(168.0, gt=0, alias="EVENT_RETENTION_HOURS")
    #: ``segment.ms`` of those topics: Kafka deletes whole segments, so an event can
    #: stay up to this much longer than the retention.
    event_segment_hours: float = Field(24.0, gt=0, alias="EVENT_SEGMENT_HOURS")
    #: The ledger (``processed_events``) keeps an event's id while Kafka could
    #: deliver the event again (retention + segment) and this much longer.
    ledger_margin_hours: float = Field(24.0, ge=0, alias="LEDGER_MARGIN_HOURS")
    #: Rows the ledger's pruning deletes per statement (short transactions: writers never wait).
    ledger_prune_batch: int = Field(5000, ge=1, alias="LEDGER_PRUNE_BATCH")
    #: The alias the event log is read through (the contract's ``system_logs``); its
    #: indices are named after it. A test or benchmark run may take one of its own.
    log_index: str = Field("system_logs", pattern=r"^[a-z0-9][a-z0-9._-]*$", alias="LOG_INDEX")
    #: Event-log documents live in one index per this many hours (a divisor of 24) ...
    log_index_hours: int = Field(24, ge=1, le=24, alias="LOG_INDEX_HOURS")
    #: ... and an index is deleted once all its hours are older than this.
    log_retention_days: float = Field(30.0, gt=0, alias="LOG_RETENTION_DAYS")
    #: A final status leaves the status table (a changelog tombstone) once its outcome
    #: is this old; reads then answer from PostgreSQL (``request_outcomes``, kept as
    #: long as the ledger) and, past that too, 404 (agents/status_expiry.py).
    status_retention_hours: float = Field(168.0, gt=0, alias="STATUS_RETENTION_HOURS")
    #: How often the ledger, the event log and the status table are pruned.
    retention_interval_s: float = Field(300.0, gt=0, alias="RETENTION_INTERVAL_S")

    #: A diagnostic, off by default: when set, each SIGUSR2 writes a census of the worker's
    #: live objects here (``python -m bench.census_diff`` compares two) and, when tracing,
    #: a tracemalloc snapshot (app/telemetry/memory_snapshots.py) ...
    memory_snapshot_dir: Path | None = Field(None, alias="MEMORY_SNAPSHOT_DIR")
    #: ... tracing each allocation with this many frames (``python -m bench.memory_growth``
    #: reads the snapshots); 0 takes censuses only, which leaves the worker at full speed.
    memory_trace_frames: int = Field(12, ge=0, le=100, alias="MEMORY_TRACE_FRAMES")

    #: Trending's hopping windows, size/hop (see app/trending_windows.py).
    trending_windows_spec: str = Field("1h/5m,24h/1h", alias="TRENDING_WINDOWS")
    #: Titles each trending list holds, per window and per tipo or categoria.
    trending_top: int = Field(50, ge=1, le=500, alias="TRENDING_TOP")

    @field_validator("trending_windows_spec")
    @classmethod
    def _windows_parse(cls, value: str) -> str:
        parse_windows(value)
        return value

    @field_validator("log_index_hours")
    @classmethod
    def _index_hours_divide_a_day(cls, value: int) -> int:
        if 24 % value:
            raise ValueError("LOG_INDEX_HOURS must divide 24 (1, 2, 3, 4, 6, 8, 12 or 24)")
        return value

    @property
    def trending_windows(self) -> tuple[Window, ...]:
        """The trending windows, parsed."""
        return parse_windows(self.trending_windows_spec)

    @model_validator(mode="after")
    def _insync_within_replicas(self) -> Settings:
        if self.min_insync_replicas > self.topic_replication_factor:
            raise ValueError(
                f"TOPIC_MIN_INSYNC_REPLICAS={self.min_insync_replicas} exceeds "
                f"TOPIC_REPLICATION_FACTOR={self.topic_replication_factor}: no write could "
                "ever be acknowledged; lower it or add replicas"
            )
        return self

    @model_validator(mode="after")
    def _write_buffers_within_cache(self) -> Settings:
        if self.rocksdb_write_buffer_mb > self.rocksdb_block_cache_mb:
            raise ValueError(
                f"ROCKSDB_WRITE_BUFFER_MB={self.rocksdb_write_buffer_mb} exceeds "
                f"ROCKSDB_BLOCK_CACHE_MB={self.rocksdb_block_cache_mb}: the memtables are "
                "charged to the cache; lower the first or raise the second"
            )
        return self

    @property
    def event_lifetime_s(self) -> float:
        """Longest time Kafka may keep an event: its retention plus one segment."""
        return (self.event_retention_hours + self.event_segment_hours) * 3600

    @property
    def ledger_retention_s(self) -> float:
        """How long the ledger keeps an event's id: Kafka's longest hold plus the margin."""
        return self.event_lifetime_s + self.ledger_margin_hours * 3600

    @property
    def min_insync_replicas(self) -> int:
        """``min.insync.replicas`` of the app's topics: as set, else min(2, replication factor)."""
        return self.topic_min_insync_replicas or min(2, self.topic_replication_factor)

    @property
    def topic_config(self) -> dict[str, str]:
        """Broker configuration every topic of the app is created with."""
        return {"min.insync.replicas": str(self.min_insync_replicas)}

    @property
    def group_id(self) -> str:
        """The Kafka consumer group (and Faust app id) of this process's role.

        Each role is a group of its own: Faust assigns every topic of a group to
        every member, so members running different agents cannot share one.
        """
        return self.app_id if self.worker_role == "all" else f"{self.app_id}-{self.worker_role}"

    @property
    def postgres_dsn(self) -> str:
        """libpq connection string for aiopg/psycopg2."""
        return (
            f"dbname={self.postgres_db} user={self.postgres_user} "
            f"password={self.postgres_password} host={self.postgres_host} "
            f"port={self.postgres_port}"
        )

    @property
    def es_fallback_path(self) -> Path:
        """The JSON-lines file holding documents Elasticsearch has not taken yet."""
        return self.elasticsearch_fallback_file or self.data_dir / "es-fallback.jsonl"

    @property
    def kafka_broker_url(self) -> str:
        """The broker list in Faust's ``kafka://`` form."""
        hosts = ";".join(h.strip() for h in self.kafka_bootstrap_servers.split(","))
        return f"kafka://{hosts}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings()  # type: ignore[call-arg]
