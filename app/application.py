"""The one Faust application and the services every stage shares.

``faust -A app worker`` finds :data:`app` through the package ``app``. Agents and
views import what they need from here; this module imports none of them.
"""

from __future__ import annotations

import logging
from typing import Any

import faust

from app import logs
from app.api_keys import load_key_ring
from app.correlation import CorrelationIds
from app.database import Database
from app.search import SearchIndex
from app.settings import Settings, get_settings
from app.user_ids import UserIdAllocator

log = logging.getLogger(__name__)

#: The modules holding each role's agents, tables and views, imported by the
#: worker. Health and metrics are served by every role, so each process can be
#: probed and scraped.
_PROBES = ["web.health", "web.metrics"]
ROLE_MODULES: dict[str, list[str]] = {
    "all": ["agents", "tables", "web"],
    "api": ["tables.status", "agents.status", "web"],
    "processing": ["agents.processing", *_PROBES],
    "logging": ["agents.event_log", *_PROBES],
}


def create_app(settings: Settings) -> faust.App:
    """A Faust app configured from ``settings``."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return faust.App(
        settings.group_id,
        broker=settings.kafka_broker_url,
        store="rocksdb://",
        datadir=str(settings.data_dir),
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.kafka_session_timeout_s,
        broker_heartbeat_interval=settings.kafka_session_timeout_s / 5,
        consumer_group_instance_id=settings.worker_instance_id,
        # Every write waits for the in-sync replicas: a 202 means durable.
        producer_acks=-1,
        # Outcomes, changelog entries and events leave in batches of up to 256 KiB
        # gathered for 5 ms: +30 % processing throughput in the bench, for at most
        # 5 ms more before a POST's 202.
        producer_linger=0.005,
        producer_max_batch_size=256 * 1024,
        stream_recovery_delay=0.5,
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_application_options=_web_options(settings),
        # Faust's debug views would publish raw table contents and internals.
        web_tables_enabled=False,
        web_graph_enabled=False,
        web_stats_enabled=False,
        web_router_enabled=False,
        logging_config=None,
        # The stages register themselves on import; the worker imports its role's.
        autodiscover=ROLE_MODULES[settings.worker_role],
    )


def _web_options(settings: Settings) -> dict[str, Any]:
    # Imported here because the web package builds on this module.
    from web.auth import authentication
    from web.http_metrics import observe_http
    from web.middleware import json_errors
    from web.rate_limit import RateLimiter

    key_ring = load_key_ring(settings.api_keys, settings.api_keys_file)
    if not len(key_ring):
        log.warning("no API key configured: every protected route will answer 401")
    # Outermost first: metrics see every answer, errors become JSON, then auth.
    middlewares = [observe_http, json_errors, authentication(key_ring, RateLimiter())]
    return {"client_max_size": settings.max_body_bytes, "middlewares": middlewares}


settings = get_settings()
app = create_app(settings)
logs.install(app, settings.log_format)
database = Database(settings.postgres_dsn, settings.postgres_pool_size)
app.add_dependency(database)
search = SearchIndex(settings.elasticsearch_host, settings.elasticsearch_timeout_s)
app.add_dependency(search)
correlation_ids = CorrelationIds(settings.correlation_secret)
user_ids = UserIdAllocator(database)
