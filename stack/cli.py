"""Command line of the stack: `python3 -m stack up|down|clean|status|start|stop|pid|logs-dir`.

And `metrics-token-file`: where the token Prometheus scrapes the workers with is.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import shutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from stack.adminer_server import AdminerServer
from stack.config import SUPPORTED_BROKERS, Settings, load_settings
from stack.elasticsearch_node import ElasticsearchNode
from stack.kafka_broker import KafkaCluster, node_files
from stack.messages import PROG, StackError
from stack.postgres_server import PostgresServer
from stack.prerequisites import ensure_jemalloc, require_root
from stack.processes import make_dir
from stack.prometheus_server import PrometheusServer
from stack.service import Service, service_line

#: Names `start`, `stop` and `pid` accept; kafka-N exist when KAFKA_BROKERS=3.
SERVICE_NAMES = (
    "kafka",
    *(f"kafka-{i}" for i in range(1, max(SUPPORTED_BROKERS) + 1)),
    "postgresql",
    "elasticsearch",
    "adminer",
    "prometheus",
)


def build_services(s: Settings) -> list[Service]:
    """Every service, in the order of `up`'s report."""
    return [
        KafkaCluster(s),
        PostgresServer(s),
        ElasticsearchNode(s),
        AdminerServer(s),
        PrometheusServer(s),
    ]


def find_service(services: Sequence[Service], name: str) -> Service:
    """The service (or Kafka node) called `name`."""
    for service in services:
        for member in service.members():
            if member.name == name:
                return member
    known = ", ".join(m.name for service in services for m in service.members())
    raise StackError(f"no service {name} with these settings (KAFKA_BROKERS?); known: {known}")


def check_traversable(s: Settings) -> None:
    """Every ancestor of STACK_HOME must be searchable by the service users."""
    for parent in s.home.parents:
        if parent.exists() and not parent.stat().st_mode & 0o001:
            raise StackError(
                f"{parent} is not traversable by other users (mode "
                f"{oct(parent.stat().st_mode & 0o777)}): the service users "
                f"cannot reach STACK_HOME={s.home}; choose another STACK_HOME"
            )


