#!/usr/bin/env python3
"""Native service stack of the streaming backbone: Kafka, PostgreSQL, Elasticsearch.

Runs with the standard library only (it runs before any virtualenv exists) and
must run as root (it creates a system user and starts services as other users).

    python3 stack/stackctl.py up        # provision on first use, start, wait until healthy
    python3 stack/stackctl.py status    # one line per service
    python3 stack/stackctl.py down      # stop everything this script started
    python3 stack/stackctl.py clean     # down + wipe data and logs (keeps downloads)
    python3 stack/stackctl.py logs-dir  # print where the logs are

Every service listens on 127.0.0.1. Ports come from the application's own
environment variables (defaults in brackets): KAFKA_BOOTSTRAP_SERVERS
[127.0.0.1:9092], KAFKA_CONTROLLER_PORT [9093], POSTGRES_PORT [5432],
POSTGRES_USER [user], POSTGRES_PASSWORD [password], POSTGRES_DB [streaming_db],
ELASTICSEARCH_HOST [http://127.0.0.1:9200].

All service files live outside the checkout (CI may clone it into a directory the
service users cannot traverse), under STACK_HOME [/var/lib/streaming-stack]:

    downloads/elasticsearch-<v>.zip   download cache (kept by `clean`)
    build/kafka/                      Maven build of the broker classpath (kept)
    kafka/libs/                       broker classpath, from stack/kafka/pom.xml (kept)
    kafka/config/                     server.properties, log4j2.properties
    kafka/data/                       KRaft metadata and topic logs
    kafka/kafka.pid
    elasticsearch/elasticsearch-<v>/  unzipped distribution (kept), owned by streaming-es
    elasticsearch/config/             ES_PATH_CONF: elasticsearch.yml, jvm.options.d/
    elasticsearch/{data,logs,tmp,run}/  data, ES's own log files, ES_TMPDIR, pid files
    postgres/data/                    initdb cluster, owned by postgres
    postgres/run/                     unix socket directory
    logs/kafka.log                    broker log (log4j2), kafka.out: JVM console
    logs/elasticsearch.log            Elasticsearch console output
    logs/postgres.log                 PostgreSQL server log
    logs/maven.log, logs/apt.log      provisioning output

Kafka runs as root, Elasticsearch as the system user `streaming-es`, PostgreSQL
as `postgres` (Debian's package, installed with apt-get when missing).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

STACK_DIR = Path(__file__).resolve().parent
KAFKA_POM = STACK_DIR / "kafka" / "pom.xml"
KAFKA_LOG4J = STACK_DIR / "kafka" / "log4j2.properties"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.11.0"

ES_VERSION = "8.19.21"
ES_ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{ES_VERSION}:zip"
ES_USER = "streaming-es"
PG_USER = "postgres"
KAFKA_CLUSTER_ID = "c3RyZWFtaW5nLXN0YWNrMQ"  # base64url of b"streaming-stack1": 22 chars

KAFKA_MARKER = "kafka.Kafka"
ES_MARKER = "org.elasticsearch"
PG_MARKER = "postgres"

KAFKA_START_TIMEOUT = 90.0
ES_START_TIMEOUT = 120.0
PG_START_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0
#: How long a starting service may look dead before `up` gives up on it: right
#: after the fork a JVM's command line is still ours, and `pg_ctl -W` returns
#: before postmaster.pid exists.
DEATH_GRACE_S = 5.0


class StackError(Exception):
    """A problem the operator can fix; printed as one line, exit status 1."""


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    """Where everything lives and which ports the services use."""

    home: Path
    kafka_port: int
    kafka_controller_port: int
    pg_port: int
    pg_user: str
    pg_password: str
    pg_db: str
    es_port: int

    @property
    def logs(self) -> Path:
        """Directory of every service log."""
        return self.home / "logs"

    @property
    def downloads(self) -> Path:
        """Download cache, kept by `clean`."""
        return self.home / "downloads"

    @property
    def kafka(self) -> Path:
        """Kafka's root: libs, config, data, pid file."""
        return self.home / "kafka"

    @property
    def es(self) -> Path:
        """Elasticsearch's root: install, config, data, pid files."""
        return self.home / "elasticsearch"

    @property
    def es_install(self) -> Path:
        """The unzipped Elasticsearch distribution."""
        return self.es / f"elasticsearch-{ES_VERSION}"

    @property
    def pg(self) -> Path:
        """PostgreSQL's root: data directory and socket directory."""
        return self.home / "postgres"


def env_port(name: str, value: str) -> int:
    """Parse a port number taken from environment variable `name`."""
    try:
        port = int(value)
    except ValueError:
        raise StackError(f"{name}: {value!r} does not end in a port number") from None
    if not 0 < port < 65536:
        raise StackError(f"{name}: port {port} is out of range")
    return port


def kafka_port_from_env() -> int:
    """Port of the first address in KAFKA_BOOTSTRAP_SERVERS."""
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    first = servers.split(",")[0].strip()
    first = first.split("://", 1)[-1]
    return env_port("KAFKA_BOOTSTRAP_SERVERS", first.rsplit(":", 1)[-1])


