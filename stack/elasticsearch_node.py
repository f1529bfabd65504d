"""Elasticsearch: one development node from the integ-test zip on Maven Central.

The zip is the smallest real distribution (no bundled JDK, few modules); it is
unzipped once under STACK_HOME and run as the system user `streaming-es`,
because Elasticsearch refuses to run as root.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

from stack.config import Settings
from stack.messages import StackError, say
from stack.prerequisites import (
    DEPENDENCY_PLUGIN,
    ensure_system_user,
    find_java_home,
    maven,
    native_trim_options,
)
from stack.processes import (
    PidFile,
    as_user,
    chown_tree,
    http_get,
    make_dir,
    refuse_taken_ports,
    run,
    spawn,
    stop_processes,
    wait_healthy,
)
from stack.service import Service

ES_VERSION = "8.19.21"
ES_ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{ES_VERSION}:zip"
ES_USER = "streaming-es"
#: Text in the server JVM's command line (its main class's package).
ES_MARKER = "org.elasticsearch"
ES_START_TIMEOUT = 120.0


def config_yml(s: Settings) -> str:
    """elasticsearch.yml of the single development node."""
    return f"""# Written by `python3 -m stack` on every `up`; edits are overwritten.
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


def unzip_with_modes(archive: Path, dest: Path) -> None:
    """Extract a zip keeping the Unix permission bits (zipfile drops them)."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            path = Path(zf.extract(info, dest))
            mode = (info.external_attr >> 16) & 0o7777
            if mode:
                path.chmod(mode)


class ElasticsearchNode(Service):
    """The Elasticsearch node on 127.0.0.1, security off (development only)."""

    name = "elasticsearch"

    @property
    def install_dir(self) -> Path:
        """The unzipped distribution, kept by `clean`."""
        return self.settings.es / f"elasticsearch-{ES_VERSION}"

    @property
    def server_pidfile(self) -> PidFile:
        """Pid file written by Elasticsearch itself (-p): the server JVM."""
        return PidFile(self.settings.es / "run" / "elasticsearch.pid", ES_MARKER)

    @property
    def launcher_pidfile(self) -> PidFile:
        """Pid of the runuser process we spawned: the leader of ES's process group."""
        return PidFile(self.settings.es / "run" / "launcher.pid", "runuser")

    @property
    def log(self) -> Path:
        """Elasticsearch's console output."""
        return self.settings.logs / "elasticsearch.log"

    def port(self) -> int:
        """The HTTP port."""
        return self.settings.es_port

    def download(self) -> Path:
        """The distribution zip, fetched from Maven Central into downloads/ once."""
        s = self.settings
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

    def install(self) -> None:
        """Unzip the distribution into $STACK_HOME/elasticsearch once."""
        if (self.install_dir / "bin" / "elasticsearch").exists():
            return
        archive = self.download()
        staging = self.settings.es / "unzip.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        unzip_with_modes(archive, staging)
        (staging / self.install_dir.name).rename(self.install_dir)
        staging.rmdir()
        chown_tree(self.install_dir, ES_USER)

    def provision(self) -> None:
        """User, install, config directory (ES_PATH_CONF) and data directories."""
        es = self.settings.es
        ensure_system_user(ES_USER, es)
        make_dir(es)
        self.install()
        config = es / "config"
        if not config.exists():
            shutil.copytree(self.install_dir / "config", config)
        (config / "elasticsearch.yml").write_text(config_yml(self.settings))
        make_dir(config / "jvm.options.d")
        (config / "jvm.options.d" / "heap.options").write_text("-Xms512m\n-Xmx512m\n")
        trim = "".join(f"{option}\n" for option in native_trim_options())
        (config / "jvm.options.d" / "native-memory.options").write_text(trim)
        for sub in ("data", "logs", "tmp", "run"):
            make_dir(es / sub, owner=ES_USER, mode=0o750)
        chown_tree(config, ES_USER)

    def start(self) -> None:
        """Start Elasticsearch as streaming-es unless it already runs."""
        if self.running():
            return
        refuse_taken_ports(self.name, [(self.port(), "ELASTICSEARCH_HOST")])
        es = self.settings.es
        self.server_pidfile.path.unlink(missing_ok=True)
        cmd = as_user(
            ES_USER,
            [
                "env",
                f"ES_JAVA_HOME={find_java_home()}",
                f"ES_PATH_CONF={es / 'config'}",
                f"ES_TMPDIR={es / 'tmp'}",
                "ES_JAVA_OPTS=-Xms512m -Xmx512m",
                str(self.install_dir / "bin" / "elasticsearch"),
                "-p",
                str(self.server_pidfile.path),
            ],
        )
        pid = spawn(cmd, self.log, cwd=es)
        self.launcher_pidfile.record(pid)
        say(f"started Elasticsearch (launcher pid {pid})")

    def wait(self) -> None:
        """Wait until the cluster health is yellow or green."""
        wait_healthy(self.name, self.healthy, self.running, ES_START_TIMEOUT, self.log)

    def stop(self) -> bool:
        """Stop the server JVM, its CLI launcher and runuser."""
        return stop_processes(self.name, [(self.server_pidfile, self.launcher_pidfile)])

    def running(self) -> bool:
        """True when our Elasticsearch (server JVM or its launcher) is alive."""
        return self.server_pidfile.alive() or self.launcher_pidfile.alive()

    def healthy(self) -> bool:
        """Cluster health is yellow or green.

        The integ-test zip has no `GET /` (it answers 405): ask the cluster health.
        """
        body = http_get(f"http://127.0.0.1:{self.port()}/_cluster/health?timeout=2s")
        try:
            health = json.loads(body) if body is not None else None
        except ValueError:
            return False
        return isinstance(health, dict) and health.get("status") in ("yellow", "green")

    def pid(self) -> int | None:
        """The server JVM's pid (from the pid file it writes itself)."""
        return self.server_pidfile.live_pid()

    def describe(self) -> str:
        """Where Elasticsearch listens."""
        return f"http://127.0.0.1:{self.port()}, Elasticsearch {ES_VERSION}, log {self.log}"
