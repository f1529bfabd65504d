"""What a process's memory is made of: its ``/proc`` status, and what jemalloc holds.

:func:`status_mib` reads one field of ``/proc/<pid>/status``, :func:`rollup_kib`
of ``/proc/<pid>/smaps_rollup`` (every tool that samples a process's memory reads
them here). jemalloc's totals are read through
its ``mallctl`` when the process runs on it.

Workers start on jemalloc (``ops/on-jemalloc``), which serves every native
allocation: RocksDB's blocks and memtables, the clients' buffers, Python's
objects over 512 bytes. Python's smaller objects live in pymalloc's own
arenas, mapped beside it. So a worker's resident memory splits into the files
it maps (libraries), jemalloc's ``resident``, and the rest of its anonymous
memory (pymalloc's arenas, thread stacks): :func:`resident_split`.

Reading the totals costs a few microseconds (an epoch refresh and six
lookups), so ``/metrics`` reads them at each scrape.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: jemalloc's ``stats.*`` totals exported, each in bytes.
TOTALS = ("allocated", "active", "resident", "metadata", "mapped", "retained")


@dataclass(frozen=True)
class ResidentSplit:
    """A process's resident memory by what backs it, in bytes (``/proc/<pid>/status``)."""

    #: Pages of mapped files: the interpreter, its extension modules, shared libraries.
    files: int
    #: Anonymous pages: every allocator's heap, thread stacks.
    anonymous: int


def status_kib(pid: int | str, *names: str) -> dict[str, int]:
    """Fields of ``/proc/<pid>/status`` given in kB (``VmRSS``, ``RssFile``...), by name."""
    return _fields_kib(pid, "status", names)


def rollup_kib(pid: int | str, *names: str) -> dict[str, int]:
    """Fields of ``/proc/<pid>/smaps_rollup`` in kB (``Pss``, ``Pss_Anon``...), by name."""
    return _fields_kib(pid, "smaps_rollup", names)


def _fields_kib(pid: int | str, file: str, names: tuple[str, ...]) -> dict[str, int]:
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in names:
            found[name] = int(value.split()[0])
    missing = set(names) - set(found)
    if missing:
        raise RuntimeError(f"no {', '.join(sorted(missing))} for process {pid}")
    return found


def status_mib(pid: int | str, name: str) -> float:
    """One field of ``/proc/<pid>/status`` given in kB (``VmRSS``, ``VmHWM``...), in MiB."""
    return status_kib(pid, name)[name] / 1024


#: What backs a process's proportional set size, by the name the soak reports it under.
PSS_PARTS = {"anonymous": "Pss_Anon", "files": "Pss_File", "shared": "Pss_Shmem"}


def pss_parts_kib(pid: int | str) -> dict[str, int]:
    """``pid``'s proportional set size by what backs it (:data:`PSS_PARTS`), in kB.

    Anonymous: heaps, stacks; files: mapped files (libraries, a JVM's mapped
    index and log files); shared: shared memory (PostgreSQL's shared buffers).
    The three sum to ``Pss``.
    """
    fields = rollup_kib(pid, *PSS_PARTS.values())
    return {part: fields[field] for part, field in PSS_PARTS.items()}


def resident_split(pid: int | str = "self") -> ResidentSplit:
    """``pid``'s resident memory split into mapped files and anonymous memory."""
    fields = status_kib(pid, "RssFile", "RssAnon")
    return ResidentSplit(fields["RssFile"] * 1024, fields["RssAnon"] * 1024)


@functools.cache
def _mallctl() -> Callable[..., int] | None:
    # jemalloc built to replace malloc (Debian's libjemalloc2, preloaded) exports an
    # unprefixed ``mallctl`` into the process's global symbols; glibc has none.
    function: Any = getattr(ctypes.CDLL(None), "mallctl", None)
    if function is None:
        return None
    function.restype = ctypes.c_int
    function.argtypes = [
        ctypes.c_char_p,
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_size_t),
        ctypes.c_void_p,
        ctypes.c_size_t,
    ]
    return function


def jemalloc_totals() -> dict[str, int] | None:
    """jemalloc's :data:`TOTALS` now, in bytes; ``None`` when the process is not on jemalloc."""
    mallctl = _mallctl()
    if mallctl is None:
        return None
    # The totals are a snapshot taken at each epoch: advance it first.
    epoch = ctypes.c_uint64(1)
    size = ctypes.c_size_t(ctypes.sizeof(epoch))
    if mallctl(b"epoch", None, None, ctypes.byref(epoch), size) != 0:
        return None
    totals = {}
    for name in TOTALS:
        value = ctypes.c_size_t(0)
        size = ctypes.c_size_t(ctypes.sizeof(value))
        if mallctl(f"stats.{name}".encode(), ctypes.byref(value), ctypes.byref(size), None, 0):
            return None
        totals[name] = value.value
    return totals
