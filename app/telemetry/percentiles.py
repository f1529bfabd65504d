"""Nearest-rank percentiles: the latency figures of the dashboard, the bench and the load generator."""

from __future__ import annotations

import math
from collections.abc import Iterable


def nearest_rank(values: Iterable[float], pct: float) -> float | None:
    """The nearest-rank ``pct``-th percentile (0 < pct <= 100) of ``values``; None when empty.

    Nearest rank, not interpolation: the figure is a latency that really happened.
    """
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]
