"""The one interface every service of the stack implements, and its one-line reports."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from stack.config import Settings
from stack.processes import port_in_use


def service_line(name: str, state: str, where: str) -> str:
    """One aligned line of `up`/`status`/`down` output."""
    return f"{name:<15}{state:<10}{where}"


def state_of(running: bool, healthy: bool) -> str:
    """Human state from process liveness and health."""
    if running:
        return "up" if healthy else "starting"
    return "stopped"


class Service(ABC):
    """A native service as the stack tool drives it.

    `up` provisions every service, then starts every one (start() returns at
    once, so the slow JVMs boot side by side), then waits for each in turn.
    """

    #: The name on the command line and in reports.
    name: str

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @abstractmethod
    def provision(self) -> None:
        """Install, configure and initialise what is missing (idempotent; rewrites configs)."""

    @abstractmethod
    def start(self) -> None:
        """Start unless already running; refuse ports held by other programs; do not wait."""

    @abstractmethod
    def wait(self) -> None:
        """Return once healthy and ready for the application, or raise StackError."""

    @abstractmethod
    def stop(self) -> bool:
        """Stop it; True when something was running."""

    @abstractmethod
    def running(self) -> bool:
        """True when a process we started is alive."""

    @abstractmethod
    def healthy(self) -> bool:
        """True when it answers its own protocol as a client would use it."""

    @abstractmethod
    def describe(self) -> str:
        """Where it listens, which version it is, where its log is."""

    @abstractmethod
    def pid(self) -> int | None:
        """The server process's pid while it runs (fault injection signals it)."""

    @abstractmethod
    def port(self) -> int:
        """The port it listens on; someone else holding it makes the service `foreign`."""

    def members(self) -> Sequence[Service]:
        """Services reachable by name through this one (Kafka's nodes); itself first."""
        return (self,)

    def lines(self, state: str) -> list[str]:
        """Report lines once the service is in `state` (after `up` or `start`)."""
        return [service_line(self.name, state, self.describe())]

    def status_lines(self) -> list[str]:
        """Report lines for `status`: up, starting, stopped, or foreign."""
        running = self.running()
        if not running and port_in_use(self.port()):
            where = f"port {self.port()} is held by a program not started by the stack tool"
            return [service_line(self.name, "foreign", where)]
        return self.lines(state_of(running, running and self.healthy()))
