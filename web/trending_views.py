"""``GET /em-alta``: what is popular right now, from any replica.

Answered from this worker's trending board (:mod:`app.kafka.trending_board`): the
top lists every partition's owner publishes, merged. Counts are distinct
viewers in the window (each window is a hopping one: ``1h`` is the last hour,
moving by 5 minutes, by default).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from aiohttp import web
from faust.web import Request, View

from app.application import platform
from app.clock import iso_utc
from app.viewing.trending import TrendingQuery
from web.errors import InvalidFields
from web.intake import validate
from web.responses import json_response

services = platform()

board = services.trending_board()
WINDOWS = {window.name: window for window in services.settings.trending_windows}


@services.app.page("/em-alta")
class TrendingView(View):
    """``GET /em-alta?janela=1h&tipo=&categoria=&limit=``: the titles with most viewers now."""

    async def get(self, request: Request) -> web.Response:
        """Consumes a window and optional filters; produces ``{janela, de, ate, itens}``.

        ``itens`` ranks titles by ``espectadores`` (distinct viewers in the
        window), with ``posicao``, ``titulo``, ``tipo`` and ``categoria``;
        ``tipo`` and ``categoria`` narrow the list. 422 for an unknown window.
        """
        query = validate(TrendingQuery, dict(request.query))
        window = WINDOWS.get(query.janela)
        if window is None:
            raise InvalidFields.of_field("janela", f"janela deve ser uma de: {', '.join(WINDOWS)}")
        start = window.start(time.time())
        items = board.top(window.name, query.limit, query.tipo, query.categoria)
        return json_response(
            {
                "janela": window.name,
                "de": iso_utc_epoch(start),
                "ate": iso_utc_epoch(start + window.size_s),
                "atualizado_em": board.updated_at(window.name),
                "itens": items,
            }
        )


def iso_utc_epoch(seconds: int) -> str:
    """An epoch second as ISO 8601 in UTC."""
    return iso_utc(datetime.fromtimestamp(seconds, UTC))
