"""Trending now, as pure data structures: distinct viewers per title in hopping windows.

Counts are derived, never incremented blindly, so a replay cannot count a
viewer twice. The durable state is, per title, each viewer's last-seen time
(:class:`ViewerShard`, kept in a Faust table and merged by maximum: applying an
update twice changes nothing). A viewer belongs to the current window of size
W exactly when their last-seen time is at or after the window's start, so the
count of a window is the number of viewers last seen since its start.

:class:`PartitionIndex` holds those counts for one partition's titles, in
memory, rebuilt from the table whenever the partition is (re)assigned and then
moved viewer by viewer as last-seen times change: a histogram per window of
viewers by hop, whose oldest hop is dropped as time moves on.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from app.requests.fields import MAX_PAGE_SIZE, Query
from app.trending_windows import Window
from app.viewing.titles import GenreName, TitleInfo, TitleKind, canonical_kind

#: One title's viewers are split in this many shards (by user id), so that no
#: stored value grows with a blockbuster's whole audience; a viewer always
#: falls in the same shard, so their last-seen time moves inside one value.
SHARDS = 8


@dataclass(frozen=True, slots=True)
class Move:
    """A viewer of a title seen at a later time (``before`` None: a new viewer; ``after``
    None: the viewer left every window and was forgotten)."""

    conteudo_id: int
    user_id: int
    before: int | None
    after: int | None


def shard_key(conteudo_id: int, user_id: int) -> str:
    """The table key of the shard holding ``user_id``'s last-seen time on the title."""
    return f"{conteudo_id}:{user_id % SHARDS}"


@dataclass
class ViewerShard:
    """Part of one title's viewers: each one's last-seen time (epoch seconds)."""

    info: TitleInfo
    last_seen: dict[int, int] = field(default_factory=dict)

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> ViewerShard:
        """A shard as the table stores it."""
        info = TitleInfo(**value["titulo"])
        return cls(info, {int(user): int(seen) for user, seen in value["vistos"].items()})

    def as_json(self) -> dict[str, Any]:
        """The shard as the table stores it (JSON object keys are strings)."""
        titulo = {
            "conteudo_id": self.info.conteudo_id,
            "titulo": self.info.titulo,
            "tipo": self.info.tipo,
            "categoria": self.info.categoria,
        }
        return {"titulo": titulo, "vistos": {str(u): s for u, s in self.last_seen.items()}}

    def see(self, user_id: int, seen_at: int) -> Move | None:
        """Record that ``user_id`` was seen at ``seen_at``; the move, if it is later news."""
        before = self.last_seen.get(user_id)
        if before is not None and before >= seen_at:
            return None  # a replay, or a late update: the later time stands
        self.last_seen[user_id] = seen_at
        return Move(self.info.conteudo_id, user_id, before, seen_at)

    def forget(self, user_id: int) -> Move | None:
        """Forget ``user_id`` at once (their erasure); the move, if they were here."""
        before = self.last_seen.pop(user_id, None)
        return None if before is None else Move(self.info.conteudo_id, user_id, before, None)

    def forget_before(self, horizon: int) -> list[Move]:
        """Forget viewers last seen before ``horizon`` (outside every window)."""
        gone = [user for user, seen in self.last_seen.items() if seen < horizon]
        moves = [Move(self.info.conteudo_id, u, self.last_seen.pop(u), None) for u in gone]
        return moves


@dataclass
class _WindowCounts:
    """One window's viewers per title, and the same split by the hop they were last seen in."""

    window: Window
    counts: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    by_hop: dict[int, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))

    def add(self, conteudo_id: int, seen_at: int, delta: int, now: float) -> None:
        if seen_at < self.window.start(now):
            return  # outside the window: not counted, nothing to undo later
        hop = seen_at // self.window.hop_s
        titles = self.by_hop[hop]
        titles[conteudo_id] = titles.get(conteudo_id, 0) + delta
        self.counts[conteudo_id] += delta
        if self.counts[conteudo_id] <= 0:
            del self.counts[conteudo_id]

    def expire(self, now: float) -> None:
        """Drop the hops that left the window."""
        first_hop = self.window.start(now) // self.window.hop_s
        for hop in [h for h in self.by_hop if h < first_hop]:
            for conteudo_id, viewers in self.by_hop.pop(hop).items():
                self.counts[conteudo_id] -= viewers
                if self.counts[conteudo_id] <= 0:
                    del self.counts[conteudo_id]


class PartitionIndex:
    """The current count of each window for the titles of one partition."""

    def __init__(self, windows: Iterable[Window]) -> None:
        self.windows = {window.name: _WindowCounts(window) for window in windows}
        self.titles: dict[int, TitleInfo] = {}

    def learn(self, info: TitleInfo) -> None:
        """Keep what lists show of a title."""
        self.titles[info.conteudo_id] = info

    def move(self, move: Move, now: float) -> None:
        """Move one viewer from the hop of ``before`` to the hop of ``after``."""
        for counts in self.windows.values():
            counts.expire(now)
            if move.before is not None:
                counts.add(move.conteudo_id, move.before, -1, now)
            if move.after is not None:
                counts.add(move.conteudo_id, move.after, +1, now)

    def expire(self, now: float) -> None:
        """Let every window move on to ``now``."""
        for counts in self.windows.values():
            counts.expire(now)

    def count(self, window: str, conteudo_id: int) -> int:
        """Distinct viewers of the title in ``window`` (as of the last move or expiry)."""
        return self.windows[window].counts.get(conteudo_id, 0)

    def tops(self, window: str, top: int) -> dict[str, Any]:
        """The ``top`` titles of ``window``: overall, per ``tipo`` and per ``categoria``."""
        counts = self.windows[window].counts
        ranked = [(viewers, -title) for title, viewers in counts.items()]
        by_tipo: dict[str, list[tuple[int, int]]] = defaultdict(list)
        by_categoria: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for viewers, negative_id in ranked:
            info = self.titles.get(-negative_id)
            if info is not None:
                by_tipo[info.tipo].append((viewers, negative_id))
                by_categoria[info.categoria].append((viewers, negative_id))
        return {
            "geral": self._listed(ranked, top),
            "tipo": {k: self._listed(v, top) for k, v in by_tipo.items()},
            "categoria": {k: self._listed(v, top) for k, v in by_categoria.items()},
        }

    def _listed(self, ranked: list[tuple[int, int]], top: int) -> list[list[Any]]:
        """``[conteudo_id, viewers]`` of the best ``top``, most viewers first, then lower id."""
        return [[-negative_id, viewers] for viewers, negative_id in heapq.nlargest(top, ranked)]


def merge_tops(lists: Iterable[list[list[Any]]], top: int) -> list[list[Any]]:
    """One top list from the top lists of disjoint sets of titles (the partitions')."""
    everything = [entry for listed in lists for entry in listed]
    return heapq.nlargest(top, everything, key=lambda entry: (entry[1], -entry[0]))


class TrendingQuery(Query):
    """``GET /em-alta``: which window, which breakdown, how many titles."""

    janela: str = Field("1h", max_length=10, description="Uma janela de TRENDING_WINDOWS")
    tipo: Annotated[TitleKind | None, BeforeValidator(canonical_kind)] = None
    categoria: GenreName | None = None
    limit: int = Field(10, ge=1, le=MAX_PAGE_SIZE)
