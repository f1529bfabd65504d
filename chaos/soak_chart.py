"""The soak's chart: memory, lag, latency, disk and what retention prunes, over time."""

from __future__ import annotations

from pathlib import Path

from chaos.soak_checks import LAG_LIMIT_S, Sample


def draw(samples: list[Sample], path: Path, title: str) -> None:
    """One panel per series family, sharing the time axis, as a PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # a dev dependency: requirements-dev.txt
        raise SystemExit("the chart needs matplotlib: make venv (requirements-dev.txt)") from exc
    minutes = [s.t / 60 for s in samples]
    fig, (mem, lag, latency, disk, kept) = plt.subplots(5, 1, figsize=(9, 13), sharex=True)
    for name in samples[0].rss_mb:
        label = f"{name} (PSS)" if name == "postgresql" else name
        mem.plot(minutes, [s.rss_mb.get(name) for s in samples], label=label)
    parts = (
        ([s.worker_rocksdb_mb for s in samples], "--", "worker: RocksDB cache (in its RSS)"),
        (
            [s.worker_jemalloc_mb for s in samples],
            ":",
            "worker: jemalloc (in its RSS; the cache in it)",
        ),
    )
    for values, style, label in parts:
        if any(value is not None for value in values):
            mem.plot(minutes, values, linestyle=style, label=label)
    mem.set_ylabel("RSS (MiB)")
    lag.plot(minutes, [s.lag_s for s in samples], color="tab:red")
    lag.axhline(LAG_LIMIT_S, color="tab:red", linestyle=":", linewidth=1)
    lag.set_ylabel("consumer lag (s of input)")
    latency.plot(minutes, [s.post_p99_ms for s in samples], label="POST (202)")
    latency.plot(minutes, [s.outcome_p99_ms for s in samples], label="accepted -> outcome")
    latency.set_ylabel("p99 over 10 s (ms)")
    for name in samples[0].disk_mb:
        disk.plot(minutes, [s.disk_mb[name] for s in samples], label=name)
    disk.set_ylabel("on disk (MiB)")
    for table in samples[0].rows:
        kept.plot(minutes, [s.rows.get(table) for s in samples], label=table)
    kept.set_ylabel("rows (pruned tables)")
    indices = kept.twinx()
    indices.step(minutes, [s.log_indices for s in samples], color="black", where="post")
    indices.set_ylabel("event-log indices (black)")
    indices.set_ylim(0, max(s.log_indices for s in samples) + 1)
    indices.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    kept.set_xlabel("minutes")
    for axes in (mem, latency, disk, kept):
        axes.legend(fontsize="small", loc="upper left")
    for axes in (mem, lag, latency, disk, kept):
        axes.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
