"""``/api/kafka/...``: the dashboard's Kafka view, what Kafka UI shows where it runs.

Topics with their partitions and offsets, consumer groups with their lag per
partition, and a topic's newest messages, masked as in Elasticsearch. Every
answer is JSON read live from the cluster (:mod:`app.kafka.admin`), within
``KAFKA_ADMIN_TIMEOUT_S``: 503 when Kafka does not answer in time. Paths under
``/api/`` need the ``admin`` scope (``web.auth``). This app's own topics and
groups are flagged ``app`` and listed first, so the page can find them among a
shared broker's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable
from typing import Any, TypeVar

from aiohttp import web
from faust.web import Request, View

from app.application import platform
from app.kafka.admin import KafkaUnavailable
from app.kafka.cluster_view import GroupSummary, TopicMessagesQuery, TopicSummary
from web.errors import NotFound, Unavailable
from web.intake import validate
from web.responses import json_response

services = platform()

T = TypeVar("T")

#: This app's topics: the declared ones, and Faust's own (changelogs, the
#: assignor's), named after the app id like every group of its roles.
_OWN_TOPICS = frozenset(topic.get_topic_name() for topic in services.topics.all)
_OWN_PREFIX = f"{services.settings.app_id}-"


@services.app.page("/api/kafka/topics")
class KafkaTopicsView(View):
    """Every topic of the cluster with its partitions and offsets."""

    async def get(self, request: Request) -> web.Response:
        """Produces ``{app_group, topics}``: this app's topics first, then by name.

        Each topic has ``name``, ``internal``, ``app`` (one of this app's),
        ``messages`` (end minus beginning offsets, summed) and ``partitions``:
        ``partition``, ``leader``, ``beginning``, ``end``, ``messages``.
        """
        topics = await _from_kafka(services.kafka_admin.topics())
        shown = sorted((_flagged(t, is_own_topic(t.name)) for t in topics), key=_own_first)
        return json_response({"app_group": services.settings.group_id, "topics": shown})


@services.app.page("/api/kafka/topics/{topic}/messages")
class TopicMessagesView(View):
    """A topic's newest messages, personal data masked."""

    async def get(self, request: Request, topic: str) -> web.Response:
        """Consumes ``limit`` (1-100, default 20); produces ``{topic, messages}``, newest first.

        Each message has ``partition``, ``offset``, ``timestamp``, ``key``,
        ``size`` (bytes), ``format`` (``json``, ``text`` or ``empty``) and
        ``value``, masked like the documents in Elasticsearch (CPF, e-mail and
        names). 404 for a topic that does not exist.
        """
        query = validate(TopicMessagesQuery, dict(request.query))
        messages = await _from_kafka(services.kafka_admin.latest_messages(topic, query.limit))
        if messages is None:
            raise NotFound("Tópico não encontrado")
        return json_response({"topic": topic, "messages": messages})


@services.app.page("/api/kafka/groups")
class ConsumerGroupsView(View):
    """The cluster's consumer groups."""

    async def get(self, request: Request) -> web.Response:
        """Produces ``{app_group, groups}``: this app's groups first, then by id.

        Each group has ``group_id``, ``state``, ``protocol_type``, ``members``
        and ``app``; ``app_group`` is the group of the worker answering.
        """
        groups = await _from_kafka(services.kafka_admin.groups(first=is_own_group))
        shown = sorted((_flagged(g, is_own_group(g.group_id)) for g in groups), key=_own_first)
        return json_response({"app_group": services.settings.group_id, "groups": shown})


@services.app.page("/api/kafka/groups/{group_id}")
class ConsumerGroupLagView(View):
    """One consumer group's lag."""

    async def get(self, request: Request, group_id: str) -> web.Response:
        """Produces ``group_id``, ``state``, ``members``, ``lag`` (total) and ``partitions``.

        Each partition the group committed on: ``topic``, ``partition``,
        ``committed``, ``end`` and ``lag`` (end minus committed; null where
        the group never committed). 404 for a group Kafka does not know.
        """
        lag = await _from_kafka(services.kafka_admin.group_lag(group_id))
        if lag is None:
            raise NotFound("Grupo de consumidores não encontrado")
        return json_response(lag)


def is_own_topic(name: str) -> bool:
    """Whether ``name`` is one of this app's topics (declared, or Faust's own)."""
    return name in _OWN_TOPICS or name.startswith(_OWN_PREFIX)


def is_own_group(group_id: str) -> bool:
    """Whether ``group_id`` is the group of one of this app's roles, or of an agent's own consumer.

    Agents that write no table consume in groups named after their role's
    group and themselves (``APP_ID.process_user_events``,
    ``APP_ID-logging.log_user_events``: :mod:`app.guard.topic_batches`).
    """
    return group_id == services.settings.app_id or group_id.startswith(
        (_OWN_PREFIX, f"{services.settings.app_id}.")
    )


def _flagged(item: TopicSummary | GroupSummary, own: bool) -> dict[str, Any]:
    return {**dataclasses.asdict(item), "app": own}


def _own_first(item: dict[str, Any]) -> tuple[bool, str]:
    return not item["app"], item.get("name") or item["group_id"]


async def _from_kafka(reading: Awaitable[T]) -> T:
    try:
        return await reading
    except KafkaUnavailable as exc:
        raise Unavailable("Kafka indisponível, tente novamente") from exc