def es_port_from_env() -> int:
    """Port of the ELASTICSEARCH_HOST URL (9200 when the URL has none)."""
    url = os.environ.get("ELASTICSEARCH_HOST", "http://127.0.0.1:9200")
    if "://" not in url:
        url = "http://" + url
    try:
        port = urllib.parse.urlsplit(url).port
    except ValueError:
        raise StackError(f"ELASTICSEARCH_HOST: cannot read a port in {url!r}") from None
    return port or 9200


def load_settings() -> Settings:
    """Read STACK_HOME and the contract's environment variables."""
    env = os.environ
    return Settings(
        home=Path(env.get("STACK_HOME", "/var/lib/streaming-stack")).absolute(),
        kafka_port=kafka_port_from_env(),
        kafka_controller_port=env_port(
            "KAFKA_CONTROLLER_PORT", env.get("KAFKA_CONTROLLER_PORT", "9093")
        ),
        pg_port=env_port("POSTGRES_PORT", env.get("POSTGRES_PORT", "5432")),
        pg_user=env.get("POSTGRES_USER", "user"),
        pg_password=env.get("POSTGRES_PASSWORD", "password"),
        pg_db=env.get("POSTGRES_DB", "streaming_db"),
        es_port=es_port_from_env(),
    )


# --------------------------------------------------------------------------- small helpers


def say(message: str) -> None:
    """Progress message on stderr (stdout carries the one-line-per-service result)."""
    print(f"stackctl: {message}", file=sys.stderr, flush=True)


def require_root() -> None:
    """Refuse to go on unless running as root."""
    if os.geteuid() != 0:
        raise StackError("must run as root (it creates users and starts services as them)")


def require_tool(name: str, install_hint: str) -> str:
    """Absolute path of an executable on PATH, or a StackError naming what to install."""
    path = shutil.which(name)
    if path is None:
        raise StackError(f"`{name}` not found on PATH: install it ({install_hint})")
    return path


def run(
    cmd: Sequence[str],
    what: str,
    log: Path | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdin_text: str | None = None,
    timeout: float = 600.0,
) -> str:
    """Run a command to completion; return its stdout or raise one clear StackError.

    With `log`, output is appended there (and the error names the log);
    otherwise it is captured and its last line ends up in the error.
    """
    try:
        with contextlib.ExitStack() as stack:
            out: IO[str] | int = subprocess.PIPE
            if log is not None:
                out = stack.enter_context(log.open("a"))
                out.write(f"\n$ {' '.join(cmd)}\n")
                out.flush()
            proc = subprocess.run(
                cmd,
                check=False,
                text=True,
                timeout=timeout,
                cwd=cwd,
                env={**os.environ, **(env or {})},
                input=stdin_text if stdin_text is not None else "",
                stdout=out,
                stderr=subprocess.STDOUT if log is not None else subprocess.PIPE,
            )
    except subprocess.TimeoutExpired:
        raise StackError(f"{what}: timed out after {timeout:.0f} s") from None
    except OSError as exc:
        raise StackError(f"{what}: cannot run {cmd[0]}: {exc.strerror}") from None
    if proc.returncode != 0:
        if log is not None:
            raise StackError(f"{what} failed (exit {proc.returncode}); see {log}")
        lines = (proc.stderr or proc.stdout or "").strip().splitlines()
        detail = lines[-1] if lines else f"exit {proc.returncode}"
        raise StackError(f"{what} failed: {detail}")
    return proc.stdout or ""


def as_user(user: str, cmd: Sequence[str]) -> list[str]:
    """Wrap a command so that it runs as `user` (runuser exec's it without a shell)."""
    return ["runuser", "-u", user, "--", *cmd]


def chown_tree(path: Path, user: str) -> None:
    """Give a directory tree (or a file) to `user` and their primary group."""
    entry = pwd.getpwnam(user)
    targets: Iterator[Path] = iter([path])
    if path.is_dir():
        targets = iter([path, *path.rglob("*")])
    for target in targets:
        os.lchown(target, entry.pw_uid, entry.pw_gid)


def make_dir(path: Path, owner: str | None = None, mode: int = 0o755) -> Path:
    """Create a directory (and parents) with a mode and, optionally, an owner."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(mode)
    if owner is not None:
        entry = pwd.getpwnam(owner)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def check_traversable(path: Path) -> None:
    """Every ancestor of STACK_HOME must be searchable by the service users."""
    for parent in path.parents:
        if parent.exists() and not parent.stat().st_mode & 0o001:
            raise StackError(
                f"{parent} is not traversable by other users (mode "
                f"{oct(parent.stat().st_mode & 0o777)}): the postgres and {ES_USER} users "
                f"cannot reach STACK_HOME={path}; choose another STACK_HOME"
            )


@contextlib.contextmanager
def stack_lock(settings: Settings) -> Iterator[None]:
    """Serialise concurrent stackctl runs on one STACK_HOME."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with (settings.home / "stackctl.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


# --------------------------------------------------------------------------- processes


def read_pid(pidfile: Path) -> int | None:
    """The pid in the first line of a pid file, if there is one."""
    try:
        first = pidfile.read_text().split("\n", 1)[0].strip()
    except (FileNotFoundError, PermissionError):
        return None
    return int(first) if first.isdigit() else None


