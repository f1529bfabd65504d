"""The fast path of ``/cache/conteudo/{id}``: catalogue entries kept in this worker for an hour.

Per process, as the original's: a worker answers from its own memory, so a title
loaded through one worker is a miss on another until loaded there too. Bounded:
at most :data:`MAX_ENTRIES`, the least recently used going first when full, and
each for :data:`TTL_S` seconds after it was loaded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from cachetools import TTLCache

TTL_S = 3600.0
MAX_ENTRIES = 4096
#: What the original's cache held about a title (the contract's fields), plus its id.
CACHED_FIELDS = (
    "conteudo_id",
    "titulo",
    "tipo",
    "categoria",
    "descricao",
    "duracao_minutos",
    "ano_lancamento",
    "classificacao",
    "avaliacao",
    "visualizacoes",
    "disponivel",
)


class TitleCache:
    """Catalogue entries by ``conteudo_id``, each with the instant it expires (``em_cache_ate``).

    ``clock`` gives seconds since the epoch; it times both the expiry and the
    ``em_cache_ate`` a client reads, so the two agree.
    """

    def __init__(
        self,
        max_entries: int = MAX_ENTRIES,
        ttl_s: float = TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._entries: TTLCache[int, dict[str, Any]] = TTLCache(max_entries, ttl_s, timer=clock)

    def put(self, title: Mapping[str, Any]) -> dict[str, Any]:
        """Keep ``title``'s cached fields for the next hour; return the entry as kept."""
        expires = datetime.fromtimestamp(self._clock() + self._ttl_s, UTC)
        entry = {field: title[field] for field in CACHED_FIELDS}
        entry["em_cache_ate"] = expires.isoformat(timespec="seconds").replace("+00:00", "Z")
        self._entries[entry["conteudo_id"]] = entry
        return dict(entry)

    def get(self, conteudo_id: int) -> dict[str, Any] | None:
        """The entry for ``conteudo_id`` while it has not expired, else None."""
        entry = self._entries.get(conteudo_id)
        return None if entry is None else dict(entry)

    def __len__(self) -> int:
        return len(self._entries)
