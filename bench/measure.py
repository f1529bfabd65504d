"""Turning observations into figures: percentiles, medians, memory, trends, index progress."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson

from app.eventlog.indices import SYSTEM_LOGS
from app.settings import get_settings
from app.telemetry.percentiles import nearest_rank
from app.telemetry.process_memory import PSS_PARTS, pss_parts_kib, status_mib


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile of ``values``, which must not be empty."""
    found = nearest_rank(values, q)
    if found is None:
        raise ValueError("no values to take a percentile of")
    return found


def slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of ``(x, y)`` points (0 with fewer than two distinct x)."""
    if len({x for x, _ in points}) < 2:
        return 0.0
    return statistics.linear_regression([x for x, _ in points], [y for _, y in points]).slope


def median(values: Sequence[float]) -> float:
    """The median of several runs' figures."""
    return statistics.median(values)


def rss_mb(pid: int) -> float:
    """A live process's resident set size now (``VmRSS``), in MiB."""
    return status_mib(pid, "VmRSS")


def tree_pss_parts_mb(pid: int) -> dict[str, float]:
    """The PSS of ``pid`` and its descendants by what backs it (anonymous, files, shared), MiB.

    For a server that forks (PostgreSQL): its shared buffers count once in the
    parts' sum, where a sum of RSS counts them in every process that touched them.
    """
    total = dict.fromkeys(PSS_PARTS, 0.0)
    for p in (pid, *descendants(pid)):
        try:
            parts = pss_parts_kib(p)
        except (OSError, RuntimeError):
            continue  # exited meanwhile, or a zombie
        for part, kib in parts.items():
            total[part] += kib / 1024
    return total


async def log_index_count(alias: str) -> int:
    """How many indices are behind the event log's ``alias`` now."""
    async with httpx.AsyncClient(base_url=get_settings().elasticsearch_host, timeout=30) as es:
        found = await es.get(f"/_alias/{alias}")
    return len(found.json()) if found.status_code == 200 else 0


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` in the process tree (from ``/proc/*/stat``)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo += children.get(child, [])
    return found


def peak_rss_mb(pid: int) -> float:
    """A live process's peak resident set size (``VmHWM``), in MiB."""
    return status_mib(pid, "VmHWM")


class BenchDocuments:
    """The bench's documents in ``system_logs``: those of its own topics."""

    def __init__(self, topics: Sequence[str]) -> None:
        self._query = {"terms": {"topic": list(topics)}}
        self._client = httpx.AsyncClient(base_url=get_settings().elasticsearch_host, timeout=30)

    async def count(self) -> int:
        """Documents searchable now.

        Not forcing a ``_refresh``: a forced refresh per poll would cost
        Elasticsearch a segment (and merges) four times a second, which the
        bench would then charge to the system. The index refreshes once a
        second while searched (and a search-idle shard refreshes when searched).
        """
        answer = await self._client.post(f"/{SYSTEM_LOGS}/_count", json={"query": self._query})
        answer.raise_for_status()
        return int(answer.json()["count"])

    async def first_logged_at(self) -> float:
        """When the first of these documents was built by the logging agent (epoch s)."""
        body = {
            "size": 0,
            "query": self._query,
            "aggs": {"first": {"min": {"field": "logged_at"}}},
        }
        answer = await self._client.post(f"/{SYSTEM_LOGS}/_search", json=body)
        answer.raise_for_status()
        return float(answer.json()["aggregations"]["first"]["value"]) / 1000

    async def delete_run(self, prefixes: Sequence[str], page: int = 5000) -> int:
        """Remove every document of topics named with one of ``prefixes``; how many went.

        This Elasticsearch has no ``_delete_by_query``: ids are listed page by
        page (the index refreshed first) and deleted with ``_bulk``.
        """
        await self._client.post(f"/{SYSTEM_LOGS}/_refresh")
        query = {"bool": {"should": [{"prefix": {"topic": p}} for p in prefixes]}}
        deleted = 0
        while ids := await self._ids(query, page):
            # Each document from its own index: ``system_logs`` is an alias over several.
            lines = [orjson.dumps({"delete": {"_index": x, "_id": i}}) for x, i in ids]
            body = b"\n".join(lines) + b"\n"
            headers = {"content-type": "application/x-ndjson"}
            answer = await self._client.post("/_bulk?refresh=true", content=body, headers=headers)
            answer.raise_for_status()
            deleted += len(ids)
        return deleted

    async def _ids(self, query: dict[str, Any], size: int) -> list[tuple[str, str]]:
        """``(index, _id)`` of up to ``size`` documents matching ``query``."""
        body = {"query": query, "size": size, "_source": False}
        answer = await self._client.post(f"/{SYSTEM_LOGS}/_search", json=body)
        answer.raise_for_status()
        return [(hit["_index"], hit["_id"]) for hit in answer.json()["hits"]["hits"]]

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()
