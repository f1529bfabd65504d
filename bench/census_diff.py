"""``python -m bench.census_diff A B``: what grew between two censuses of one worker.

A worker started with ``MEMORY_SNAPSHOT_DIR`` writes ``census-<n>.json`` on each
SIGUSR2 (``MEMORY_TRACE_FRAMES=0`` keeps it at full speed; see
:mod:`app.telemetry.object_census`). Take one, let the load run some minutes,
take another, and compare: growth that continues from census to census, in a
container whose holder is named, is the structure to look at.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import orjson

from app.telemetry.object_census import Census

#: Lines printed per table.
SHOWN = 25


@dataclass(frozen=True)
class Growth:
    """One type's or one holder's count in the earlier and the later census."""

    name: str
    before: int
    after: int

    @property
    def change(self) -> int:
        return self.after - self.before


def type_growth(earlier: Census, later: Census) -> list[Growth]:
    """Tracked objects per type, the largest growth first."""
    names = set(earlier.types) | set(later.types)
    rows = [Growth(n, earlier.types.get(n, 0), later.types.get(n, 0)) for n in names]
    return sorted(rows, key=lambda g: (-g.change, g.name))


def container_growth(earlier: Census, later: Census) -> list[Growth]:
    """Entries per (type, holder), summed over containers alike, the largest growth first.

    A container below the census' listing threshold in one census counts 0 there.
    """
    before, after = _entries_by_holder(earlier), _entries_by_holder(later)
    rows = [Growth(n, before.get(n, 0), after.get(n, 0)) for n in set(before) | set(after)]
    return sorted(rows, key=lambda g: (-g.change, g.name))


def _entries_by_holder(census: Census) -> dict[str, int]:
    entries: dict[str, int] = defaultdict(int)
    for container in census.containers:
        entries[f"{container.holder} ({container.kind})"] += container.entries
    return entries


def _read(path: Path) -> Census:
    return Census.from_json(orjson.loads(path.read_bytes()))


def _print(title: str, rows: list[Growth]) -> None:
    print(f"\n{title}")
    for row in rows[:SHOWN]:
        print(f"{row.change:+10,d} {row.before:10,d} -> {row.after:10,d}  {row.name}")


def main() -> None:
    """Print the blocks', the types' and the containers' growth from A to B."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("earlier", type=Path)
    parser.add_argument("later", type=Path)
    args = parser.parse_args()
    earlier, later = _read(args.earlier), _read(args.later)
    print(f"allocated blocks {earlier.blocks:,d} -> {later.blocks:,d}")
    print(f"tracked objects  {earlier.objects:,d} -> {later.objects:,d}")
    _print("tracked objects by type", type_growth(earlier, later))
    _print("entries by holder", container_growth(earlier, later))


if __name__ == "__main__":
    main()
