"""Prerequisites of the services: root, executables, system users, Debian packages, Java, Maven.

Each check fails with one line naming what to install, because the stack runs
on fresh machines where the first `up` is also the installation.
"""

from __future__ import annotations

import functools
import os
import pwd
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from stack.messages import StackError, say
from stack.processes import run

#: The Maven plugin that fetches single artifacts (Elasticsearch's zip); pinned,
#: like the one in stack/kafka/pom.xml, so that builds do not drift.
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.11.0"
JAVA_HINT = "apt-get install -y openjdk-17-jre-headless, or set JAVA_HOME"
POLICY_RC_D = Path("/usr/sbin/policy-rc.d")


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


#: Starts every worker on jemalloc; it decides where the library is, so `up` asks it.
JEMALLOC_LAUNCHER = Path(__file__).resolve().parents[1] / "ops" / "on-jemalloc"


def jemalloc_preloaded() -> str:
    """The library ``ops/on-jemalloc`` would preload into a worker here, or '' if none."""
    answer = subprocess.run(
        [str(JEMALLOC_LAUNCHER), "printenv", "LD_PRELOAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return answer.stdout.strip()


def ensure_jemalloc(log: Path) -> None:
    """Install jemalloc, the workers' allocator, unless the launcher already finds it."""
    if "libjemalloc" in jemalloc_preloaded():
        return
    say("installing jemalloc, the workers' allocator, from Debian's packages (apt-get)")
    apt_install(["libjemalloc2"], log, manual="jemalloc 5 (libjemalloc.so.2)")


def apt_install(packages: Sequence[str], log: Path, manual: str) -> None:
    """Install Debian packages without letting their maintainer scripts start services.

    `manual` names what to install by hand where there is no apt-get.

    Debian starts a package's daemon on install (PostgreSQL's default cluster on
    5432, php-fpm...); the stack runs its own instances, so a policy-rc.d that
    forbids starts is in place for the duration, unless one already exists.
    """
    require_tool("apt-get", f"a Debian-based system with apt-get, or install {manual}")
    created_policy = not POLICY_RC_D.exists()
    if created_policy:
        POLICY_RC_D.write_text(
            "#!/bin/sh\n# stack: do not start services during install\nexit 101\n"
        )
        POLICY_RC_D.chmod(0o755)
    try:
        env = {"DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update"], "apt-get update", log=log, env=env)
        run(
            ["apt-get", "install", "-y", "--no-install-recommends", *packages],
            f"apt-get install {' '.join(packages)}",
            log=log,
            env=env,
        )
    finally:
        if created_policy:
            POLICY_RC_D.unlink(missing_ok=True)


def java_major(java: Path) -> int:
    """Feature version of a Java runtime (17 for "17.0.15")."""
    out = subprocess.run(
        [str(java), "-version"], capture_output=True, text=True, check=False
    ).stderr
    return parse_java_major(out, java)


def parse_java_major(version_output: str, java: Path) -> int:
    """Feature version in `java -version` output ("1.8.0" is 8, "17.0.15" is 17)."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if not match:
        raise StackError(f"cannot read the version of {java}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


#: The JVMs hand freed native memory back to the system this often (ms). Without it Kafka's
#: RSS kept rising in a glibc malloc arena holding memory already freed (2.3 MiB from minute
#: 10 to 20 of a soak); with it, its slope over an hour's second half was 0.06 MiB/min.
NATIVE_TRIM_MS = 10_000


@functools.cache
def native_trim_options() -> tuple[str, ...]:
    """The option trimming a JVM's native heap (JDK 17.0.9 and later have it), else none."""
    option = f"-XX:TrimNativeHeapInterval={NATIVE_TRIM_MS}"
    java = find_java_home() / "bin" / "java"
    probe = subprocess.run([str(java), option, "-version"], capture_output=True, check=False)
    return (option,) if probe.returncode == 0 else ()


@functools.cache
def find_java_home() -> Path:
    """Java 17+ home: ES_JAVA_HOME, else JAVA_HOME, else the `java` on PATH.

    Cached: Kafka and Elasticsearch both ask, and `java -version` costs a JVM start.
    """
    for var in ("ES_JAVA_HOME", "JAVA_HOME"):
        value = os.environ.get(var)
        if value and (Path(value) / "bin" / "java").exists():
            home = Path(value)
            break
    else:
        home = Path(os.path.realpath(require_tool("java", JAVA_HINT))).parents[1]
    major = java_major(home / "bin" / "java")
    if major < 17:
        raise StackError(
            f"{home} is Java {major}; Kafka 4 and Elasticsearch 8 need 17+ ({JAVA_HINT})"
        )
    return home


def maven() -> str:
    """Path of `mvn`, or a StackError naming the package to install."""
    return require_tool("mvn", "apt-get install -y maven")
