"""Process helpers shared by every service, written once.

Commands run to completion (`run`), as another user (`as_user`), files given to
a user (`chown_tree`), long-running processes spawned in their own session
(`spawn`), pid files that survive only as long as their process (`PidFile`),
stopping with SIGTERM then SIGKILL (`stop_processes`), and waiting for a port
or a health check (`wait_healthy`).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from stack.messages import StackError, say

STOP_TIMEOUT = 60.0
#: How long a starting service may look dead before `up` gives up on it: right
#: after the fork a JVM's command line is still ours, and `pg_ctl -W` returns
#: before postmaster.pid exists.
DEATH_GRACE_S = 5.0


# --------------------------------------------------------------------------- commands


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


# --------------------------------------------------------------------------- files


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


# --------------------------------------------------------------------------- pid files


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


@dataclass(frozen=True)
class PidFile:
    """A pid file, and text that the live process's command line must contain.

    The marker guards against pid reuse: after a reboot the number in a stale
    pid file may belong to an unrelated process, which must never be signalled.
    """

    path: Path
    marker: str

    def pid(self) -> int | None:
        """The recorded pid, alive or not."""
        return read_pid(self.path)

    def alive(self) -> bool:
        """True when the recorded process is alive and is ours."""
        return pid_alive(self.pid(), self.marker)

    def live_pid(self) -> int | None:
        """The recorded pid while its process is alive and ours, else None."""
        pid = self.pid()
        return pid if pid_alive(pid, self.marker) else None

    def record(self, pid: int) -> None:
        """Write the pid of a process we just started."""
        self.path.write_text(f"{pid}\n")


# --------------------------------------------------------------------------- signals and stopping


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


#: A process to stop: its pid file, and the pid file of the session leader we
#: spawned when the service writes its own pid file (Elasticsearch under runuser).
Target = tuple[PidFile, PidFile | None]


def terminate(target: Target) -> list[tuple[int, int]]:
    """SIGTERM one target; return (pid, process group) of each process to watch.

    The service is signalled rather than its leader: runuser answers SIGTERM by
    killing its child after 2 s, too soon for a clean shutdown.
    """
    service, leader_file = target
    pid = service.live_pid()
    leader = leader_file.live_pid() if leader_file else None
    group = leader_file.pid() if leader_file else None
    if pid is not None:
        signal_pid(pid, signal.SIGTERM)
    elif leader is not None:
        signal_pid(leader, signal.SIGTERM)
    return [(p, group or p) for p in (pid, leader) if p is not None]


def stop_processes(name: str, targets: Sequence[Target]) -> bool:
    """SIGTERM every target at once, wait, then SIGKILL the process groups left after a deadline.

    All are signalled before any is waited for: a Kafka node's controlled
    shutdown asks the controller quorum, which is gone once its peers have stopped.
    Returns True when something was running.
    """
    watched = [entry for target in targets for entry in terminate(target)]
    pids = [pid for pid, _ in watched]
    if pids and not wait_for_exit(pids, "", STOP_TIMEOUT):
        say(f"{name} did not stop within {STOP_TIMEOUT:.0f} s: killing it")
        for pid, group in watched:
            signal_group(group, signal.SIGKILL)
            signal_pid(pid, signal.SIGKILL)
        wait_for_exit(pids, "", 10.0)
    for service, leader_file in targets:
        service.path.unlink(missing_ok=True)
        if leader_file is not None:
            leader_file.path.unlink(missing_ok=True)
    return bool(pids)


# --------------------------------------------------------------------------- starting and waiting


def spawn(
    cmd: Sequence[str],
    log: Path,
    cwd: Path,
    env: dict[str, str] | None = None,
    user: str | None = None,
) -> int:
    """Start a long-running process in its own session, output appended to `log`.

    With `user`, the process itself switches to that user (no runuser in
    between), so the pid returned is the service's own: for programs that
    write no pid file.
    """
    uid = gid = None
    groups: list[int] | None = None
    if user is not None:
        entry = pwd.getpwnam(user)
        uid, gid, groups = entry.pw_uid, entry.pw_gid, []
    with log.open("ab") as out:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            start_new_session=True,
            user=uid,
            group=gid,
            extra_groups=groups,
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


def refuse_taken_ports(service: str, ports: Sequence[tuple[int, str]]) -> None:
    """Raise for the first (port, environment variable) held by another program."""
    for port, env_var in ports:
        if port_in_use(port):
            raise port_taken_error(service, port, env_var)


def http_get(url: str, timeout: float = 3.0) -> bytes | None:
    """Body of a 2xx answer to GET `url` (redirects followed), or None."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body: bytes = response.read()
    except (OSError, urllib.error.URLError, ValueError):
        return None
    return body


def wait_healthy(
    name: str,
    healthy: Callable[[], bool],
    alive: Callable[[], bool],
    timeout: float,
    log: Path,
    grace: float = DEATH_GRACE_S,
) -> None:
    """Poll `healthy` until it answers; fail early if the process stays dead.

    A process only counts as dead after `grace` seconds of failed checks (see
    DEATH_GRACE_S); a busy machine can stretch the moments it covers.
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
        elif time.monotonic() - dead_since > grace:
            raise StackError(f"{name} exited during startup; see {log}")
        time.sleep(0.5)
    raise StackError(f"{name} did not become healthy within {timeout:.0f} s; see {log}")
