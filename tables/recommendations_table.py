"""The recommendations table: user id -> the user's current recommendations.

Fed by ``recommendation_requests`` (keyed by user id, same partition count), so
``GET /recomendacoes/{user_id}`` is routed to the worker that owns the key.
Values are ``{"itens": [...], "data_geracao": ISO 8601}``; a recomputation
replaces them whole (so replaying one changes nothing but the time).
"""

from __future__ import annotations

from tables.routable import routable_table

recommendations = routable_table("recommendations", help="user id -> current recommendations")
