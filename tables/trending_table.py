"""The trending table: per title (in shards), each viewer's last-seen time.

Fed by ``title_activity`` (keyed by title id, same partition count), so a
title's shards live in its partition, with the agent that owns it. The counts
of each trending window are derived from this table (:mod:`app.viewing.trending`), so
they survive restarts and follow partitions on rebalance. Values are
:class:`app.viewing.trending.ViewerShard` as JSON; a viewer not seen for longer than
the longest window is forgotten, and an empty shard deleted.
"""

from __future__ import annotations

from app.application import platform
from tables.routable import ROCKSDB_OPTIONS

services = platform()

trending_viewers = services.app.Table(
    "trending_viewers",
    key_type=str,
    partitions=services.settings.topic_partitions,
    options=dict(ROCKSDB_OPTIONS),
    extra_topic_configs=services.settings.topic_config,
    help="title shard -> each viewer's last-seen time",
)