def pid_alive(pid: int | None, marker: str) -> bool:
    """True when `pid` is a live (non-zombie) process whose command line has `marker`."""
    if pid is None:
        return False
    proc = Path("/proc") / str(pid)
    try:
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X") and marker in cmdline


def signal_pid(pid: int, sig: signal.Signals) -> None:
    """Send a signal, ignoring processes that are already gone."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def signal_group(pgid: int, sig: signal.Signals) -> None:
    """Send a signal to a whole process group, ignoring groups that are gone."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def wait_for_exit(pids: Sequence[int], marker: str, timeout: float) -> bool:
    """Wait until none of `pids` is alive; False when the deadline passes first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(pid_alive(pid, marker) for pid in pids):
            return True
        time.sleep(0.2)
    return not any(pid_alive(pid, marker) for pid in pids)


def stop_process(name: str, pidfile: Path, marker: str, group_pidfile: Path | None = None) -> bool:
    """SIGTERM the process of a pid file, wait, then SIGKILL its process group after a deadline.

    `group_pidfile` names the session leader we spawned (e.g. runuser) when the pid
    file is written by the service itself; the service is signalled, not the leader
    (runuser answers SIGTERM by killing its child after 2 s). Returns True when
    something was running.
    """
    pid = read_pid(pidfile)
    leader = read_pid(group_pidfile) if group_pidfile else None
    service_alive = pid_alive(pid, marker)
    leader_alive = pid_alive(leader, "")
    if service_alive and pid is not None:
        signal_pid(pid, signal.SIGTERM)
    elif leader_alive and leader is not None:
        signal_pid(leader, signal.SIGTERM)
    watched = [p for p, alive in ((pid, service_alive), (leader, leader_alive)) if alive and p]
    if watched and not wait_for_exit(watched, "", STOP_TIMEOUT):
        say(f"{name} did not stop within {STOP_TIMEOUT:.0f} s: killing it")
        for target in watched:
            signal_group(leader or target, signal.SIGKILL)
            signal_pid(target, signal.SIGKILL)
        wait_for_exit(watched, "", 10.0)
    pidfile.unlink(missing_ok=True)
    if group_pidfile:
        group_pidfile.unlink(missing_ok=True)
    return bool(watched)


def spawn(cmd: Sequence[str], log: Path, cwd: Path, env: dict[str, str] | None = None) -> int:
    """Start a long-running process in its own session, output appended to `log`."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    return proc.pid


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0


def port_taken_error(service: str, port: int, env_var: str) -> StackError:
    """The one-line error for a port held by a program that is not ours."""
    return StackError(
        f"{service}: port {port} on 127.0.0.1 is taken by another program; "
        f"stop it or set {env_var} to use another port"
    )


def wait_healthy(
    name: str,
    healthy: Callable[[], bool],
    alive: Callable[[], bool],
    timeout: float,
    log: Path,
) -> None:
    """Poll `healthy` until it answers; fail early if the process stays dead.

    A process only counts as dead after DEATH_GRACE_S of failed checks (see
    there); a busy machine can stretch the moments it covers.
    """
    deadline = time.monotonic() + timeout
    dead_since: float | None = None
    while time.monotonic() < deadline:
        if healthy():
            return
        if alive():
            dead_since = None
        elif dead_since is None:
            dead_since = time.monotonic()
        elif time.monotonic() - dead_since > DEATH_GRACE_S:
            raise StackError(f"{name} exited during startup; see {log}")
        time.sleep(0.5)
    raise StackError(f"{name} did not become healthy within {timeout:.0f} s; see {log}")


# --------------------------------------------------------------------------- java and maven


