"""The catalogue on the real services: seeded titles, filters, pages, the cache paths."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg2
import pytest

from app.storage.database import Database
from demo.title_maker import DEMO_IDS, catalogue_seed, demo_catalogue
from harness.services import pg_rows, scratch_database
from harness.workers import Worker
from web.title_cache import CACHED_FIELDS

pytestmark = pytest.mark.integration

TITLE_FIELDS = {
    "conteudo_id",
    "titulo",
    "tipo",
    "categoria",
    "generos",
    "descricao",
    "duracao_minutos",
    "ano_lancamento",
    "classificacao",
    "avaliacao",
    "disponivel",
    "temporadas",
    "visualizacoes",
}
UNKNOWN_ID = 2**31 - 1


def walk(api: httpx.Client, **params: Any) -> list[list[dict[str, Any]]]:
    """Every page of ``GET /conteudos`` for ``params``, following ``proximo_cursor``."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        answer = api.get("/conteudos", params={**params, **({"cursor": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages.append(body["itens"])
        cursor = body["proximo_cursor"]
        if cursor is None:
            return pages
        assert cursor == str(body["itens"][-1]["conteudo_id"])


def ids(titles: list[dict[str, Any]]) -> list[int]:
    return [title["conteudo_id"] for title in titles]


# ---------- GET /conteudos/{id} ----------


def test_every_old_id_names_a_seeded_title(worker: Worker) -> None:
    rows = pg_rows(
        "SELECT count(*) FROM conteudos WHERE conteudo_id BETWEEN %s AND %s", [1000, 9999]
    )
    assert rows == [(len(DEMO_IDS),)]


def test_a_title_is_read_with_every_field_as_seeded(api: httpx.Client) -> None:
    seeded = demo_catalogue()[9999 - 1000]
    answer = api.get("/conteudos/9999")
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == TITLE_FIELDS
    expected = {
        "conteudo_id": 9999,
        "titulo": seeded.titulo,
        "tipo": seeded.tipo,
        "generos": list(seeded.generos),
        "avaliacao": seeded.avaliacao,
        "temporadas": seeded.temporadas,
    }
    assert {k: body[k] for k in expected} == expected
    assert isinstance(body["visualizacoes"], int) and body["visualizacoes"] >= 0


@pytest.mark.parametrize("raw", [str(UNKNOWN_ID), "999", "0", "-5", "abc", "12345678901"])
def test_an_unknown_or_malformed_title_id_is_a_json_404(api: httpx.Client, raw: str) -> None:
    answer = api.get(f"/conteudos/{raw}")
    assert answer.status_code == 404
    assert answer.json() == {"error": "Conteúdo não encontrado"}


# ---------- GET /conteudos ----------


def test_the_first_page_holds_the_20_lowest_ids(api: httpx.Client) -> None:
    body = api.get("/conteudos").json()
    lowest = [row[0] for row in pg_rows("SELECT conteudo_id FROM conteudos ORDER BY 1 LIMIT 20")]
    assert ids(body["itens"]) == lowest
    assert body["proximo_cursor"] == str(lowest[-1])
    assert set(body["itens"][0]) == TITLE_FIELDS


def test_the_cursor_walks_every_page_once_without_duplicates(api: httpx.Client) -> None:
    pages = walk(api, tipo="documentário", categoria="Ciência", limit=25)
    seen = [conteudo_id for page in pages for conteudo_id in ids(page)]
    expected = pg_rows(
        "SELECT conteudo_id FROM conteudos WHERE tipo = 'documentário' AND categoria = 'Ciência'"
        " ORDER BY conteudo_id"
    )
    assert len(pages) >= 3 and all(len(page) == 25 for page in pages[:-1])
    assert seen == [row[0] for row in expected]
    assert len(seen) == len(set(seen))


def test_a_page_ending_with_the_last_match_has_no_next_cursor(api: httpx.Client) -> None:
    body = api.get("/conteudos", params={"cursor": "9998", "limit": 5}).json()
    assert ids(body["itens"])[0] == 9999 and body["proximo_cursor"] is None


@pytest.mark.parametrize("spelling", ["série", "SERIE", "Serie"])
def test_tipo_filters_whatever_its_case_or_accents(api: httpx.Client, spelling: str) -> None:
    body = api.get("/conteudos", params={"tipo": spelling, "limit": 100}).json()
    assert len(body["itens"]) == 100
    assert {title["tipo"] for title in body["itens"]} == {"série"}


def test_categoria_filters_exactly_within_a_tipo(api: httpx.Client) -> None:
    body = api.get("/conteudos", params={"tipo": "filme", "categoria": "Drama", "limit": 50})
    titles = body.json()["itens"]
    assert len(titles) == 50
    assert {(t["tipo"], t["categoria"]) for t in titles} == {("filme", "Drama")}
    lower = api.get("/conteudos", params={"categoria": "drama"}).json()
    assert lower == {"itens": [], "proximo_cursor": None}


