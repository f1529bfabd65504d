"""Kafka in KRaft mode: one node, or a three-node cluster on loopback (KAFKA_BROKERS=3).

Each node is one JVM acting as broker and controller, started from the
classpath that Maven resolves from stack/kafka/pom.xml. One node keeps the
historical layout (kafka/config, kafka/data, kafka/kafka.pid, logs/kafka.log);
node N of a cluster lives in kafka/node-N/ and logs to logs/kafka-N.log.
Node N listens on the N-th broker and controller ports of the settings.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from stack.config import SUPPORTED_BROKERS, Settings
from stack.kafka_protocol import broker_serves
from stack.messages import StackError, say
from stack.prerequisites import find_java_home, maven, native_trim_options
from stack.processes import (
    PidFile,
    make_dir,
    refuse_taken_ports,
    run,
    spawn,
    stop_processes,
    wait_healthy,
)
from stack.service import Service, service_line

STACK_DIR = Path(__file__).resolve().parent
KAFKA_POM = STACK_DIR / "kafka" / "pom.xml"
KAFKA_LOG4J = STACK_DIR / "kafka" / "log4j2.properties"
KAFKA_CLUSTER_ID = "c3RyZWFtaW5nLXN0YWNrMQ"  # base64url of b"streaming-stack1": 22 chars
KAFKA_START_TIMEOUT = 90.0


# --------------------------------------------------------------------------- classpath


def kafka_version() -> str:
    """The broker version pinned in stack/kafka/pom.xml."""
    match = re.search(r"<kafka.version>([^<]+)</kafka.version>", KAFKA_POM.read_text())
    return match.group(1) if match else "?"


def pom_digest() -> str:
    """SHA-256 of the pom, stamped on the libs built from it."""
    return hashlib.sha256(KAFKA_POM.read_bytes()).hexdigest()


def libs_current(s: Settings) -> bool:
    """True when $STACK_HOME/kafka/libs was built from the current pom.xml."""
    stamp = s.kafka / "libs" / ".pom.sha256"
    return stamp.exists() and stamp.read_text().strip() == pom_digest()


def ensure_libs(s: Settings) -> None:
    """Resolve the broker classpath with Maven into $STACK_HOME/kafka/libs unless current."""
    if libs_current(s):
        return
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
    (libs / ".pom.sha256").write_text(pom_digest())


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class NodeFiles:
    """Where one node keeps its files, for a cluster of `count` nodes."""

    root: Path
    log_name: str
    logs: Path

    @property
    def config(self) -> Path:
        """server.properties and log4j2.properties."""
        return self.root / "config"

    @property
    def server_properties(self) -> Path:
        """The node's configuration; its path also identifies the node's JVM."""
        return self.config / "server.properties"

    @property
    def data(self) -> Path:
        """KRaft metadata and topic logs."""
        return self.root / "data"

    @property
    def pidfile(self) -> PidFile:
        """Pid of the node's JVM, recognised by its configuration file's path."""
        return PidFile(self.root / "kafka.pid", str(self.server_properties))

    @property
    def log(self) -> Path:
        """The broker's log4j2 log."""
        return self.logs / f"{self.log_name}.log"

    @property
    def out(self) -> Path:
        """The JVM's console output."""
        return self.logs / f"{self.log_name}.out"


def node_files(s: Settings, node_id: int, count: int) -> NodeFiles:
    """Files of node `node_id` in a cluster of `count` (one node: the historical paths)."""
    if count == 1:
        return NodeFiles(s.kafka, "kafka", s.logs)
    return NodeFiles(s.kafka / f"node-{node_id}", f"kafka-{node_id}", s.logs)


def formatted_count(s: Settings) -> int | None:
    """The broker count whose KRaft storage exists under STACK_HOME, if any."""
    for count in SUPPORTED_BROKERS:
        if (node_files(s, 1, count).data / "meta.properties").exists():
            return count
    return None


def check_layout(s: Settings) -> None:
    """Refuse to run N brokers on storage formatted for another count.

    The KRaft metadata records the voters and every partition's replicas; a
    cluster of another size cannot take it over, so the switch needs `clean`.
    """
    found = formatted_count(s)
    if found is not None and found != s.kafka_brokers:
        raise StackError(
            f"kafka: {s.kafka} holds the data of a {found}-broker cluster, but "
            f"KAFKA_BROKERS={s.kafka_brokers}; set KAFKA_BROKERS={found}, or wipe all data "
            f"with `python3 -m stack clean` (make clean) before switching"
        )


# --------------------------------------------------------------------------- configuration


