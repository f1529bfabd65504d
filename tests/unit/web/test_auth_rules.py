"""Which scope each request needs, and where a key may be presented."""

import pytest

from web.auth import presented_key, required_scope


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "/", None),
        ("GET", "/health", None),
        ("GET", "/docs", None),
        ("GET", "/openapi.json", None),
        ("GET", "/dashboard/index.html", None),
        ("POST", "/usuarios", "write"),
        ("POST", "/usuarios/1/pagamento", "write"),
        ("GET", "/status/abc", "read"),
        ("GET", "/usuarios/1", "read"),
        ("GET", "/logs/abc", "read"),
        ("GET", "/conteudos", "read"),
        ("GET", "/conteudos/1000", "read"),
        ("GET", "/cache/conteudo/1000", "read"),
        # Loading the cache changes no data, but it is a POST: write, like every POST.
        ("POST", "/cache/conteudo/1000", "write"),
        ("GET", "/metrics", "metrics"),
        ("GET", "/api/metrics/summary", "admin"),
    ],
)
def test_each_route_needs_its_scope(method: str, path: str, scope: str | None) -> None:
    assert required_scope(method, path) == scope


def test_key_is_read_from_either_header() -> None:
    assert presented_key({"X-API-Key": " k1 "}) == "k1"
    assert presented_key({"Authorization": "Bearer k2"}) == "k2"
    assert presented_key({"Authorization": "Basic dXNlcg=="}) is None
    assert presented_key({}) is None
