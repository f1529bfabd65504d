"""The fallback file: documents waiting for Elasticsearch, durable on disk until indexed."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import orjson
from prometheus_client import Gauge

from app.eventlog.search_index import Document

log = logging.getLogger(__name__)

#: Exported by the processes running the logging agents (their module imports this one).
BACKLOG_BYTES = Gauge(
    "es_fallback_file_bytes",
    "Bytes of documents waiting in the Elasticsearch fallback file (replaying included)",
)


class FallbackFile:
    """Documents waiting for Elasticsearch, one JSON object per line, durable once appended.

    A replay first renames the file to ``*.replaying`` (atomic), so new
    documents go to a fresh file meanwhile; the renamed file is deleted only
    after all of it was indexed, and is replayed again after a crash.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.replaying = path.with_name(path.name + ".replaying")
        self._lock = asyncio.Lock()
        # Read at each scrape: the process's one fallback file is the one exported.
        BACKLOG_BYTES.set_function(lambda: self.backlog_bytes)

    @property
    def backlog_bytes(self) -> int:
        """Bytes waiting to be replayed, in the file and in one being replayed."""
        return _size(self.path) + _size(self.replaying)

    @property
    def has_backlog(self) -> bool:
        """True when documents are waiting to be replayed."""
        return self.replaying.exists() or _size(self.path) > 0

    async def append(self, documents: Sequence[Document]) -> None:
        """Append ``documents``; return once they are on disk (fsync)."""
        lines = b"".join(
            orjson.dumps({"_id": d.id, "_source": d.source}) + b"\n" for d in documents
        )
        async with self._lock:
            await asyncio.to_thread(_append_durably, self.path, lines)

    async def take_backlog(self) -> Path | None:
        """The file to replay next, or None when there is nothing to replay."""
        async with self._lock:
            if self.replaying.exists():
                return self.replaying
            if _size(self.path) == 0:
                return None
            os.replace(self.path, self.replaying)
            _fsync_dir(self.path.parent)
            return self.replaying

    @staticmethod
    def read(path: Path, chunk_size: int) -> Iterator[list[Document]]:
        """The documents of ``path`` in chunks; a torn line (crash mid-append) is skipped."""
        chunk: list[Document] = []
        with path.open("rb") as lines:
            for number, line in enumerate(lines, 1):
                document = _parse_line(line, path, number)
                if document is not None:
                    chunk.append(document)
                if len(chunk) >= chunk_size:
                    yield chunk
                    chunk = []
        if chunk:
            yield chunk


def _append_durably(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as file:
        if file.tell() > 0:
            file.seek(-1, os.SEEK_END)
            if file.read(1) != b"\n":
                file.write(b"\n")  # end a line torn by a crash; it is skipped on replay
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def _parse_line(line: bytes, path: Path, number: int) -> Document | None:
    try:
        fields = orjson.loads(line)
        return Document(fields["_id"], fields["_source"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        if line.strip():
            log.error("%s:%d is not a document (torn by a crash?); skipped", path, number)
        return None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
