"""The soak's judgement of its samples: memory levels off and stays under its ceiling,
lag stays bounded, and every store that grows stays within what retention allows.

Every check is judged on the samples of the run's second half (lag: after the
warm-up), when the shortened retention (:mod:`chaos.soak_retention`) has had
time to act.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.measure import slope
from bench.progress import Backlog

#: Every sampled process's RSS (PostgreSQL: its PSS) may grow at most this fast over the
#: run's second half: a leak of 0.1 MiB per minute is 144 MiB a day. What may
#: legitimately still be filling then is bounded: RocksDB's one block cache, memtables
#: included (ROCKSDB_BLOCK_CACHE_MB; docs/operations.md).
RSS_SLOPE_LIMIT_MB_PER_MIN = 0.1
#: The agents may trail by at most this many seconds of their input (their consumers
#: commit every 5 s, Faust's every 2.8 s, and a batch is in flight meanwhile: a few
#: seconds' worth is normal). Judged in seconds, not records: each request is read by
#: several groups (its event by two, its outcome by two), so a bound of "rate x seconds"
#: records summed over them, the check until 2026-12-08, allowed a few seconds of input.
LAG_LIMIT_S = 10.0
#: Samples of the first minute are not judged for lag (topics and caches warming up).
WARM_UP_S = 60.0


@dataclass
class Sample:
    """What one look at the system found, ``t`` seconds into the run."""

    t: float
    #: Resident memory per process in MiB (PostgreSQL: the PSS of its processes summed).
    rss_mb: dict[str, float]
    lag: int
    post_p99_ms: float | None
    outcome_p99_ms: float | None
    disk_mb: dict[str, float]
    #: Rows of each table retention prunes (docs/operations.md, "Retention").
    rows: dict[str, int] = field(default_factory=dict)
    #: Indices behind the run's event-log alias.
    log_indices: int = 0
    #: What the worker's RocksDB block cache holds, memtables included (its ``/metrics``):
    #: the part of its RSS that fills up to ``ROCKSDB_BLOCK_CACHE_MB`` and then stays.
    worker_rocksdb_mb: float | None = None
    #: Python's live small objects in the worker (``python_allocated_blocks``), in thousands.
    worker_python_kblocks: float | None = None
    #: What jemalloc holds resident in the worker (``jemalloc_bytes{kind="resident"}``), MiB.
    worker_jemalloc_mb: float | None = None
    #: The worker's RSS backed by mapped files (its libraries), MiB.
    worker_files_mb: float | None = None
    #: Each service's PSS by what backs it (anonymous, files, shared), MiB: which part grows.
    service_parts_mb: dict[str, dict[str, float]] = field(default_factory=dict)
    #: The lag, in seconds of its input, of the agent furthest behind: the time its topics
    #: took to bring the records it has not finished, at their rate so far (None until
    #: that rate is known).
    lag_s: float | None = None


@dataclass(frozen=True)
class Bounds:
    """What the run's settings allow: the worker's memory ceiling, rows per table, indices."""

    ceiling_mb: float
    rows: int
    indices: int


@dataclass(frozen=True)
class Verdicts:
    """The soak's own checks, with the figures behind them."""

    bounds: Bounds
    #: Least-squares slope of each process's memory over the second half, MiB/min.
    slopes: dict[str, float]
    lag_max: int
    lag_max_s: float
    worker_max_mb: float
    #: The largest row count of each pruned table over the second half.
    rows_max: dict[str, int]
    indices_max: int

    def checks(self) -> dict[str, bool]:
        """Each check by name."""
        found = {
            f"{name} memory slope over the 2nd half <= {RSS_SLOPE_LIMIT_MB_PER_MIN:g} MiB/min": (
                per_minute <= RSS_SLOPE_LIMIT_MB_PER_MIN
            )
            for name, per_minute in self.slopes.items()
        }
        found[f"lag after {WARM_UP_S:g}s <= {LAG_LIMIT_S:g}s of the agents' input"] = (
            self.lag_max_s <= LAG_LIMIT_S
        )
        found[f"worker RSS <= its ceiling {self.bounds.ceiling_mb:.0f} MiB"] = (
            self.worker_max_mb <= self.bounds.ceiling_mb
        )
        for table, rows in self.rows_max.items():
            found[f"{table} rows over the 2nd half <= {self.bounds.rows}"] = (
                rows <= self.bounds.rows
            )
        found[f"event-log indices over the 2nd half <= {self.bounds.indices}"] = (
            self.indices_max <= self.bounds.indices
        )
        return found


def seconds_behind(behind: int, written: int, since: tuple[float, int], t: float) -> float | None:
    """``behind`` records in seconds of the stream: how long it took to bring that many,
    at its mean rate from ``since`` (a time and what was written by then) to ``t``.

    None while nothing has been written since.
    """
    began, written_then = since
    if t <= began or written <= written_then:
        return None
    return round(behind * (t - began) / (written - written_then), 2)


def furthest_behind_s(
    backlogs: dict[str, Backlog], first: tuple[float, dict[str, int]], t: float
) -> float | None:
    """The lag, in seconds of its input, of the group furthest behind at ``t``.

    ``first``: when the stream was first read, and what each group had to read by then.
    """
    began, written = first
    seconds = [
        seconds_behind(b.behind, b.written, (began, written.get(group, b.written)), t)
        for group, b in backlogs.items()
    ]
    return max((s for s in seconds if s is not None), default=None)


def part_slopes(samples: list[Sample]) -> dict[str, dict[str, float]]:
    """Least-squares slope of each service's memory parts over the second half, MiB/min."""
    half = samples[len(samples) // 2 :]
    services = half[0].service_parts_mb if half else {}
    return {
        service: {part: _part_slope(half, service, part) for part in parts}
        for service, parts in services.items()
    }


def _part_slope(samples: list[Sample], service: str, part: str) -> float:
    points = [
        (s.t / 60, s.service_parts_mb[service][part])
        for s in samples
        if part in s.service_parts_mb.get(service, {})
    ]
    return round(slope(points), 3)


def judge(samples: list[Sample], bounds: Bounds) -> Verdicts:
    """Trends and maxima over the second half, the largest lag after the warm-up."""
    half = samples[len(samples) // 2 :]
    names = half[0].rss_mb if half else {}
    slopes = {
        name: round(slope([(s.t / 60, s.rss_mb[name]) for s in half if name in s.rss_mb]), 3)
        for name in names
    }
    warm = [s for s in samples if s.t >= WARM_UP_S]
    tables = half[0].rows if half else {}
    return Verdicts(
        bounds,
        slopes,
        max((s.lag for s in warm), default=0),
        max((s.lag_s for s in warm if s.lag_s is not None), default=0.0),
        max((s.rss_mb.get("worker", 0.0) for s in samples), default=0.0),
        {t: max(s.rows.get(t, 0) for s in half) for t in tables},
        max((s.log_indices for s in half), default=0),
    )
