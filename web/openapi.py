"""OpenAPI 3.1 at ``/openapi.json`` and Swagger UI at ``/docs`` (assets served locally).

The document is built once from the live router (:mod:`web.openapi_spec`).
Swagger UI's page and assets come from the ``swagger-ui-py`` package (its
template and ``static/`` folder); its own aiohttp handler is not used because
it would serve a second copy of the spec with a Swagger 2 ``host`` field.
"""

from __future__ import annotations

import json

from aiohttp import web
from swagger_ui.core import ApplicationDocument  # type: ignore[import-untyped]

from app.application import platform
from web.openapi_operations import DOCS_PATH, SPEC_PATH
from web.openapi_spec import build_spec

services = platform()


def _web_app() -> web.Application:
    """The aiohttp application under Faust's web server (the aiohttp driver's)."""
    return services.app.web.web_app  # type: ignore[attr-defined]


_cache: dict[str, bytes] = {}


def spec_bytes() -> bytes:
    """The spec as JSON, built once (after every module registered its routes)."""
    if "spec" not in _cache:
        spec = build_spec(_web_app().router, dict(services.app.web.views))
        _cache["spec"] = json.dumps(spec, ensure_ascii=False).encode()
    return _cache["spec"]


async def openapi_json(request: web.Request) -> web.Response:
    """``GET /openapi.json``: the OpenAPI 3.1 description of this API."""
    return web.Response(body=spec_bytes(), content_type="application/json")


def swagger_page() -> str:
    """Swagger UI's page from swagger-ui-py's template, pointed at our spec."""
    doc = ApplicationDocument(
        _web_app(), url_prefix=DOCS_PATH, config_url=SPEC_PATH, title="API · Swagger UI"
    )
    doc.parameters["url"] = json.dumps(SPEC_PATH)
    return str(doc.doc_html)


async def swagger_ui(request: web.Request) -> web.Response:
    """``GET /docs``: Swagger UI for ``/openapi.json``, assets from this server."""
    return web.Response(text=swagger_page(), content_type="text/html")


def mount(router: web.UrlDispatcher) -> None:
    """Add ``/openapi.json``, ``/docs`` and Swagger UI's assets to ``router``."""
    static_dir = ApplicationDocument(router, config_url=SPEC_PATH).static_dir
    router.add_get(SPEC_PATH, openapi_json, name="openapi")
    router.add_get(DOCS_PATH, swagger_ui, name="docs")
    router.add_get(f"{DOCS_PATH}/", swagger_ui, name="docs-slash")
    router.add_static(f"{DOCS_PATH}/static", static_dir, name="docs-assets")


mount(_web_app().router)
