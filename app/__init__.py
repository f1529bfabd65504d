"""The streaming platform's Faust application.

``faust -A app worker`` loads this package and finds :data:`app`; the worker
then imports (autodiscovers) the stage packages ``agents``, ``tables`` and
``web``, registering every agent, table and view. See ``app/application.py``.

The Faust app and its services are made on first access to ``app.app``
(:func:`app.application.platform`), not on import, so that light tools
(``python -m app.api_keys``) do not construct a worker.
"""

from __future__ import annotations

from typing import Any

__all__ = ["app"]


def __getattr__(name: str) -> Any:
    if name == "app":
        from app import dead_letter_cli  # noqa: F401  (registers ``faust -A app dead-letters``)
        from app.application import platform
        from demo import loadgen  # noqa: F401  (registers ``faust -A app loadgen``)

        return platform().app
    raise AttributeError(f"module 'app' has no attribute {name!r}")