#: Failure detection of a cluster (several nodes). Kafka's defaults (a broker
#: fenced after 9 s without heartbeat, a controller replaced after 2 s without
#: fetch) hold a dead broker's partitions leaderless for up to 11 s, and a POST
#: waits at most PRODUCE_TIMEOUT_S (5 s) for its acknowledgement: measured with
#: these values, a SIGKILLed broker (the active controller included) costs
#: acks=all writes at most 3 s, and every write is acknowledged. One node keeps
#: the defaults: it has nobody to fail over to.
CLUSTER_FAILOVER = """broker.heartbeat.interval.ms=500
broker.session.timeout.ms=2000
controller.quorum.fetch.timeout.ms=1000
controller.quorum.election.timeout.ms=500
"""


def server_properties(s: Settings, node_id: int) -> str:
    """server.properties of node `node_id`: broker and controller of a static quorum."""
    files = node_files(s, node_id, s.kafka_brokers)
    port = s.kafka_ports[node_id - 1]
    controller = s.kafka_controller_ports[node_id - 1]
    voters = ",".join(f"{i}@127.0.0.1:{p}" for i, p in enumerate(s.kafka_controller_ports, 1))
    # Every internal topic is replicated on all nodes (at most 3); with 3, writes
    # with acks=all go on while one node is down (2 in sync of 3).
    replicas = min(s.kafka_brokers, 3)
    min_isr = 2 if replicas >= 3 else 1
    failover = CLUSTER_FAILOVER if s.kafka_brokers > 1 else ""
    return f"""# Written by `python3 -m stack` on every `up`; edits are overwritten.
process.roles=broker,controller
node.id={node_id}
controller.quorum.voters={voters}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={files.data}
metadata.log.dir={files.data}
num.partitions=8
default.replication.factor={replicas}
min.insync.replicas={min_isr}
auto.create.topics.enable=true
offsets.topic.replication.factor={replicas}
transaction.state.log.replication.factor={replicas}
transaction.state.log.min.isr={min_isr}
share.coordinator.state.topic.replication.factor={replicas}
share.coordinator.state.topic.min.isr={min_isr}
group.initial.rebalance.delay.ms=0
{failover}message.max.bytes=4194304
replica.fetch.max.bytes=4194304
log.retention.hours=168
"""


def java_cmd(s: Settings, files: NodeFiles, main: str, *args: str) -> list[str]:
    """A `java -cp 'libs/*' <main>` command line logging to the node's own file."""
    return [
        str(find_java_home() / "bin" / "java"),
        "-Xms512m",
        "-Xmx512m",
        # The heap resident from the start, as Elasticsearch's own options have it: without
        # it the broker's RSS climbed for most of an hour's soak as G1 first touched regions
        # (5.4, 1.0, 0.7, 0.1 MiB/min by quarter), reading as growth that was only filling.
        "-XX:+AlwaysPreTouch",
        *native_trim_options(),
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={files.config / 'log4j2.properties'}",
        f"-Dkafka.logs.dir={files.logs}",
        f"-Dkafka.log.name={files.log_name}",
        "-cp",
        str(s.kafka / "libs") + "/*",
        main,
        *args,
    ]


# --------------------------------------------------------------------------- services


class KafkaBroker(Service):
    """One KRaft node: `kafka` when it is the only one, else `kafka-1`, `kafka-2`, ..."""

    def __init__(self, settings: Settings, node_id: int) -> None:
        super().__init__(settings)
        self.node_id = node_id
        self.files = node_files(settings, node_id, settings.kafka_brokers)
        self.name = "kafka" if settings.kafka_brokers == 1 else f"kafka-{node_id}"

    def port(self) -> int:
        """The node's client (PLAINTEXT) port."""
        return self.settings.kafka_ports[self.node_id - 1]

    def controller_port(self) -> int:
        """The node's controller port."""
        return self.settings.kafka_controller_ports[self.node_id - 1]

    def provision(self) -> None:
        """Classpath, configuration, and the one-time KRaft storage format."""
        check_layout(self.settings)
        ensure_libs(self.settings)
        config = make_dir(self.files.config)
        (config / "server.properties").write_text(server_properties(self.settings, self.node_id))
        shutil.copyfile(KAFKA_LOG4J, config / "log4j2.properties")
        data = make_dir(self.files.data)
        if not (data / "meta.properties").exists():
            self.format_storage()

    def format_storage(self) -> None:
        """Write the node's KRaft storage for the stack's fixed cluster id."""
        say(f"formatting Kafka's KRaft storage ({self.name})")
        run(
            java_cmd(
                self.settings,
                self.files,
                "kafka.tools.StorageTool",
                "format",
                "-g",
                "-t",
                KAFKA_CLUSTER_ID,
                "-c",
                str(self.files.server_properties),
            ),
            f"Kafka storage format ({self.name})",
            log=self.files.out,
        )

    def start(self) -> None:
        """Start the node's JVM unless it runs; refuse ports held by other programs."""
        if self.running():
            return
        refuse_taken_ports(
            self.name,
            [
                (self.port(), "KAFKA_BOOTSTRAP_SERVERS"),
                (self.controller_port(), "KAFKA_CONTROLLER_PORT"),
            ],
        )
        cmd = java_cmd(self.settings, self.files, "kafka.Kafka", str(self.files.server_properties))
        pid = spawn(cmd, self.files.out, cwd=self.files.root)
        self.files.pidfile.record(pid)
        say(f"started {self.name} (pid {pid})")

    def wait(self) -> None:
        """Wait until the node answers clients and is listed as a live broker."""
        wait_healthy(self.name, self.healthy, self.running, KAFKA_START_TIMEOUT, self.files.log)

    def stop(self) -> bool:
        """Stop the node (controlled shutdown on SIGTERM)."""
        return stop_processes(self.name, [(self.files.pidfile, None)])

    def running(self) -> bool:
        """True when the node's JVM is alive."""
        return self.files.pidfile.alive()

    def healthy(self) -> bool:
        """The node answers ApiVersions and Metadata lists it as a live broker."""
        return broker_serves(self.port(), self.node_id)

    def pid(self) -> int | None:
        """The node's JVM pid while it runs."""
        return self.files.pidfile.live_pid()

    def describe(self) -> str:
        """Where the node listens."""
        return (
            f"PLAINTEXT://127.0.0.1:{self.port()} (controller 127.0.0.1:"
            f"{self.controller_port()}), Kafka {kafka_version()}, log {self.files.log}"
        )