def java_major(java: Path) -> int:
    """Feature version of a Java runtime (17 for "17.0.15")."""
    out = subprocess.run(
        [str(java), "-version"], capture_output=True, text=True, check=False
    ).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        raise StackError(f"cannot read the version of {java}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def find_java_home() -> Path:
    """Java 17+ home: ES_JAVA_HOME, else JAVA_HOME, else the `java` on PATH."""
    hint = "apt-get install -y openjdk-17-jre-headless, or set JAVA_HOME"
    for var in ("ES_JAVA_HOME", "JAVA_HOME"):
        value = os.environ.get(var)
        if value and (Path(value) / "bin" / "java").exists():
            home = Path(value)
            break
    else:
        home = Path(os.path.realpath(require_tool("java", hint))).parents[1]
    major = java_major(home / "bin" / "java")
    if major < 17:
        raise StackError(f"{home} is Java {major}; Kafka 4 and Elasticsearch 8 need 17+ ({hint})")
    return home


def maven() -> str:
    """Path of `mvn`, or a StackError naming the package to install."""
    return require_tool("mvn", "apt-get install -y maven")


# --------------------------------------------------------------------------- Kafka


def kafka_pidfile(s: Settings) -> Path:
    """Pid file of the broker JVM."""
    return s.kafka / "kafka.pid"


def kafka_version() -> str:
    """The broker version pinned in stack/kafka/pom.xml."""
    match = re.search(r"<kafka.version>([^<]+)</kafka.version>", KAFKA_POM.read_text())
    return match.group(1) if match else "?"


def kafka_libs_current(s: Settings) -> bool:
    """True when $STACK_HOME/kafka/libs was built from the current pom.xml."""
    stamp = s.kafka / "libs" / ".pom.sha256"
    digest = hashlib.sha256(KAFKA_POM.read_bytes()).hexdigest()
    return stamp.exists() and stamp.read_text().strip() == digest


def kafka_build_libs(s: Settings) -> None:
    """Resolve the broker classpath with Maven and install it to $STACK_HOME/kafka/libs."""
    say(f"building the Kafka {kafka_version()} classpath with Maven (first run downloads)")
    build_dir = s.home / "build" / "kafka"
    shutil.rmtree(build_dir / "libs", ignore_errors=True)
    run(
        [maven(), "-B", "-q", "-f", str(KAFKA_POM), "package", f"-Dkafka.build.dir={build_dir}"],
        "Maven build of the Kafka classpath",
        log=s.logs / "maven.log",
    )
    libs = s.kafka / "libs"
    shutil.rmtree(libs, ignore_errors=True)
    shutil.copytree(build_dir / "libs", libs)
    (libs / ".pom.sha256").write_text(hashlib.sha256(KAFKA_POM.read_bytes()).hexdigest())


def kafka_server_properties(s: Settings) -> str:
    """server.properties of the single KRaft node (broker + controller)."""
    data = s.kafka / "data"
    return f"""# Written by stack/stackctl.py on every `up`; edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{s.kafka_controller_port}
listeners=PLAINTEXT://127.0.0.1:{s.kafka_port},CONTROLLER://127.0.0.1:{s.kafka_controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{s.kafka_port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={data}
metadata.log.dir={data}
num.partitions=8
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
message.max.bytes=4194304
replica.fetch.max.bytes=4194304
log.retention.hours=168
"""


def kafka_java_cmd(s: Settings, java_home: Path, main: str, *args: str) -> list[str]:
    """A `java -cp 'libs/*' <main>` command line with our logging configuration."""
    return [
        str(java_home / "bin" / "java"),
        "-Xms512m",
        "-Xmx512m",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={s.kafka / 'config' / 'log4j2.properties'}",
        f"-Dkafka.logs.dir={s.logs}",
        "-cp",
        str(s.kafka / "libs") + "/*",
        main,
        *args,
    ]


def kafka_provision(s: Settings, java_home: Path) -> None:
    """Classpath, configuration, and the one-time KRaft storage format."""
    if not kafka_libs_current(s):
        kafka_build_libs(s)
    config = make_dir(s.kafka / "config")
    (config / "server.properties").write_text(kafka_server_properties(s))
    shutil.copyfile(KAFKA_LOG4J, config / "log4j2.properties")
    data = make_dir(s.kafka / "data")
    if not (data / "meta.properties").exists():
        say("formatting Kafka's KRaft storage")
        run(
            kafka_java_cmd(
                s,
                java_home,
                "kafka.tools.StorageTool",
                "format",
                "-g",
                "-t",
                KAFKA_CLUSTER_ID,
                "-c",
                str(config / "server.properties"),
            ),
            "Kafka storage format",
            log=s.logs / "kafka.out",
        )


def kafka_request(port: int, api_key: int, version: int, body: bytes) -> bytes | None:
    """Send one Kafka request (header v1) and return the response body, or None."""
    client_id = b"stackctl"
    header = struct.pack(">hhih", api_key, version, 7, len(client_id)) + client_id
    payload = header + body
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3.0) as sock:
            sock.sendall(struct.pack(">i", len(payload)) + payload)
            size = struct.unpack(">i", recv_exact(sock, 4))[0]
            response = recv_exact(sock, size)
    except (OSError, struct.error, ConnectionError):
        return None
    if struct.unpack(">i", response[:4])[0] != 7:
        return None
    return response[4:]


def recv_exact(sock: socket.socket, size: int) -> bytes:
    """Read exactly `size` bytes from a socket."""
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("connection closed")
        chunks += chunk
    return bytes(chunks)


def kafka_healthy(s: Settings) -> bool:
    """ApiVersions answers without error and Metadata lists at least one live broker."""
    body = kafka_request(s.kafka_port, 18, 0, b"")  # ApiVersions v0
    if body is None or len(body) < 6 or struct.unpack(">h", body[:2])[0] != 0:
        return False
    count = struct.unpack(">i", body[2:6])[0]
    ranges = {}
    for i in range(count):
        key, low, high = struct.unpack(">hhh", body[6 + 6 * i : 12 + 6 * i])
        ranges[key] = (low, high)
    low, high = ranges.get(3, (0, -1))
    if not low <= 4 <= high:
        return True  # a future broker without Metadata v4: ApiVersions is proof enough
    meta = kafka_request(s.kafka_port, 3, 4, struct.pack(">ib", 0, 0))  # no topics
    return meta is not None and len(meta) >= 8 and struct.unpack(">i", meta[4:8])[0] >= 1


def kafka_running(s: Settings) -> bool:
    """True when our broker JVM is alive."""
    return pid_alive(read_pid(kafka_pidfile(s)), KAFKA_MARKER)


