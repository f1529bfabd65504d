"""The streaming platform's Faust application.

``faust -A app worker`` loads this package and finds :data:`app`; the worker
then imports (autodiscovers) the stage packages ``agents``, ``tables`` and
``web``, registering every agent, table and view. See ``app/application.py``.
"""

from app.application import app

__all__ = ["app"]
