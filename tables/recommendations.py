"""The recommendations table: user id -> the user's current recommendations.

Fed by ``recommendation_requests`` (keyed by user id, same partition count), so
``GET /recomendacoes/{user_id}`` is routed to the worker that owns the key.
Values are ``{"itens": [...], "data_geracao": ISO 8601}``; a recomputation
replaces them whole (so replaying one changes nothing but the time).
"""

from __future__ import annotations

from app.application import app, settings
from tables.correlation_status import ROCKSDB_OPTIONS

recommendations = app.Table(
    "recommendations",
    # Raw bytes keys, exactly like the topic's: the router finds the owner.
    key_type=bytes,
    partitions=settings.topic_partitions,
    options=dict(ROCKSDB_OPTIONS),
    # A survivor answers from its copy while the owner is away (a list a few
    # seconds old is still a good list).
    standby_buffer_size=1,
    help="user id -> current recommendations",
)
