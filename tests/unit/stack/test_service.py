"""What `status` says about a service, from its process and its port."""

from __future__ import annotations

import socket
from pathlib import Path

from stack.config import load_settings
from stack.service import Service


class FakeService(Service):
    """A service whose liveness, health and port a test sets."""

    name = "fake"

    def __init__(self, tmp_path: Path, running: bool, healthy: bool, port: int) -> None:
        super().__init__(load_settings({"STACK_HOME": str(tmp_path)}))
        self._running, self._healthy, self._port = running, healthy, port

    def provision(self) -> None: ...
    def start(self) -> None: ...
    def wait(self) -> None: ...
    def stop(self) -> bool:
        return self._running

    def running(self) -> bool:
        return self._running

    def healthy(self) -> bool:
        return self._healthy

    def describe(self) -> str:
        return "fake://here"

    def pid(self) -> int | None:
        return None

    def port(self) -> int:
        return self._port


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


def test_a_running_healthy_service_is_up(tmp_path: Path) -> None:
    service = FakeService(tmp_path, running=True, healthy=True, port=free_port())

    assert service.status_lines() == ["fake           up        fake://here"]


def test_a_running_service_not_answering_yet_is_starting(tmp_path: Path) -> None:
    service = FakeService(tmp_path, running=True, healthy=False, port=free_port())

    assert service.status_lines()[0].split()[1] == "starting"


def test_a_stopped_service_whose_port_is_free_is_stopped(tmp_path: Path) -> None:
    service = FakeService(tmp_path, running=False, healthy=True, port=free_port())

    assert service.status_lines()[0].split()[1] == "stopped"


def test_a_port_held_while_ours_is_stopped_is_foreign(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as other_program:
        port = other_program.getsockname()[1]
        service = FakeService(tmp_path, running=False, healthy=False, port=port)

        (line,) = service.status_lines()

    assert line.split()[1] == "foreign"
    assert f"port {port} is held by a program not started by the stack tool" in line
