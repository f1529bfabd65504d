"""The streaming platform's Faust application.

``faust -A app worker`` loads this package and finds :data:`app`. Importing it
registers every stage: HTTP views (``web``), agents (``agents``) and tables
(``tables``). See ``app/application.py`` for the shared services.
"""

from app.application import app

# Imported for their side effect: registering agents, tables and views on ``app``.
import agents.processing  # noqa: F401, I001
import agents.status  # noqa: F401
import web.health  # noqa: F401
import web.status  # noqa: F401
import web.users  # noqa: F401

__all__ = ["app"]
