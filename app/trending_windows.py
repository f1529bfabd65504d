"""Trending windows: "the last hour, by 5 minutes", as the setting ``TRENDING_WINDOWS`` spells them.

A hopping window of ``size`` seconds moves by ``hop`` seconds: at any moment
the current window is the ``size`` seconds ending at the end of the current
hop. Spelled ``1h/5m,24h/1h`` (size/hop, comma separated, units s, m, h, d).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^(\d+)([smhd])$")


@dataclass(frozen=True, slots=True)
class Window:
    """A hopping window: its name (as ``GET /em-alta?janela=`` takes it), size and hop."""

    name: str
    size_s: int
    hop_s: int

    def start(self, now: float) -> int:
        """The first second the window covers at ``now``: whole hops, ending with the current one."""
        return (int(now) // self.hop_s + 1) * self.hop_s - self.size_s


def parse_windows(spec: str) -> tuple[Window, ...]:
    """The windows of a ``TRENDING_WINDOWS`` value; ``ValueError`` naming what is wrong."""
    windows = tuple(_window(part.strip()) for part in spec.split(",") if part.strip())
    if not windows:
        raise ValueError("TRENDING_WINDOWS names no window")
    if len({w.name for w in windows}) != len(windows):
        raise ValueError("TRENDING_WINDOWS names a window twice")
    return windows


def finest_hop_s(windows: tuple[Window, ...]) -> int:
    """The shortest hop: a viewer's last-seen time matters to trending only at this grain."""
    return min(window.hop_s for window in windows)


def _window(part: str) -> Window:
    size, _, hop = part.partition("/")
    size_s, hop_s = _seconds(size), _seconds(hop)
    if size_s % hop_s:
        raise ValueError(f"window {part!r}: the size must be a whole number of hops")
    return Window(size, size_s, hop_s)


def _seconds(text: str) -> int:
    match = _DURATION.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration like 30s, 5m, 1h or 1d")
    return int(match.group(1)) * _UNITS[match.group(2)]
