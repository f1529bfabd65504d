"""``GET /logs/{correlation_id}``: the trail of one request in ``system_logs``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from faust.web import Request, View

from app.application import platform
from app.eventlog.search_index import SearchUnavailable
from app.requests.envelope import check_uuid
from web.auth import may_see
from web.errors import NotFound, Unavailable
from web.responses import json_response

services = platform()

#: Where each topic's document sits in a trail when two share a timestamp
#: (Elasticsearch keeps dates to the millisecond).
_FLOW_ORDER = {
    services.topics.user_events.get_topic_name(): 0,
    services.topics.dead_letters.get_topic_name(): 1,
    services.topics.response_events.get_topic_name(): 2,
}


@services.app.page("/logs/{correlation_id}")
class LogTrailView(View):
    """Reads the logged documents of one correlation id from Elasticsearch."""

    async def get(self, request: Request, correlation_id: str) -> web.Response:
        """Consumes a correlation id; produces its documents in the order they happened.

        The request's document, any dead letters about it, then its outcome,
        all masked as indexed. 404 when nothing is logged under that id (yet:
        indexing lags by about a second) or it is another caller's (admins see
        all); 503 while Elasticsearch is down.
        """
        if not _is_uuid(correlation_id):
            raise NotFound("Nenhum registro para este correlation_id")
        try:
            documents = await services.search.trail(correlation_id)
        except SearchUnavailable as exc:
            raise Unavailable("Elasticsearch indisponível, tente novamente") from exc
        if not documents or not may_see(request, _owner(documents)):
            raise NotFound("Nenhum registro para este correlation_id")
        documents.sort(key=_flow_position)
        return json_response(
            {"correlation_id": correlation_id, "total": len(documents), "eventos": documents}
        )


def _owner(documents: list[dict[str, Any]]) -> str | None:
    """The API key name that made the request, as its documents or events recorded it."""
    for document in documents:
        if document.get("requested_by"):
            return str(document["requested_by"])
        # Documents indexed before ``requested_by`` was a field of their own.
        event = document.get("event")
        if isinstance(event, dict) and event.get("requested_by"):
            return str(event["requested_by"])
    return None


def _flow_position(document: dict[str, Any]) -> tuple[datetime, int]:
    return _moment(document.get("timestamp")), _FLOW_ORDER.get(document.get("topic", ""), 3)


def _moment(value: object) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _is_uuid(value: str) -> bool:
    try:
        check_uuid(value)
    except ValueError:
        return False
    return True