@contextlib.contextmanager
def stack_lock(s: Settings) -> Iterator[None]:
    """Serialise concurrent runs of the tool on one STACK_HOME."""
    s.home.mkdir(parents=True, exist_ok=True)
    # The name predates the package: a stackctl.py still running elsewhere takes the same lock.
    with (s.home / "stackctl.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def prepare_home(s: Settings) -> None:
    """Create STACK_HOME and its logs directory, traversable by the service users."""
    check_traversable(s)
    for path in (s.home, s.logs, s.kafka, s.downloads):
        make_dir(path)


def cmd_up(s: Settings) -> None:
    """Provision what is missing, start what is stopped, wait until all answer."""
    require_root()
    services = build_services(s)
    with stack_lock(s):
        prepare_home(s)
        ensure_jemalloc(s.logs / "apt.log")  # not a service, but what `make run` needs
        for service in services:
            service.provision()
        for service in services:
            service.start()
        for service in services:
            service.wait()
    for service in services:
        print("\n".join(service.lines("up")), flush=True)


def stopped_line(name: str, was_running: bool) -> str:
    """The report of a stop."""
    return service_line(name, "stopped", "" if was_running else "(was not running)")


def stop_all(s: Settings) -> None:
    """Stop every service, reporting each."""
    for service in build_services(s):
        print(stopped_line(service.name, service.stop()), flush=True)


def cmd_down(s: Settings) -> None:
    """Stop everything `up` started."""
    require_root()
    if not s.home.exists():
        return
    with stack_lock(s):
        stop_all(s)


def cmd_start(s: Settings, name: str) -> None:
    """Start one service or Kafka node (the fault-injection tests restart them one by one)."""
    require_root()
    service = find_service(build_services(s), name)
    with stack_lock(s):
        prepare_home(s)
        service.provision()
        service.start()
        service.wait()
    print("\n".join(service.lines("up")))


def cmd_stop(s: Settings, name: str) -> None:
    """Stop one service or Kafka node, leaving the others running."""
    require_root()
    service = find_service(build_services(s), name)
    with stack_lock(s):
        stopped = service.stop()
    print(stopped_line(name, stopped))


def cmd_pid(s: Settings, name: str) -> None:
    """Print the pid of a service's server process (to SIGKILL or SIGSTOP it)."""
    pid = find_service(build_services(s), name).pid()
    if pid is None:
        raise StackError(f"{name} is not running (or has no single server process)")
    print(pid)


def wiped_paths(s: Settings) -> list[Path]:
    """What `clean` deletes: data, logs and configuration, for every Kafka cluster size."""
    kafka_nodes = [
        node_files(s, i, count).root
        for count in SUPPORTED_BROKERS
        if count > 1
        for i in range(1, count + 1)
    ]
    return [
        s.kafka / "data",
        s.kafka / "config",
        *kafka_nodes,
        s.es / "data",
        s.es / "logs",
        s.es / "tmp",
        s.es / "config",
        s.pg / "data",
        s.adminer / "sessions",
        s.adminer / "tmp",
        # The metrics token under prometheus/config/secrets/ is kept: running workers hold it.
        s.prometheus / "data",
        s.logs,
    ]


def cmd_clean(s: Settings) -> None:
    """Stop everything, then delete data, logs and configuration; keep downloads and installs."""
    require_root()
    if not s.home.exists():
        return
    with stack_lock(s):
        stop_all(s)
        for path in wiped_paths(s):
            shutil.rmtree(path, ignore_errors=True)
    print(f"wiped data and logs under {s.home} (downloads and installs kept)")


def cmd_status(s: Settings) -> None:
    """One line per service: up, starting, stopped, or foreign (port held by another program)."""
    for service in build_services(s):
        print("\n".join(service.status_lines()))


def build_parser() -> argparse.ArgumentParser:
    """Command-line interface."""
    parser = argparse.ArgumentParser(
        prog=f"python3 -m {PROG}",
        description="Local Kafka + PostgreSQL + Elasticsearch + Adminer + Prometheus, no Docker.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="provision if needed, start, wait until every service answers")
    sub.add_parser("down", help="stop every service started by `up`")
    sub.add_parser("clean", help="down, then wipe data and logs (downloads are kept)")
    sub.add_parser("status", help="print each service's state")
    sub.add_parser("logs-dir", help="print the directory holding the service logs")
    sub.add_parser(
        "metrics-token-file",
        help="print the file of the token Prometheus scrapes with (a worker's METRICS_TOKEN_FILE)",
    )
    for verb, what in (
        ("start", "start one service, leaving the others as they are"),
        ("stop", "stop one service, leaving the others as they are"),
        ("pid", "print the pid of a service's server process"),
    ):
        one = sub.add_parser(verb, help=what)
        one.add_argument("service", choices=SERVICE_NAMES)
    return parser


def dispatch(command: str, settings: Settings, service: str | None) -> None:
    """Run one command."""
    if command == "logs-dir":
        print(settings.logs)
    elif command == "metrics-token-file":
        print(PrometheusServer(settings).token_file)
    elif service is not None:
        {"start": cmd_start, "stop": cmd_stop, "pid": cmd_pid}[command](settings, service)
    else:
        {"up": cmd_up, "down": cmd_down, "clean": cmd_clean, "status": cmd_status}[command](
            settings
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: dispatch, and turn every failure into one line and a non-zero exit."""
    args = build_parser().parse_args(argv)
    try:
        dispatch(args.command, load_settings(), getattr(args, "service", None))
        return 0
    except StackError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        print(
            f"{PROG}: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "),
            file=sys.stderr,
        )
        return 1