def kafka_start(s: Settings, java_home: Path) -> None:
    """Start the broker unless it already runs; refuse ports held by other programs."""
    if kafka_running(s):
        return
    for port, var in (
        (s.kafka_port, "KAFKA_BOOTSTRAP_SERVERS"),
        (s.kafka_controller_port, "KAFKA_CONTROLLER_PORT"),
    ):
        if port_in_use(port):
            raise port_taken_error("kafka", port, var)
    config = s.kafka / "config" / "server.properties"
    pid = spawn(
        kafka_java_cmd(s, java_home, "kafka.Kafka", str(config)), s.logs / "kafka.out", cwd=s.kafka
    )
    kafka_pidfile(s).write_text(f"{pid}\n")
    say(f"started Kafka (pid {pid})")


def kafka_wait(s: Settings) -> None:
    """Wait until the broker answers the Kafka protocol."""
    wait_healthy(
        "kafka",
        lambda: kafka_healthy(s),
        lambda: kafka_running(s),
        KAFKA_START_TIMEOUT,
        s.logs / "kafka.log",
    )


def kafka_stop(s: Settings) -> bool:
    """Stop the broker (controlled shutdown on SIGTERM)."""
    return stop_process("kafka", kafka_pidfile(s), KAFKA_MARKER)


def kafka_describe(s: Settings) -> str:
    """Where Kafka listens."""
    return (
        f"PLAINTEXT://127.0.0.1:{s.kafka_port} (controller 127.0.0.1:"
        f"{s.kafka_controller_port}), Kafka {kafka_version()}, log {s.logs / 'kafka.log'}"
    )


# --------------------------------------------------------------------------- Elasticsearch


def es_pidfile(s: Settings) -> Path:
    """Pid file written by Elasticsearch itself (-p): the server JVM."""
    return s.es / "run" / "elasticsearch.pid"


def es_launcher_pidfile(s: Settings) -> Path:
    """Pid of the runuser process we spawned: the leader of ES's process group."""
    return s.es / "run" / "launcher.pid"


def ensure_system_user(name: str, home: Path) -> None:
    """Create a locked system user (and group) unless it exists."""
    try:
        pwd.getpwnam(name)
        return
    except KeyError:
        pass
    require_tool("useradd", "apt-get install -y passwd")
    run(
        [
            "useradd",
            "--system",
            "--user-group",
            "--no-create-home",
            "--home-dir",
            str(home),
            "--shell",
            "/usr/sbin/nologin",
            name,
        ],
        f"creating system user {name}",
    )


def es_download(s: Settings) -> Path:
    """The distribution zip, fetched from Maven Central into downloads/ once."""
    target = s.downloads / f"elasticsearch-{ES_VERSION}.zip"
    if target.exists():
        return target
    say(f"downloading Elasticsearch {ES_VERSION} from Maven Central")
    make_dir(s.downloads)
    run(
        [
            maven(),
            "-B",
            "-q",
            f"{DEPENDENCY_PLUGIN}:copy",
            f"-Dartifact={ES_ARTIFACT}",
            f"-DoutputDirectory={s.downloads}",
        ],
        "download of Elasticsearch",
        log=s.logs / "maven.log",
        cwd=s.downloads,
    )
    if not target.exists():
        raise StackError(f"Maven did not produce {target}; see {s.logs / 'maven.log'}")
    return target


def unzip_with_modes(archive: Path, dest: Path) -> None:
    """Extract a zip keeping the Unix permission bits (zipfile drops them)."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            path = Path(zf.extract(info, dest))
            mode = (info.external_attr >> 16) & 0o7777
            if mode:
                path.chmod(mode)


def es_install(s: Settings) -> None:
    """Unzip the distribution into $STACK_HOME/elasticsearch once."""
    if (s.es_install / "bin" / "elasticsearch").exists():
        return
    archive = es_download(s)
    staging = s.es / "unzip.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    unzip_with_modes(archive, staging)
    (staging / s.es_install.name).rename(s.es_install)
    staging.rmdir()
    chown_tree(s.es_install, ES_USER)


def es_config_yml(s: Settings) -> str:
    """elasticsearch.yml of the single development node."""
    return f"""# Written by stack/stackctl.py on every `up`; edits are overwritten.
