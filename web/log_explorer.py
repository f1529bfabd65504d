"""``GET /logs``: the log explorer, what Kibana shows where it runs, over ``system_logs``.

Search by correlation id, user, event type, topic, requesting key and time
range; newest first, in pages; with a histogram of the matching documents
over time and the most frequent event types and topics among them. One
request's whole trail is ``GET /logs/{correlation_id}`` (``web.log_trail``).
Needs the ``read`` scope; admins search every document, any other key only
the documents of its own requests.
"""

from __future__ import annotations

from aiohttp import web
from faust.web import Request, View

from app.application import platform
from app.eventlog.log_queries import LogQuery
from app.eventlog.search_index import SearchUnavailable
from web.auth import visible_owner
from web.errors import Unavailable
from web.intake import validate
from web.responses import json_response

services = platform()


@services.app.page("/logs")
class LogSearchView(View):
    """Searches ``system_logs`` within what the caller may see."""

    async def get(self, request: Request) -> web.Response:
        """Consumes the filters of :class:`~app.eventlog.log_queries.LogQuery`; produces one page of documents.

        ``total`` matching documents, this ``pagina`` of ``eventos`` (newest
        first, masked as indexed), ``histograma`` (``intervalo`` and
        ``barras``: ``start`` and ``count`` of each bar, over ``desde``-``ate``
        or the documents' own span), ``facetas`` (``event_type`` and
        ``topic`` values with their counts) and ``escopo``: ``todos`` for an
        admin, ``proprios`` for any other key, which sees only documents of
        its own requests (documents indexed before their requester was
        recorded are shown to admins only). 422 lists invalid parameters;
        503 while Elasticsearch is down.
        """
        query = validate(LogQuery, dict(request.query))
        owner = visible_owner(request)
        try:
            page = await services.search.search_logs(query, owner)
        except SearchUnavailable as exc:
            raise Unavailable("Elasticsearch indisponível, tente novamente") from exc
        return json_response(
            {
                "total": page.total,
                "pagina": query.pagina,
                "limit": query.limit,
                "eventos": page.documents,
                "histograma": {"intervalo": page.interval, "barras": page.histogram},
                "facetas": page.facets,
                "escopo": "todos" if owner is None else "proprios",
            }
        )
