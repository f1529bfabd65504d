"""A diagnostic: a census of a worker's live Python objects, cheap enough to take at full load.

tracemalloc (:mod:`app.telemetry.memory_snapshots`) says where memory was
allocated, but tracing every allocation slows a worker so much that it falls
behind at tens of requests a second, and then shows work in flight. A census
costs nothing until it is taken, then holds the worker for a few seconds:

- the objects the garbage collector tracks, counted by type;
- the largest containers (dicts, lists, sets, deques, by entries), each with the
  path that holds it, such as ``web.ownership._creators._young``. Dicts holding
  only numbers and strings are not tracked by the collector; they are found
  through the objects that refer to them.

Two censuses some minutes apart name the structure that grows
(``python -m bench.census_diff A B``).
"""

from __future__ import annotations

import gc
import sys
import types
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

#: Containers with fewer entries are not listed.
MIN_ENTRIES = 300
#: How many referrers up a holder's path is looked for ...
PATH_DEPTH = 4
#: ... following the first few referrers of each step ...
REFERRERS_PER_STEP = 3
#: ... with at most this many scans of the heap for all the containers listed.
SCANS = 600
CONTAINERS = (dict, list, set, frozenset, deque)
#: Referrers that are the census' own machinery or a running frame, never a holder.
_TRANSIENT = (types.FrameType, types.CellType)
#: Suspended code whose locals may hold a container: a path starts there when no global does.
_SUSPENDED = (types.CoroutineType, types.GeneratorType, types.AsyncGeneratorType)


@dataclass
class Container:
    """One large container: its type, its entry count and what holds it."""

    kind: str
    entries: int
    holder: str


@dataclass
class Census:
    """Allocated blocks, tracked objects by type, and the largest containers."""

    blocks: int
    objects: int
    types: dict[str, int] = field(default_factory=dict)
    containers: list[Container] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The census as JSON-ready data."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Census:
        """A census read back from :meth:`as_json`'s data."""
        containers = [Container(**c) for c in data.get("containers", [])]
        return cls(data["blocks"], data["objects"], dict(data["types"]), containers)


def take_census(largest: int = 40, top_types: int = 60) -> Census:
    """Count what is alive now (after a full collection): see the module."""
    gc.collect()
    tracked = gc.get_objects()
    counts = Counter(_type_name(o) for o in tracked)
    paths = _PathFinder({id(tracked)})
    # Modules' own dicts are where paths end, not containers to report.
    found = [c for c in _large_containers(tracked) if id(c) not in paths.modules]
    found.sort(key=len, reverse=True)
    chosen = found[:largest]
    paths.ignored |= {id(found), id(chosen)}
    containers = [Container(_type_name(c), len(c), paths.path(c) or "?") for c in chosen]
    types_counted = dict(counts.most_common(top_types))
    census = Census(sys.getallocatedblocks(), len(tracked), types_counted, containers)
    del tracked, found, chosen
    return census


def _large_containers(tracked: list[Any]) -> list[Any]:
    """Containers of at least MIN_ENTRIES entries, untracked dicts included."""
    seen = {id(o) for o in tracked}
    large = [o for o in tracked if _is_large(o)]
    for o in tracked:  # untracked dicts are only reachable through what refers to them
        for child in gc.get_referents(o):
            if type(child) is dict and id(child) not in seen and len(child) >= MIN_ENTRIES:
                seen.add(id(child))
                large.append(child)
    return large


def _is_large(o: Any) -> bool:
    return isinstance(o, CONTAINERS) and not isinstance(o, type) and len(o) >= MIN_ENTRIES


class _PathFinder:
    """Walks referrers up from a container to a module global, within a budget of heap scans.

    Each ``gc.get_referrers`` scans every tracked object (about 10 ms in a busy
    worker), so the walk takes the first few referrers of each step and stops
    after :data:`SCANS` scans in all; a holder not found by then reads ``?``.
    """

    def __init__(self, ignored: set[int]) -> None:
        self.ignored = ignored
        # The dicts themselves are kept, not only their ids: see _modules.
        self._module_dicts = [(vars(m), name) for name, m in _modules()]
        self.modules = {id(d): name for d, name in self._module_dicts}
        self.scans_left = SCANS
        # Each scan's result stays alive until the census ends: a freed list's id could
        # otherwise be reused by a holder, which would then be skipped as ignored.
        self._scanned: list[list[Any]] = []

    def path(self, obj: Any) -> str:
        """A dotted path from a module global to ``obj``, or "" when none is found."""
        return self._walk(obj, PATH_DEPTH, set())

    def _walk(self, obj: Any, depth: int, visited: set[int]) -> str:
        if depth == 0 or self.scans_left <= 0:
            return ""
        self.scans_left -= 1
        referrers = [
            r
            for r in gc.get_referrers(obj)
            if id(r) not in self.ignored and id(r) not in visited and not isinstance(r, _TRANSIENT)
        ][:REFERRERS_PER_STEP]
        self._scanned.append(referrers)
        self.ignored.add(id(referrers))
        for referrer in referrers:
            if id(referrer) in self.modules:
                return f"{self.modules[id(referrer)]}.{_key_of(referrer, obj)}"
        for referrer in referrers:
            if isinstance(referrer, _SUSPENDED):
                return _local_of(referrer, obj)
        for referrer in referrers:
            above = self._walk(referrer, depth - 1, visited | {id(obj)})
            if above:
                return above + _step(referrer, obj)
        return ""


def _step(holder: Any, obj: Any) -> str:
    """How ``obj`` is reached from ``holder``: ``.attribute``, ``[key]``, ``[]`` or nothing."""
    if isinstance(holder, dict):  # an object's attributes, or a mapping's values
        key = _key_of(holder, obj)
        return f".{key}" if key.isidentifier() else f"[{key}]"
    if isinstance(holder, (list, tuple, set, frozenset, deque)):
        return "[]"
    if isinstance(holder, type) or getattr(holder, "__dict__", None) is obj:
        return ""  # the next step, the attribute dict's, names the attribute
    try:
        attributes: Iterable[tuple[str, Any]] = vars(holder).items()
    except TypeError:  # slots only
        slots = getattr(type(holder), "__slots__", ())
        attributes = ((name, getattr(holder, name, None)) for name in slots)
    return "." + next((name for name, value in attributes if value is obj), "?")


def _local_of(suspended: Any, obj: Any) -> str:
    """``<coroutine agents.x.run>.name``: the local variable of suspended code holding ``obj``."""
    frame = getattr(suspended, "cr_frame", None) or getattr(suspended, "gi_frame", None)
    frame = frame or getattr(suspended, "ag_frame", None)
    local = "?"
    if frame is not None:
        local = next((k for k, v in frame.f_locals.items() if v is obj), "?")
    return f"<{type(suspended).__name__} {suspended.__qualname__}>.{local}"


def _key_of(mapping: dict[Any, Any], obj: Any) -> str:
    key = next((k for k, v in mapping.items() if v is obj), "?")
    return str(key)[:60]


def _modules() -> list[tuple[str, types.ModuleType]]:
    """Modules whose attribute dict is their own: an extension's stand-in (cffi's ``lib``)
    builds a new dict on each ``__dict__``, whose id, once freed, another object takes."""
    return [
        (name, module)
        for name, module in list(sys.modules.items())
        if isinstance(module, types.ModuleType) and vars(module) is vars(module)
    ]


def _type_name(o: Any) -> str:
    kind = type(o)
    return f"{kind.__module__}.{kind.__qualname__}"