def test_q_finds_titles_containing_it_in_any_case(api: httpx.Client) -> None:
    found = [t for page in walk(api, q="PARATY", limit=100) for t in page]
    expected = pg_rows(
        "SELECT conteudo_id FROM conteudos WHERE titulo ILIKE '%%paraty%%' ORDER BY conteudo_id"
    )
    assert found and ids(found) == [row[0] for row in expected]
    assert all("paraty" in t["titulo"].lower() for t in found)


def test_q_takes_like_wildcards_literally(api: httpx.Client) -> None:
    assert api.get("/conteudos", params={"q": "%"}).json()["itens"] == []
    assert api.get("/conteudos", params={"q": "_"}).json()["itens"] == []


def test_every_broken_parameter_is_a_422_naming_it(api: httpx.Client) -> None:
    params = {"tipo": "podcast", "limit": "0", "cursor": "abc", "q": "x" * 101, "genero": "Drama"}
    answer = api.get("/conteudos", params=params)
    assert answer.status_code == 422
    assert {field["campo"] for field in answer.json()["campos"]} == set(params)


def test_a_reader_key_may_read_the_catalogue(worker: Worker) -> None:
    with worker.client("reader") as reader:
        assert reader.get("/conteudos", params={"limit": 1}).status_code == 200
        assert reader.get("/conteudos/1000").status_code == 200


# ---------- /cache/conteudo/{id} ----------


def test_a_title_is_a_miss_then_loaded_then_a_hit(api: httpx.Client) -> None:
    path = "/cache/conteudo/4321"
    miss = api.get(path)
    assert miss.status_code == 404
    assert miss.json()["cache"] == "miss"

    loaded = api.post(path)
    assert loaded.status_code == 200
    entry = loaded.json()
    assert set(entry) == {*CACHED_FIELDS, "em_cache_ate"}
    assert entry["titulo"] == api.get("/conteudos/4321").json()["titulo"]
    expires = datetime.fromisoformat(entry["em_cache_ate"])
    assert abs(expires - (datetime.now(UTC) + timedelta(hours=1))) < timedelta(minutes=1)

    hit = api.get(path)
    assert hit.status_code == 200
    assert hit.json() == {**entry, "cache": "hit"}


@pytest.mark.parametrize("raw", [str(UNKNOWN_ID), "abc"])
def test_an_unknown_title_is_never_cached(api: httpx.Client, raw: str) -> None:
    loaded = api.post(f"/cache/conteudo/{raw}")
    assert loaded.status_code == 404
    assert loaded.json()["error"] == "Conteúdo não encontrado"
    miss = api.get(f"/cache/conteudo/{raw}")
    assert (miss.status_code, miss.json()["cache"]) == (404, "miss")


def test_loading_the_cache_needs_the_write_scope(worker: Worker) -> None:
    with worker.client("reader") as reader:
        assert reader.post("/cache/conteudo/1002").status_code == 403
        miss = reader.get("/cache/conteudo/1002")
    assert (miss.status_code, miss.json()["cache"]) == (404, "miss")


# ---------- seeding ----------


@pytest.fixture
def empty_dsn() -> Iterator[str]:
    with scratch_database("catalogue_check") as dsn:
        yield dsn


def _rows(dsn: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


async def test_workers_starting_together_seed_the_catalogue_once(empty_dsn: str) -> None:
    databases = [Database(empty_dsn, pool_size=2, seed=catalogue_seed()) for _ in range(3)]
    try:
        await asyncio.gather(*(database.start() for database in databases))
        await asyncio.wait_for(asyncio.gather(*(d.wait_ready() for d in databases)), 60)
    finally:
        await asyncio.gather(*(database.stop() for database in databases))
    assert _rows(
        empty_dsn, "SELECT count(*), min(conteudo_id), max(conteudo_id) FROM conteudos"
    ) == [(9000, 1000, 9999)]
    first = demo_catalogue()[0]
    assert _rows(empty_dsn, "SELECT titulo, generos FROM conteudos WHERE conteudo_id = 1000") == [
        (first.titulo, list(first.generos))
    ]


async def test_a_restart_restores_missing_demo_titles_without_overwriting_any(
    empty_dsn: str,
) -> None:
    database = Database(empty_dsn, pool_size=2, seed=catalogue_seed())
    await database.start()
    try:
        await database.wait_ready()
        with psycopg2.connect(empty_dsn) as conn, conn.cursor() as cur:
            cur.execute("UPDATE conteudos SET titulo = 'Renomeado' WHERE conteudo_id = 1000")
            cur.execute("DELETE FROM conteudos WHERE conteudo_id IN (1001, 9999)")
        await database._migrate()  # what the next worker start does
        restored = await database.fetch_title(1001)
        renamed = await database.fetch_title(1000)
    finally:
        await database.stop()
    assert restored is not None and restored["titulo"] == demo_catalogue()[1].titulo
    assert renamed is not None and renamed["titulo"] == "Renomeado"
    assert _rows(empty_dsn, "SELECT count(*) FROM conteudos") == [(9000,)]