cluster.name: streaming-stack
node.name: streaming-stack-1
path.data: {s.es / "data"}
path.logs: {s.es / "logs"}
discovery.type: single-node
network.host: 127.0.0.1
http.port: {s.es_port}
xpack.security.enabled: false
node.store.allow_mmap: false
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
"""


def es_provision(s: Settings) -> None:
    """User, install, config directory (ES_PATH_CONF) and data directories."""
    ensure_system_user(ES_USER, s.es)
    make_dir(s.es)
    es_install(s)
    config = s.es / "config"
    if not config.exists():
        shutil.copytree(s.es_install / "config", config)
    (config / "elasticsearch.yml").write_text(es_config_yml(s))
    make_dir(config / "jvm.options.d")
    (config / "jvm.options.d" / "heap.options").write_text("-Xms512m\n-Xmx512m\n")
    for sub in ("data", "logs", "tmp", "run"):
        make_dir(s.es / sub, owner=ES_USER, mode=0o750)
    chown_tree(config, ES_USER)


def es_get(s: Settings, path: str) -> dict[str, object] | None:
    """GET a JSON document from the local Elasticsearch, or None when it does not answer."""
    url = f"http://127.0.0.1:{s.es_port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=3.0) as response:
            data = json.load(response)
    except (OSError, urllib.error.URLError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def es_healthy(s: Settings) -> bool:
    """Cluster health is yellow or green."""
    health = es_get(s, "/_cluster/health?timeout=2s")
    return health is not None and health.get("status") in ("yellow", "green")


def es_running(s: Settings) -> bool:
    """True when our Elasticsearch (server JVM or its launcher) is alive."""
    return pid_alive(read_pid(es_pidfile(s)), ES_MARKER) or pid_alive(
        read_pid(es_launcher_pidfile(s)), "runuser"
    )


def es_start(s: Settings, java_home: Path) -> None:
    """Start Elasticsearch as streaming-es unless it already runs."""
    if es_running(s):
        return
    if port_in_use(s.es_port):
        raise port_taken_error("elasticsearch", s.es_port, "ELASTICSEARCH_HOST")
    es_pidfile(s).unlink(missing_ok=True)
    cmd = as_user(
        ES_USER,
        [
            "env",
            f"ES_JAVA_HOME={java_home}",
            f"ES_PATH_CONF={s.es / 'config'}",
            f"ES_TMPDIR={s.es / 'tmp'}",
            "ES_JAVA_OPTS=-Xms512m -Xmx512m",
            str(s.es_install / "bin" / "elasticsearch"),
            "-p",
            str(es_pidfile(s)),
        ],
    )
    pid = spawn(cmd, s.logs / "elasticsearch.log", cwd=s.es)
    es_launcher_pidfile(s).write_text(f"{pid}\n")
    say(f"started Elasticsearch (launcher pid {pid})")


def es_wait(s: Settings) -> None:
    """Wait until the cluster health is yellow or green."""
    wait_healthy(
        "elasticsearch",
        lambda: es_healthy(s),
        lambda: es_running(s),
        ES_START_TIMEOUT,
        s.logs / "elasticsearch.log",
    )


def es_stop(s: Settings) -> bool:
    """Stop the server JVM, its CLI launcher and runuser."""
    return stop_process("elasticsearch", es_pidfile(s), ES_MARKER, es_launcher_pidfile(s))


def es_describe(s: Settings) -> str:
    """Where Elasticsearch listens."""
    return (
        f"http://127.0.0.1:{s.es_port}, Elasticsearch {ES_VERSION}, "
        f"log {s.logs / 'elasticsearch.log'}"
    )


# --------------------------------------------------------------------------- PostgreSQL


def pg_bindir() -> Path | None:
    """Newest /usr/lib/postgresql/<major>/bin holding a server, if installed."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    return found[-1].parent if found else None


def pg_install(log: Path) -> Path:
    """Install Debian's postgresql package if needed, without starting its default cluster."""
    bindir = pg_bindir()
    if bindir is not None:
        return bindir
    require_tool("apt-get", "a Debian-based system with apt-get, or install PostgreSQL 15")
    say("installing PostgreSQL from Debian's packages (apt-get)")
    policy = Path("/usr/sbin/policy-rc.d")
    created_policy = not policy.exists()
    if created_policy:
        policy.write_text("#!/bin/sh\n# stackctl: do not start services during install\nexit 101\n")
        policy.chmod(0o755)
    try:
        env = {"DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update"], "apt-get update", log=log, env=env)
        run(
            ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"],
            "apt-get install postgresql",
            log=log,
            env=env,
        )
    finally:
        if created_policy:
            policy.unlink(missing_ok=True)
    bindir = pg_bindir()
    if bindir is None:
        raise StackError(f"apt-get installed no PostgreSQL server; see {log}")
    return bindir


def pg_data(s: Settings) -> Path:
    """Our cluster's data directory."""
    return s.pg / "data"


def pg_socket_dir(s: Settings) -> Path:
    """Our cluster's unix socket directory."""
    return s.pg / "run"


def pg_pid(s: Settings) -> int | None:
    """Postmaster pid from postmaster.pid (readable by root)."""
    return read_pid(pg_data(s) / "postmaster.pid")


def pg_running(s: Settings) -> bool:
    """True when our postmaster is alive."""
    return pid_alive(pg_pid(s), PG_MARKER)


def pg_provision(s: Settings) -> Path:
    """Package, directories and the one-time initdb; returns the bin directory."""
    bindir = pg_install(s.logs / "apt.log")
    make_dir(s.pg, owner=PG_USER, mode=0o755)
    make_dir(pg_socket_dir(s), owner=PG_USER, mode=0o755)
    data = make_dir(pg_data(s), owner=PG_USER, mode=0o700)
    log = s.logs / "postgres.log"
    log.touch()
    chown_tree(log, PG_USER)
    if not (data / "PG_VERSION").exists():
        say("initialising the PostgreSQL cluster (initdb)")
        run(
            as_user(
                PG_USER,
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
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
            log=s.logs / "postgres-initdb.log",
            cwd=s.pg,
        )
    return bindir


def debian_cluster_on_port(port: int) -> tuple[str, str] | None:
    """(version, name) of an online Debian-managed cluster (pg_lsclusters) on `port`."""
    if shutil.which("pg_lsclusters") is None:
        return None
    out = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False
    ).stdout
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[2] == str(port) and fields[3].startswith("online"):
            return fields[0], fields[1]
    return None


