"""The API's caches stay within what the worker's memory ceiling counts for them."""

from __future__ import annotations

import sys
import tracemalloc
from decimal import Decimal

from app import memory_ceiling
from web import ownership, title_cache
from web.generational_cache import GenerationalCache

ENTRIES = 5000


def test_the_ceiling_counts_the_caches_own_bounds() -> None:
    assert memory_ceiling.CACHED_USERS == ownership.CACHED_USERS
    assert memory_ceiling.CACHED_TITLES == title_cache.MAX_ENTRIES


def test_a_users_creator_costs_no_more_than_the_ceiling_counts() -> None:
    """Filled to the real bound, at its peak: a dict's size jumps when it grows."""
    users = ownership.CACHED_USERS
    creators: GenerationalCache[int, str | None] = GenerationalCache(users, 600)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for user_id in range(10_000_000, 10_000_000 + users):
            # a few callers create every user; ownership keeps one string per caller
            creators.put(user_id, sys.intern(f"caller-{user_id % 7}"))
        per_entry = (tracemalloc.get_traced_memory()[1] - before) / users
    finally:
        tracemalloc.stop()
    assert len(creators) == users
    assert per_entry <= memory_ceiling.CACHED_USER_BYTES


def test_a_cached_title_costs_no_more_than_the_ceiling_counts() -> None:
    cache = title_cache.TitleCache(max_entries=ENTRIES)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for conteudo_id in range(ENTRIES):
            cache.put(
                {
                    "conteudo_id": conteudo_id,
                    "titulo": f"Um título de tamanho comum {conteudo_id}",
                    "tipo": "filme",
                    "categoria": "drama",
                    "descricao": "Uma sinopse de duas ou três frases, como as do catálogo. " * 3,
                    "duracao_minutos": 118,
                    "ano_lancamento": 2021,
                    "classificacao": "14",
                    "avaliacao": Decimal("4.5"),
                    "visualizacoes": 12_345,
                    "disponivel": True,
                }
            )
        per_entry = (tracemalloc.get_traced_memory()[0] - before) / ENTRIES
    finally:
        tracemalloc.stop()
    assert per_entry <= memory_ceiling.CACHED_TITLE_BYTES