class KafkaCluster(Service):
    """Every Kafka node of the stack, as the one service `kafka`.

    Nodes start side by side and are waited for afterwards: a node of a
    three-node quorum cannot become healthy before a second one has started.
    """

    name = "kafka"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.nodes = [KafkaBroker(settings, i) for i in range(1, settings.kafka_brokers + 1)]

    @property
    def single(self) -> bool:
        """True for the one-node stack, reported exactly like one node."""
        return len(self.nodes) == 1

    def members(self) -> list[Service]:
        """`kafka`, then `kafka-1`, `kafka-2`, ... when there are several nodes."""
        return [self] if self.single else [self, *self.nodes]

    def port(self) -> int:
        """The first node's client port."""
        return self.nodes[0].port()

    def provision(self) -> None:
        """Provision every node (the classpath is built once, by the first)."""
        for node in self.nodes:
            node.provision()

    def start(self) -> None:
        """Start every node that is not running."""
        for node in self.nodes:
            node.start()

    def wait(self) -> None:
        """Wait for every node in turn."""
        for node in self.nodes:
            node.wait()

    def stop(self) -> bool:
        """Stop every node found running, whatever KAFKA_BROKERS says now."""
        return stop_processes(self.name, [(pidfile, None) for pidfile in self.every_pidfile()])

    def every_pidfile(self) -> list[PidFile]:
        """Pid files of every node of every supported cluster size."""
        return [
            node_files(self.settings, i, count).pidfile
            for count in SUPPORTED_BROKERS
            for i in range(1, count + 1)
        ]

    def running(self) -> bool:
        """True when any configured node runs."""
        return any(node.running() for node in self.nodes)

    def healthy(self) -> bool:
        """True when every node serves."""
        return all(node.healthy() for node in self.nodes)

    def pid(self) -> int | None:
        """The only node's pid (one node); ask a node by name in a cluster."""
        return self.nodes[0].pid() if self.single else None

    def describe(self) -> str:
        """Where the clients connect."""
        if self.single:
            return self.nodes[0].describe()
        return (
            f"KAFKA_BOOTSTRAP_SERVERS={self.settings.kafka_bootstrap} "
            f"({len(self.nodes)} brokers, Kafka {kafka_version()})"
        )

    def lines(self, state: str) -> list[str]:
        """One line per node, then (several nodes) the bootstrap list."""
        if self.single:
            return self.nodes[0].lines(state)
        return [
            *(line for node in self.nodes for line in node.lines(state)),
            service_line(self.name, state, self.describe()),
        ]

    def status_lines(self) -> list[str]:
        """Each node's state, the cluster's, and nodes left running under another count."""
        strays = self.stray_lines()
        if strays:
            return strays
        if self.single:
            return self.nodes[0].status_lines()
        lines = [line for node in self.nodes for line in node.status_lines()]
        up = sum(node.running() and node.healthy() for node in self.nodes)
        state = "up" if up == len(self.nodes) else "stopped" if not self.running() else "degraded"
        return [*lines, service_line(self.name, state, self.describe())]

    def stray_lines(self) -> list[str]:
        """Nodes of a cluster size other than KAFKA_BROKERS that still run."""
        lines = []
        for count in SUPPORTED_BROKERS:
            if count == self.settings.kafka_brokers:
                continue
            for i in range(1, count + 1):
                pid = node_files(self.settings, i, count).pidfile.live_pid()
                if pid is not None:
                    name = "kafka" if count == 1 else f"kafka-{i}"
                    where = f"pid {pid}, started with KAFKA_BROKERS={count}: set it to manage it"
                    lines.append(service_line(name, "running", where))
        return lines