def pg_free_port(s: Settings) -> None:
    """Stop Debian's default cluster if it holds our port; refuse any other program."""
    if not port_in_use(s.pg_port):
        return
    cluster = debian_cluster_on_port(s.pg_port)
    if cluster is None:
        raise port_taken_error("postgresql", s.pg_port, "POSTGRES_PORT")
    version, name = cluster
    say(f"stopping Debian's PostgreSQL cluster {version}/{name}, which holds port {s.pg_port}")
    run(["pg_ctlcluster", version, name, "stop"], f"pg_ctlcluster {version} {name} stop")


def pg_start(s: Settings, bindir: Path) -> None:
    """Start our cluster (pg_ctl, no wait) unless it already runs."""
    if pg_running(s):
        return
    pg_free_port(s)
    options = f"-c listen_addresses=127.0.0.1 -p {s.pg_port} -k {pg_socket_dir(s)}"
    run(
        as_user(
            PG_USER,
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(pg_data(s)),
                "-l",
                str(s.logs / "postgres.log"),
                "-o",
                options,
                "-W",
                "start",
            ],
        ),
        "pg_ctl start",
        log=s.logs / "postgres.log",
        cwd=s.pg,
    )
    say("started PostgreSQL")


def pg_healthy(s: Settings, bindir: Path) -> bool:
    """pg_isready says the server accepts connections."""
    proc = subprocess.run(
        [str(bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(s.pg_port), "-t", "2"],
        check=False,
        stdin=subprocess.DEVNULL,
    )
    return proc.returncode == 0


def pg_wait(s: Settings, bindir: Path) -> None:
    """Wait until the server accepts connections.

    `pg_ctl -W` returns before the postmaster has written postmaster.pid; the
    grace period of `wait_healthy` covers that moment.
    """
    wait_healthy(
        "postgresql",
        lambda: pg_healthy(s, bindir),
        lambda: pg_running(s),
        PG_START_TIMEOUT,
        s.logs / "postgres.log",
    )


PG_BOOTSTRAP_SQL = r"""
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', :'usr', :'pw')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'usr') \gexec
SELECT format('ALTER ROLE %I LOGIN CREATEDB PASSWORD %L', :'usr', :'pw') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'usr')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
"""


def pg_bootstrap(s: Settings, bindir: Path) -> None:
    """Create (idempotently) the application role and database, then log in as that role."""
    run(
        as_user(
            PG_USER,
            [
                str(bindir / "psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(pg_socket_dir(s)),
                "-p",
                str(s.pg_port),
                "-d",
                "postgres",
                "-v",
                f"usr={s.pg_user}",
                "-v",
                f"pw={s.pg_password}",
                "-v",
                f"db={s.pg_db}",
            ],
        ),
        "creating the PostgreSQL role and database",
        cwd=s.pg,
        stdin_text=PG_BOOTSTRAP_SQL,
    )
    out = run(
        [
            str(bindir / "psql"),
            "-X",
            "-tA",
            "-h",
            "127.0.0.1",
            "-p",
            str(s.pg_port),
            "-U",
            s.pg_user,
            "-d",
            s.pg_db,
            "-c",
            "SELECT 1",
        ],
        f"logging in to PostgreSQL as {s.pg_user}",
        env={"PGPASSWORD": s.pg_password, "PGCONNECT_TIMEOUT": "5"},
    )
    if out.strip() != "1":
        raise StackError(f"PostgreSQL answered {out.strip()!r} to SELECT 1")


def pg_stop(s: Settings) -> bool:
    """Fast shutdown with pg_ctl; SIGKILL the postmaster if it hangs."""
    if not pg_running(s):
        return False
    bindir = pg_bindir()
    pid = pg_pid(s)
    if bindir is not None:
        subprocess.run(
            as_user(
                PG_USER,
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(pg_data(s)),
                    "-m",
                    "fast",
                    "-w",
                    "-t",
                    str(int(STOP_TIMEOUT)),
                    "stop",
                ],
            ),
            check=False,
            cwd=s.pg,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    if pid is not None and pid_alive(pid, PG_MARKER):
        signal_pid(pid, signal.SIGINT)
        if not wait_for_exit([pid], PG_MARKER, STOP_TIMEOUT):
            say("postgresql did not stop: killing it")
            signal_pid(pid, signal.SIGKILL)
            wait_for_exit([pid], PG_MARKER, 10.0)
    return True


def pg_describe(s: Settings) -> str:
    """Where PostgreSQL listens."""
    bindir = pg_bindir()
    version = bindir.parent.name if bindir else "?"
    return (
        f"postgresql://{s.pg_user}@127.0.0.1:{s.pg_port}/{s.pg_db}, PostgreSQL {version}, "
        f"log {s.logs / 'postgres.log'}"
    )


# --------------------------------------------------------------------------- commands


def prepare_home(s: Settings) -> None:
    """Create STACK_HOME and its logs directory, traversable by the service users."""
    check_traversable(s.home)
    for path in (s.home, s.logs, s.kafka, s.downloads):
        make_dir(path)


def service_line(name: str, state: str, where: str) -> str:
    """One aligned line of `up`/`status` output."""
    return f"{name:<15}{state:<10}{where}"


def cmd_up(s: Settings) -> None:
    """Provision what is missing, start what is stopped, wait until all answer."""
    require_root()
    with stack_lock(s):
        prepare_home(s)
        java_home = find_java_home()
        kafka_provision(s, java_home)
        es_provision(s)
        bindir = pg_provision(s)
        kafka_start(s, java_home)
        es_start(s, java_home)
        pg_start(s, bindir)
        kafka_wait(s)
        pg_wait(s, bindir)
        pg_bootstrap(s, bindir)
        es_wait(s)
    print(service_line("kafka", "up", kafka_describe(s)))
    print(service_line("postgresql", "up", pg_describe(s)))
    print(service_line("elasticsearch", "up", es_describe(s)))


def stop_all(s: Settings) -> None:
    """Stop the three services, reporting each."""
    for name, stop in (("kafka", kafka_stop), ("elasticsearch", es_stop), ("postgresql", pg_stop)):
        print(service_line(name, "stopped", "" if stop(s) else "(was not running)"), flush=True)


def cmd_down(s: Settings) -> None:
    """Stop everything `up` started."""
    require_root()
    if not s.home.exists():
        return
    with stack_lock(s):
        stop_all(s)


SERVICES = ("kafka", "postgresql", "elasticsearch")


def start_one(s: Settings, name: str) -> str:
    """Provision, start and wait for one service; return where it listens."""
    if name == "postgresql":
        bindir = pg_provision(s)
        pg_start(s, bindir)
        pg_wait(s, bindir)
        pg_bootstrap(s, bindir)
        return pg_describe(s)
    java_home = find_java_home()
    if name == "kafka":
        kafka_provision(s, java_home)
        kafka_start(s, java_home)
        kafka_wait(s)
        return kafka_describe(s)
    es_provision(s)
    es_start(s, java_home)
    es_wait(s)
    return es_describe(s)


def cmd_start(s: Settings, name: str) -> None:
    """Start one service (the fault-injection tests restart services one by one)."""
    require_root()
    with stack_lock(s):
        prepare_home(s)
        where = start_one(s, name)
    print(service_line(name, "up", where))


def cmd_stop(s: Settings, name: str) -> None:
    """Stop one service, leaving the others running."""
    require_root()
    stop = {"kafka": kafka_stop, "postgresql": pg_stop, "elasticsearch": es_stop}[name]
    with stack_lock(s):
        stopped = stop(s)
    print(service_line(name, "stopped", "" if stopped else "(was not running)"))


def cmd_clean(s: Settings) -> None:
    """Stop everything, then delete data, logs and configuration; keep downloads and installs."""
    require_root()
    if not s.home.exists():
        return
    with stack_lock(s):
        stop_all(s)
        for path in (
            s.kafka / "data",
            s.kafka / "config",
            s.es / "data",
            s.es / "logs",
            s.es / "tmp",
            s.es / "config",
            s.pg / "data",
            s.logs,
        ):
            shutil.rmtree(path, ignore_errors=True)
    print(f"wiped data and logs under {s.home} (downloads and installs kept)")


def state_of(running: bool, healthy: bool) -> str:
    """Human state from process liveness and health."""
    if running:
        return "up" if healthy else "starting"
    return "stopped"


def cmd_status(s: Settings) -> None:
    """One line per service: up, starting, stopped, or foreign (port held by another program)."""
    bindir = pg_bindir()
    rows = [
        ("kafka", kafka_running(s), kafka_healthy(s), kafka_describe(s), s.kafka_port),
        (
            "postgresql",
            pg_running(s),
            bindir is not None and pg_healthy(s, bindir),
            pg_describe(s),
            s.pg_port,
        ),
        ("elasticsearch", es_running(s), es_healthy(s), es_describe(s), s.es_port),
    ]
    for name, running, healthy, where, port in rows:
        state = state_of(running, healthy)
        if not running and port_in_use(port):
            state, where = "foreign", f"port {port} is held by a program not started by stackctl"
        print(service_line(name, state, where))


def build_parser() -> argparse.ArgumentParser:
    """Command-line interface."""
    parser = argparse.ArgumentParser(
        prog="stackctl.py", description="Local Kafka + PostgreSQL + Elasticsearch, no Docker."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="provision if needed, start, wait until every service answers")
    sub.add_parser("down", help="stop every service started by `up`")
    sub.add_parser("clean", help="down, then wipe data and logs (downloads are kept)")
    sub.add_parser("status", help="print each service's state")
    sub.add_parser("logs-dir", help="print the directory holding the service logs")
    for verb in ("start", "stop"):
        one = sub.add_parser(verb, help=f"{verb} one service, leaving the others as they are")
        one.add_argument("service", choices=SERVICES)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: dispatch, and turn every failure into one line and a non-zero exit."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        if args.command == "up":
            cmd_up(settings)
        elif args.command == "down":
            cmd_down(settings)
        elif args.command == "clean":
            cmd_clean(settings)
        elif args.command == "status":
            cmd_status(settings)
        elif args.command == "start":
            cmd_start(settings, args.service)
        elif args.command == "stop":
            cmd_stop(settings, args.service)
        elif args.command == "logs-dir":
            print(settings.logs)
        return 0
    except StackError as exc:
        print(f"stackctl: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stackctl: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        print(
            f"stackctl: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
