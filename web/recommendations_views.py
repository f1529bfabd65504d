"""Recommendations: ``GET /recomendacoes/{user_id}`` (200) and ``POST /recomendacoes/gerar`` (202).

Lists are kept current by the recommendations agent as viewings arrive; the
read is routed to the worker that owns the user's partition of the
recommendations table. A user with no list yet (no history) gets what is
trending now, ranked the same way.
"""

from __future__ import annotations

from dataclasses import asdict

from aiohttp import web
from faust.web import Request, Response, View

from app.application import platform
from app.clock import iso_now
from app.kafka.topics import user_key
from app.viewing.recommending import recommend
from app.viewing.viewing_events import RecommendationsRequest, RecommendationsRequested
from tables.recommendations_table import recommendations
from web.errors import Unavailable
from web.intake import accept, envelope, path_user_id, read_with_demo
from web.ownership import refuse_other_callers_user, require_readable_user
from web.responses import json_response
from web.routing import TableRoute, Unrouted

services = platform()

board = services.trending_board()
recommendations_route = TableRoute(
    recommendations,
    Unrouted(
        recovering="Recomendações em recuperação",
        no_owner_yet="Recomendações ainda não disponíveis neste worker",
        owner_down="Worker dono destas recomendações indisponível",
    ),
)
TRENDING_WINDOW = max(services.settings.trending_windows, key=lambda window: window.size_s).name


@services.app.page("/recomendacoes/gerar")
class GenerateRecommendationsView(View):
    """``POST /recomendacoes/gerar`` {user_id} (body or query) -> ``gerar_recomendacoes``."""

    async def post(self, request: Request) -> web.Response:
        """Consumes a user id; produces ``gerar_recomendacoes``; answers 202.

        The user's list is recomputed from the current state; its status says
        ``success``, or ``error`` for an unknown user. Another caller's user is a 404.
        """
        # Nothing to make up: user_id is required.
        command = await read_with_demo(request, RecommendationsRequest, dict, request.query)
        await refuse_other_callers_user(request, command.user_id)
        event = RecommendationsRequested(**envelope(request, command.user_id))
        return await accept(
            event,
            "Geração de recomendações em processamento",
            "recomendacoes",
            {"user_id": command.user_id},
            services.topics.recommendation_requests,
        )


@services.app.page("/recomendacoes/{user_id}")
class RecommendationsView(View):
    """``GET /recomendacoes/{user_id}``: the user's current recommendations."""

    async def get(self, request: Request, user_id: str) -> Response | web.Response:
        """Consumes a user id; produces ``{user_id, itens, data_geracao}``.

        ``itens``: ``conteudo_id``, ``titulo``, ``tipo``, ``categoria``,
        ``pontuacao`` (0-1) and ``motivo``, best first; finished titles never
        appear. 404 for an unknown user or another caller's.
        """
        uid = path_user_id(user_id)
        await require_readable_user(request, uid)

        async def from_owner() -> web.Response:
            return _stored_or_trending(uid)

        async def from_copy(why: str) -> web.Response:
            # A list a few seconds old is still a good list: any copy may answer.
            if recommendations.get(user_key(uid)) is None:
                raise Unavailable(f"{why}, tente novamente")
            return _stored_or_trending(uid)

        return await recommendations_route.answer(
            user_key(uid), self, request, from_owner, from_copy
        )


def _stored_or_trending(user_id: int) -> web.Response:
    """The stored list; what is trending for a user without one yet."""
    stored = recommendations.get(user_key(user_id))
    if stored is not None:
        return json_response({"user_id": user_id, **stored})
    trending, titles = board.snapshot(TRENDING_WINDOW, services.settings.trending_top)
    items = [asdict(item) for item in recommend([], {}, trending, titles)]
    return json_response({"user_id": user_id, "itens": items, "data_geracao": iso_now()})
