"""Finding PostgreSQL's binaries and Debian's clusters."""

from __future__ import annotations

from pathlib import Path

from stack.postgres_server import online_cluster_on_port, pg_bindir

LSCLUSTERS = """\
13  main    5433 down   postgres /var/lib/postgresql/13/main /var/log/postgresql/postgresql-13-main.log
15  main    5432 online postgres /var/lib/postgresql/15/main /var/log/postgresql/postgresql-15-main.log
15  replica 5434 online,recovery postgres /var/lib/postgresql/15/replica /var/log/x.log
"""


def test_the_newest_installed_major_version_is_used(tmp_path: Path) -> None:
    for major in ("9", "15", "13"):
        (tmp_path / major / "bin").mkdir(parents=True)
        (tmp_path / major / "bin" / "postgres").touch()
    (tmp_path / "16" / "bin").mkdir(parents=True)  # client only: no server binary

    assert pg_bindir(tmp_path) == tmp_path / "15" / "bin"


def test_no_server_installed_is_none(tmp_path: Path) -> None:
    assert pg_bindir(tmp_path) is None


def test_an_online_cluster_is_found_by_its_port() -> None:
    assert online_cluster_on_port(LSCLUSTERS, 5432) == ("15", "main")
    assert online_cluster_on_port(LSCLUSTERS, 5434) == ("15", "replica")


def test_a_cluster_that_is_down_does_not_hold_its_port() -> None:
    assert online_cluster_on_port(LSCLUSTERS, 5433) is None
    assert online_cluster_on_port(LSCLUSTERS, 25432) is None
