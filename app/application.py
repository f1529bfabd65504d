"""The platform: the one Faust app and every service it starts, made once, when first asked for.

``faust -A app worker`` asks the package ``app`` for ``app`` (``app/__init__.py``),
which calls :func:`platform`: the first call makes the Faust app
(:func:`create_app`) and its services (:class:`Platform`), each a dependency
of the app, started and stopped with it. The worker then imports its role's
modules (:data:`ROLE_MODULES`), which register their agents, tables, views
and timers, taking what they need from the platform. Importing a module
makes nothing: the packages below (``guard``, ``storage``, ``eventlog``,
``kafka``, the rules) are handed what they use.
"""

from __future__ import annotations

from functools import lru_cache

from app.accounts.user_ids import UserIdAllocator
from app.eventlog.indices import LogIndices
from app.eventlog.search_index import SearchIndex
from app.guard import Guard, PlatformApp, ReceiptTable
from app.kafka.admin import KafkaAdmin
from app.kafka.intake_producer import BATCH_BYTES, IntakeProducer
from app.kafka.topics import TopicDeclaration, Topics
from app.kafka.trending_board import TrendingBoard
from app.requests.envelope import CorrelationIds
from app.settings import Settings, get_settings
from app.storage.database import Database
from app.table_restore import BulkRecoveryTables
from app.table_store import STORE_URL
from app.telemetry import logging_setup
from app.telemetry.memory_snapshots import MemorySnapshots
from demo.title_maker import catalogue_seed

#: The modules holding each role's agents, tables and views, imported by the
#: worker. Health and metrics are served by every role, so each process can be
#: probed and scraped.
_PROBES = ["web.health", "web.monitoring"]
ROLE_MODULES: dict[str, list[str]] = {
    "all": ["agents", "tables", "web"],
    "api": [
        "tables",
        "agents.status_agent",
        "agents.status_expiry",
        "agents.sessions_agent",
        "agents.trending_agent",
        "agents.recommendations_agent",
        "web",
    ],
    "processing": [
        "agents.accounts_agent",
        "agents.viewing_agent",
        "agents.ledger_retention",
        *_PROBES,
    ],
    "logging": ["agents.event_log_agent", "agents.log_retention", *_PROBES],
}


def create_app(settings: Settings) -> PlatformApp:
    """A Faust app configured from ``settings``."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return PlatformApp(
        settings.group_id,
        broker=settings.kafka_broker_url,
        # RocksDB, every table partition within the worker's one memory budget.
        store=STORE_URL,
        # Each table write's changelog future goes to the batch that made it (app.guard).
        Table=ReceiptTable,
        # Partitions far behind their changelog are copied in bulk before Faust replays the rest.
        TableManager=BulkRecoveryTables,
        datadir=str(settings.data_dir),
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication_factor,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.kafka_session_timeout_s,
        broker_heartbeat_interval=settings.kafka_session_timeout_s / 5,
        consumer_group_instance_id=settings.worker_instance_id,
        # Every write waits for the in-sync replicas: a 202 means durable.
        producer_acks=-1,
        # Changelog entries and events leave in batches of up to 256 KiB gathered
        # for PRODUCER_LINGER_MS (outcomes are sent as whole batches, app/kafka/publishing.py).
        producer_linger=settings.producer_linger_ms / 1000,
        producer_max_batch_size=BATCH_BYTES,
        producer_request_timeout=settings.producer_request_timeout_s,
        stream_recovery_delay=0.5,
        # A topic created while the group formed (a first start: agents declare
        # their topics as they start) is missing from the first assignment; the
        # consumer notices it, and rebalances, at its next metadata refresh.
        # aiokafka's default is 5 minutes of events waiting; 5 s is cheap.
        consumer_metadata_max_age_ms=5000,
        web_host=settings.web_host,
        web_port=settings.web_port,
        # The web layer adds its middlewares itself (web/__init__.py).
        web_application_options={"client_max_size": settings.max_body_bytes},
        # Faust's debug views would publish raw table contents and internals.
        web_tables_enabled=False,
        web_graph_enabled=False,
        web_stats_enabled=False,
        web_router_enabled=False,
        logging_config=None,
        # The stages register themselves on import; the worker imports its role's.
        autodiscover=ROLE_MODULES[settings.worker_role],
    )


class Platform:
    """The Faust app and every service it starts and stops with it.

    Made once per process (:func:`platform`); each service is made here, added
    as a dependency of the app, and started when the app starts.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        logging_setup.install(self.app, settings.log_format)
        #: PostgreSQL: every SQL statement; seeds the demo catalogue once migrated.
        self.database = Database(
            settings.postgres_dsn, settings.postgres_pool_size, catalogue_seed()
        )
        self.app.add_dependency(self.database)
        #: Elasticsearch: the event log's indices.
        self.search = SearchIndex(
            settings.elasticsearch_host,
            settings.elasticsearch_timeout_s,
            LogIndices(settings.log_index, settings.log_index_hours),
        )
        self.app.add_dependency(self.search)
        #: Read-only view of the cluster for the dashboard (clients made on first use).
        self.kafka_admin = KafkaAdmin(
            settings.kafka_bootstrap_servers, settings.kafka_admin_timeout_s
        )
        self.app.add_dependency(self.kafka_admin)
        #: Every topic; declared (created if missing) before Faust's consumer starts.
        self.topics = Topics(self.app, settings)
        declaration = TopicDeclaration(self.app, self.topics, settings.kafka_bootstrap_servers)
        self.app.add_dependency(declaration)
        #: What every guarded agent shares: checkpoints, table ownership, feeds.
        self.guard = Guard(self.app, self.database, settings, self.topics.dead_letters)
        self.correlation_ids = CorrelationIds(settings.correlation_secret)
        self.user_ids = UserIdAllocator(self.database)
        self._trending_board: TrendingBoard | None = None
        self._intake_producer: IntakeProducer | None = None
        if settings.memory_snapshot_dir is not None:  # a diagnostic, off by default
            snapshots = MemorySnapshots(settings.memory_snapshot_dir, settings.memory_trace_frames)
            self.app.add_dependency(snapshots)

    def trending_board(self) -> TrendingBoard:
        """Trending as every worker reads it, started with the app on first use.

        Only the stages that read trending ask for it (recommendations, ``GET /em-alta``).
        """
        if self._trending_board is None:
            topic = self.topics.trending_tops.get_topic_name()
            self._trending_board = TrendingBoard(self.settings.kafka_bootstrap_servers, topic)
            self.app.add_dependency(self._trending_board)
        return self._trending_board

    def intake_producer(self) -> IntakeProducer:
        """The producer of the HTTP intake's events, started with the app on first use.

        Only the roles that answer POSTs ask for it (web/intake.py).
        """
        if self._intake_producer is None:
            self._intake_producer = IntakeProducer(self.settings)
            self.app.add_dependency(self._intake_producer)
        return self._intake_producer


@lru_cache(maxsize=1)
def platform() -> Platform:
    """This process's platform, made on the first call from the settings read once."""
    return Platform(get_settings())
