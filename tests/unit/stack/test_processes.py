"""Pid files, stopping, spawning and waiting: the process helpers every service uses."""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import pytest

from stack.messages import StackError
from stack.processes import (
    PidFile,
    pid_alive,
    port_in_use,
    read_pid,
    refuse_taken_ports,
    run,
    spawn,
    stop_processes,
    wait_healthy,
)

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)", "stack-test-sleeper"]


def test_a_pid_file_is_read_from_its_first_line(tmp_path: Path) -> None:
    pidfile = tmp_path / "x.pid"
    assert read_pid(pidfile) is None
    pidfile.write_text("1234\n/var/lib/data\n")
    assert read_pid(pidfile) == 1234
    pidfile.write_text("garbage\n")
    assert read_pid(pidfile) is None


def test_a_live_process_counts_only_with_its_marker() -> None:
    me = os.getpid()

    assert pid_alive(me, "python") or pid_alive(me, "pytest")
    assert not pid_alive(me, "no-such-marker-in-our-command-line")
    assert not pid_alive(None, "")


def test_a_spawned_process_is_recorded_then_stopped(tmp_path: Path) -> None:
    pidfile = PidFile(tmp_path / "sleeper.pid", "stack-test-sleeper")
    pid = spawn(SLEEPER, tmp_path / "sleeper.log", cwd=tmp_path)
    pidfile.record(pid)
    # Until the child has exec'd, its command line is still ours, without the marker.
    wait_healthy("sleeper", pidfile.alive, lambda: True, timeout=10, log=tmp_path / "sleeper.log")
    assert pidfile.live_pid() == pid

    assert stop_processes("sleeper", [(pidfile, None)]) is True

    assert not pid_alive(pid, "stack-test-sleeper")
    assert not pidfile.path.exists()
    assert stop_processes("sleeper", [(pidfile, None)]) is False


def test_a_stale_pid_file_naming_someone_else_is_never_signalled(tmp_path: Path) -> None:
    pidfile = PidFile(tmp_path / "stale.pid", "stack-test-sleeper")
    pidfile.record(os.getpid())  # our own pid, without the marker

    assert stop_processes("stale", [(pidfile, None)]) is False
    assert not pidfile.path.exists()


def test_a_run_failure_is_one_line_with_the_last_output_line() -> None:
    script = "import sys; print('first'); print('the real cause', file=sys.stderr); sys.exit(3)"

    with pytest.raises(StackError, match="^probe failed: the real cause$"):
        run([sys.executable, "-c", script], "probe")


def test_a_run_with_a_log_names_the_log(tmp_path: Path) -> None:
    log = tmp_path / "tool.log"

    with pytest.raises(StackError, match=f"probe failed \\(exit 2\\); see {log}"):
        run([sys.executable, "-c", "print('noise'); raise SystemExit(2)"], "probe", log=log)
    assert "noise" in log.read_text()


def test_a_missing_program_is_one_line() -> None:
    with pytest.raises(StackError, match="probe: cannot run /no/such/tool"):
        run(["/no/such/tool"], "probe")


def test_a_port_held_by_another_program_is_refused_naming_the_variable() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        assert port_in_use(port)
        with pytest.raises(StackError, match=f"x: port {port} on 127.0.0.1 is taken.*set X_PORT"):
            refuse_taken_ports("x", [(port, "X_PORT")])
    assert not port_in_use(port)


def test_waiting_ends_when_healthy(tmp_path: Path) -> None:
    answers = iter([False, False, True])

    wait_healthy("x", lambda: next(answers), lambda: True, timeout=10, log=tmp_path / "x.log")


def test_waiting_gives_up_early_on_a_process_that_stays_dead(tmp_path: Path) -> None:
    began = time.monotonic()

    with pytest.raises(StackError, match="x exited during startup; see .*x.log"):
        wait_healthy("x", lambda: False, lambda: False, timeout=30, log=tmp_path / "x.log", grace=1)
    assert time.monotonic() - began < 10


def test_waiting_times_out_on_a_live_process_that_never_answers(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="x did not become healthy within 1 s"):
        wait_healthy("x", lambda: False, lambda: True, timeout=1, log=tmp_path / "x.log")
