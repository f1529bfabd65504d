"""PostgreSQL: Debian's server package, one cluster of our own run as `postgres`.

The package is installed with apt-get when missing (without starting Debian's
default cluster); our cluster lives under STACK_HOME, listens on 127.0.0.1
only, and holds the application's role and database.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

from stack.messages import StackError, say
from stack.prerequisites import apt_install
from stack.processes import (
    STOP_TIMEOUT,
    PidFile,
    as_user,
    chown_tree,
    make_dir,
    pid_alive,
    port_in_use,
    port_taken_error,
    run,
    signal_pid,
    wait_for_exit,
    wait_healthy,
)
from stack.service import Service

PG_USER = "postgres"
PG_MARKER = "postgres"
PG_START_TIMEOUT = 60.0
PG_LIB = Path("/usr/lib/postgresql")

#: Creates (idempotently) the application's role and database; psql variables
#: carry the names and password, quoted by format() rather than by us.
PG_BOOTSTRAP_SQL = r"""
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', :'usr', :'pw')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'usr') \gexec
SELECT format('ALTER ROLE %I LOGIN CREATEDB PASSWORD %L', :'usr', :'pw') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'usr')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
"""


def pg_bindir(root: Path = PG_LIB) -> Path | None:
    """Newest <root>/<major>/bin holding a server, if installed."""
    found = sorted(
        root.glob("*/bin/postgres"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    return found[-1].parent if found else None


def online_cluster_on_port(lsclusters: str, port: int) -> tuple[str, str] | None:
    """(version, name) of the online cluster on `port` in `pg_lsclusters --no-header` output."""
    for line in lsclusters.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[2] == str(port) and fields[3].startswith("online"):
            return fields[0], fields[1]
    return None


def debian_cluster_on_port(port: int) -> tuple[str, str] | None:
    """(version, name) of an online Debian-managed cluster (pg_lsclusters) on `port`."""
    if shutil.which("pg_lsclusters") is None:
        return None
    out = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False
    ).stdout
    return online_cluster_on_port(out, port)


class PostgresServer(Service):
    """Our PostgreSQL cluster, with the application's role and database."""

    name = "postgresql"

    @property
    def data(self) -> Path:
        """Our cluster's data directory."""
        return self.settings.pg / "data"

    @property
    def socket_dir(self) -> Path:
        """Our cluster's unix socket directory."""
        return self.settings.pg / "run"

    @property
    def log(self) -> Path:
        """The server log."""
        return self.settings.logs / "postgres.log"

    @property
    def pidfile(self) -> PidFile:
        """postmaster.pid, written by the server (readable by root)."""
        return PidFile(self.data / "postmaster.pid", PG_MARKER)

    def port(self) -> int:
        """The TCP port."""
        return self.settings.pg_port

    def bindir(self) -> Path:
        """The server's bin directory (installed by provision())."""
        bindir = pg_bindir()
        if bindir is None:
            raise StackError("PostgreSQL is not installed: run `python3 -m stack up`")
        return bindir

    def install(self) -> Path:
        """Install Debian's postgresql package if needed; return the bin directory."""
        bindir = pg_bindir()
        if bindir is not None:
            return bindir
        say("installing PostgreSQL from Debian's packages (apt-get)")
        log = self.settings.logs / "apt.log"
        apt_install(["postgresql"], log, manual="PostgreSQL 15")
        bindir = pg_bindir()
        if bindir is None:
            raise StackError(f"apt-get installed no PostgreSQL server; see {log}")
        return bindir

    def provision(self) -> None:
        """Package, directories and the one-time initdb."""
        bindir = self.install()
        make_dir(self.settings.pg, owner=PG_USER, mode=0o755)
        make_dir(self.socket_dir, owner=PG_USER, mode=0o755)
        data = make_dir(self.data, owner=PG_USER, mode=0o700)
        self.log.touch()
        chown_tree(self.log, PG_USER)
        if not (data / "PG_VERSION").exists():
            self.initdb(bindir)

    def initdb(self, bindir: Path) -> None:
        """Create the cluster: UTF-8, peer auth on the socket, passwords over TCP."""
        say("initialising the PostgreSQL cluster (initdb)")
        run(
            as_user(
                PG_USER,
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    PG_USER,
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--auth-local=peer",
                    "--auth-host=scram-sha-256",
                ],
            ),
            "initdb",
            log=self.settings.logs / "postgres-initdb.log",
            cwd=self.settings.pg,
        )

    def free_port(self) -> None:
        """Stop Debian's default cluster if it holds our port; refuse any other program."""
        port = self.port()
        if not port_in_use(port):
            return
        cluster = debian_cluster_on_port(port)
        if cluster is None:
            raise port_taken_error(self.name, port, "POSTGRES_PORT")
        version, name = cluster
        say(f"stopping Debian's PostgreSQL cluster {version}/{name}, which holds port {port}")
        run(["pg_ctlcluster", version, name, "stop"], f"pg_ctlcluster {version} {name} stop")

    def start(self) -> None:
        """Start our cluster (pg_ctl, no wait) unless it already runs."""
        if self.running():
            return
        self.free_port()
        options = f"-c listen_addresses=127.0.0.1 -p {self.port()} -k {self.socket_dir}"
        run(
            as_user(
                PG_USER,
                [
                    str(self.bindir() / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.log),
                    "-o",
                    options,
                    "-W",
                    "start",
                ],
            ),
            "pg_ctl start",
            log=self.log,
            cwd=self.settings.pg,
        )
        say("started PostgreSQL")

    def wait(self) -> None:
        """Wait until the server accepts connections, then create the role and database.

        `pg_ctl -W` returns before the postmaster has written postmaster.pid; the
        grace period of `wait_healthy` covers that moment.
        """
        wait_healthy(self.name, self.healthy, self.running, PG_START_TIMEOUT, self.log)
        self.bootstrap()

    def bootstrap(self) -> None:
        """Create (idempotently) the application role and database, then log in as that role."""
        s = self.settings
        psql = str(self.bindir() / "psql")
        run(
            as_user(
                PG_USER,
                [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(self.socket_dir)]
                + ["-p", str(s.pg_port), "-d", "postgres", "-v", f"usr={s.pg_user}"]
                + ["-v", f"pw={s.pg_password}", "-v", f"db={s.pg_db}"],
            ),
            "creating the PostgreSQL role and database",
            cwd=s.pg,
            stdin_text=PG_BOOTSTRAP_SQL,
        )
        out = run(
            [psql, "-X", "-tA", "-h", "127.0.0.1", "-p", str(s.pg_port), "-U", s.pg_user]
            + ["-d", s.pg_db, "-c", "SELECT 1"],
            f"logging in to PostgreSQL as {s.pg_user}",
            env={"PGPASSWORD": s.pg_password, "PGCONNECT_TIMEOUT": "5"},
        )
        if out.strip() != "1":
            raise StackError(f"PostgreSQL answered {out.strip()!r} to SELECT 1")

    def stop(self) -> bool:
        """Fast shutdown with pg_ctl; SIGKILL the postmaster if it hangs."""
        pid = self.pid()
        if pid is None:
            return False
        bindir = pg_bindir()
        if bindir is not None:
            self.pg_ctl_stop(bindir)
        if pid_alive(pid, PG_MARKER):
            signal_pid(pid, signal.SIGINT)
            if not wait_for_exit([pid], PG_MARKER, STOP_TIMEOUT):
                say("postgresql did not stop: killing it")
                signal_pid(pid, signal.SIGKILL)
                wait_for_exit([pid], PG_MARKER, 10.0)
        return True

    def pg_ctl_stop(self, bindir: Path) -> None:
        """`pg_ctl stop -m fast`, waiting up to STOP_TIMEOUT; its failures are handled after."""
        subprocess.run(
            as_user(
                PG_USER,
                [str(bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w"]
                + ["-t", str(int(STOP_TIMEOUT)), "stop"],
            ),
            check=False,
            cwd=self.settings.pg,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def running(self) -> bool:
        """True when our postmaster is alive."""
        return self.pidfile.alive()

    def healthy(self) -> bool:
        """pg_isready says the server accepts connections."""
        bindir = pg_bindir()
        if bindir is None:
            return False
        proc = subprocess.run(
            [str(bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port())]
            + ["-t", "2"],
            check=False,
            stdin=subprocess.DEVNULL,
        )
        return proc.returncode == 0

    def pid(self) -> int | None:
        """The postmaster's pid while it runs."""
        return self.pidfile.live_pid()

    def describe(self) -> str:
        """Where PostgreSQL listens."""
        s = self.settings
        bindir = pg_bindir()
        version = bindir.parent.name if bindir else "?"
        return (
            f"postgresql://{s.pg_user}@127.0.0.1:{s.pg_port}/{s.pg_db}, PostgreSQL {version}, "
            f"log {self.log}"
        )
