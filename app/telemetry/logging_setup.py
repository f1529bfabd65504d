"""Log lines as JSON (or text), each carrying the correlation id of its request.

The views and the processing agent call :func:`bind_correlation_id` when they
know which request they are working on; every line logged afterwards in the
same asyncio task carries it as ``correlation_id``.

``faust worker`` configures logging itself (mode's ``setup_logging``, fed by
the app's ``logging_config`` setting, then stdout/stderr redirected into the
log). :func:`install` sets that setting from ``LOG_FORMAT`` when the worker
initialises (Faust's ``on_worker_init`` signal, sent after autodiscovery and
before the worker reads its logging configuration), so the worker's own
handler, level (``-l``) and stdout redirection stay as Faust made them; only
the format changes. ``json`` is one object per line for log shippers (the
default in compose); ``text`` is for people (the default of ``make run``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any, Literal

import faust
import orjson
from mode.types.signals import BaseSignalT

LogFormat = Literal["json", "text"]

_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)

#: LogRecord attributes that are not ``extra=`` fields.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "correlation_id", "taskName", "data"}
)
TEXT_FORMAT = "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"


def bind_correlation_id(correlation_id: str | None) -> Token[str | None]:
    """Tag the current task's following log lines with ``correlation_id``."""
    return _correlation_id.set(correlation_id)


def bind_event_correlation_id(raw_events: Sequence[bytes]) -> None:
    """Bind the correlation id of a lone event (a batch of one); unbind for more.

    The processing agent calls this per batch: when it retries a failed batch
    event by event, each event's lines carry its id; a batch of many has none.
    """
    _correlation_id.set(correlation_id_in(raw_events[0]) if len(raw_events) == 1 else None)


def correlation_id_in(raw_event: bytes) -> str | None:
    """The ``correlation_id`` field of a JSON event, if it has a textual one."""
    try:
        value = orjson.loads(raw_event).get("correlation_id")
    except (orjson.JSONDecodeError, AttributeError, TypeError):
        return None
    return value if isinstance(value, str) else None


def unbind_correlation_id(token: Token[str | None]) -> None:
    """Restore the correlation id bound before ``token``'s binding."""
    _correlation_id.reset(token)


def current_correlation_id() -> str | None:
    """The correlation id bound in the current task, if any."""
    return _correlation_id.get()


class CorrelationFilter(logging.Filter):
    """Copies the bound correlation id onto every record as ``correlation_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate ``record``; never drops it."""
        if not getattr(record, "correlation_id", None):
            record.correlation_id = _correlation_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, correlation id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        correlation_id = getattr(record, "correlation_id", None)
        if correlation_id:
            entry["correlation_id"] = correlation_id
        entry.update(_extras(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """Faust's usual line, with ``correlation_id=...`` appended when one is bound."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        """The record as a human-readable line."""
        line = super().format(record)
        correlation_id = getattr(record, "correlation_id", None)
        return f"{line} correlation_id={correlation_id}" if correlation_id else line


def logging_config(log_format: LogFormat) -> dict[str, Any]:
    """A ``dictConfig`` merged into the worker's: its handler, our formatter and filter."""
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    return {
        "version": 1,
        # Merged by mode into the worker's configuration: its root level stays.
        "merge": True,
        "disable_existing_loggers": False,
        "formatters": {"app": {"()": formatter}},
        "filters": {"correlation": {"()": CorrelationFilter}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "app",
                "filters": ["correlation"],
            }
        },
    }


def install(app: faust.App, log_format: LogFormat) -> None:
    """Make ``faust worker`` log in ``log_format``; a no-op for other programs."""

    @app.on_worker_init.connect
    def _configure_worker_logging(
        sender: Any, /, *args: Any, signal: BaseSignalT[Any], **kwargs: Any
    ) -> None:
        app.conf.logging_config = logging_config(log_format)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS and k[0] != "_"}
