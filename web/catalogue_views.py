"""The catalogue (``conteudos``): reads answered directly, and the original's cache paths.

``GET /conteudos`` and ``GET /conteudos/{id}`` read PostgreSQL; the cache paths
serve a title's entry from this worker's memory (:mod:`web.title_cache`). None
of them produces an event: they change no data.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from faust.web import Request, View

from app.application import platform
from app.viewing.titles import MAX_TITLE_ID, CatalogueQuery
from web.database_reads import from_database
from web.errors import NotFound
from web.intake import path_id, validate
from web.responses import json_response
from web.title_cache import TitleCache

services = platform()

TITLE_NOT_FOUND = "Conteúdo não encontrado"
CACHE_MISS = "Conteúdo não está no cache deste worker; carregue-o com POST"

title_cache = TitleCache()


@services.app.page("/conteudos")
class CatalogueView(View):
    """``GET /conteudos?tipo=&categoria=&q=&limit=&cursor=``: one page of the catalogue."""

    async def get(self, request: Request) -> web.Response:
        """Consumes filters and a cursor; produces ``{itens, proximo_cursor}``.

        Titles in ``conteudo_id`` order, ``limit`` (1-100, default 20) at a time.
        ``tipo`` is matched whatever its case or accents (``serie`` is
        ``série``), ``categoria`` exactly, ``q`` as a case-insensitive part of
        ``titulo``. ``proximo_cursor`` is a string to send back as ``cursor``
        for the next page (the last ``conteudo_id`` of this one), or null on
        the last page. 422 lists every invalid parameter; 503 while PostgreSQL
        is unavailable.
        """
        query = validate(CatalogueQuery, dict(request.query))
        # One row more than the page tells whether another page follows.
        rows = await from_database(lambda: services.database.list_titles(query, query.limit + 1))
        page = rows[: query.limit]
        following = str(page[-1]["conteudo_id"]) if len(rows) > query.limit else None
        return json_response({"itens": page, "proximo_cursor": following})


@services.app.page("/conteudos/{conteudo_id}")
class TitleView(View):
    """``GET /conteudos/{conteudo_id}``: one title of the catalogue."""

    async def get(self, request: Request, conteudo_id: str) -> web.Response:
        """Consumes a title id; produces the title with every field.

        ``visualizacoes`` counts the title's viewings (0 until the viewing
        stream maintains it). 404 for an unknown or malformed id; 503 while
        PostgreSQL is unavailable.
        """
        return json_response(await load_title(conteudo_id))


@services.app.page("/cache/conteudo/{conteudo_id}")
class CachedTitleView(View):
    """The original's cache of a title's details, for an hour, in this worker."""

    async def post(self, request: Request, conteudo_id: str) -> web.Response:
        """Consumes a title id; loads the title from PostgreSQL into this worker's cache.

        Answers 200 with the cached entry: the contract's fields, ``conteudo_id``
        and ``em_cache_ate`` (ISO 8601, UTC), one hour from now; loading it again
        starts a new hour. 404 for an unknown title; 503 while PostgreSQL is
        unavailable. Needs the ``write`` scope, like every POST.
        """
        return json_response(title_cache.put(await load_title(conteudo_id)))

    async def get(self, request: Request, conteudo_id: str) -> web.Response:
        """Consumes a title id; produces its cached entry with ``cache: "hit"``.

        A title not in this worker's cache (never loaded here, expired, or not
        a title at all) is a miss: 404 with ``cache: "miss"``, never made-up
        details.
        """
        miss = NotFound(CACHE_MISS, cache="miss")
        entry = title_cache.get(path_id(conteudo_id, MAX_TITLE_ID, miss))
        if entry is None:
            raise miss
        return json_response({**entry, "cache": "hit"})


async def load_title(raw_id: str) -> dict[str, Any]:
    """The title named by the path's ``raw_id``, from PostgreSQL; 404 if there is none."""
    conteudo_id = path_id(raw_id, MAX_TITLE_ID, NotFound(TITLE_NOT_FOUND))
    title = await from_database(lambda: services.database.fetch_title(conteudo_id))
    if title is None:
        raise NotFound(TITLE_NOT_FOUND)
    return title
