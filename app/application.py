"""The one Faust application and the services every stage shares.

``faust -A app worker`` finds :data:`app` through the package ``app``. Agents and
views import what they need from here; this module imports none of them.
"""

from __future__ import annotations

from app.accounts.user_ids import UserIdAllocator
from app.eventlog.indices import LogIndices
from app.eventlog.search_index import SearchIndex
from app.guard.faust_fixes import PlatformApp
from app.guard.table_ownership import TableOwnership
from app.kafka.admin import KafkaAdmin
from app.requests.correlation import CorrelationIds
from app.settings import Settings, get_settings
from app.storage.database import Database
from app.table_store import STORE_URL
from app.telemetry import logging_setup
from demo.title_maker import catalogue_seed

#: The modules holding each role's agents, tables and views, imported by the
#: worker. Health and metrics are served by every role, so each process can be
#: probed and scraped.
_PROBES = ["web.health", "web.monitoring"]
ROLE_MODULES: dict[str, list[str]] = {
    "all": ["agents", "tables", "web", "agents.ledger_retention", "agents.log_retention"],
    "api": [
        "tables",
        "agents.status_recorder",
        "agents.sessions",
        "agents.trending",
        "agents.recommendations",
        "web",
    ],
    "processing": ["agents.processing", "agents.viewing", "agents.ledger_retention", *_PROBES],
    "logging": ["agents.event_log", "agents.log_retention", *_PROBES],
}


def create_app(settings: Settings) -> PlatformApp:
    """A Faust app configured from ``settings``."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return PlatformApp(
        settings.group_id,
        broker=settings.kafka_broker_url,
        # RocksDB, every table partition within the worker's one memory budget.
        store=STORE_URL,
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
        producer_max_batch_size=256 * 1024,
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


settings = get_settings()
app = create_app(settings)
#: Which table partitions this worker owns; the table agents' feeds follow it.
table_ownership = TableOwnership(app)
logging_setup.install(app, settings.log_format)
database = Database(settings.postgres_dsn, settings.postgres_pool_size, catalogue_seed())
app.add_dependency(database)
search = SearchIndex(
    settings.elasticsearch_host,
    settings.elasticsearch_timeout_s,
    LogIndices(settings.log_index, settings.log_index_hours),
)
app.add_dependency(search)
#: Read-only view of the cluster for the dashboard (clients made on first use).
kafka_admin = KafkaAdmin(settings.kafka_bootstrap_servers, settings.kafka_admin_timeout_s)
app.add_dependency(kafka_admin)
correlation_ids = CorrelationIds(settings.correlation_secret)
user_ids = UserIdAllocator(database)
