"""The dashboard on its own port (``DASHBOARD_PORT``) and the operator tools' probe, on real workers."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from harness.workers import Worker, free_port, own_names

pytestmark = pytest.mark.integration


class _Answers(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"a tool")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def kafka_ui() -> Iterator[str]:
    """Something answering HTTP on a free port, standing in for Kafka UI."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


#: The dashboard port of the worker below.
DASHBOARD_PORT = free_port()


@pytest.fixture(scope="module")
def ported(tmp_path_factory: pytest.TempPathFactory, kafka_ui: str) -> Iterator[Worker]:
    """A worker serving the dashboard on a port of its own; Kafka UI answers, Kibana does not."""
    worker = Worker(
        tmp_path_factory.mktemp("ported"),
        DASHBOARD_PORT=str(DASHBOARD_PORT),
        KAFKA_UI_URL=kafka_ui,
        KIBANA_URL=f"http://127.0.0.1:{free_port()}/",
        **own_names("ported"),
    ).start()
    yield worker
    worker.stop()


def dashboard_url(worker: Worker) -> str:
    """The worker's dashboard port, once it answers (it opens after the tables recover)."""
    assert worker.alive
    url = f"http://127.0.0.1:{DASHBOARD_PORT}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}/health", timeout=2)
            return url
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the dashboard port never opened"
            time.sleep(0.25)


def test_the_dashboard_port_serves_the_app_and_sends_root_to_the_dashboard(
    ported: Worker,
) -> None:
    url = dashboard_url(ported)
    root = httpx.get(f"{url}/", timeout=5)
    assert root.status_code == 302 and root.headers["Location"] == "/dashboard/"
    page = httpx.get(f"{url}/", timeout=5, follow_redirects=True)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert httpx.get(f"{url}/health", timeout=5).json()["status"] in {"healthy", "degraded"}
    # The API's own port keeps the contract's banner at /.
    assert httpx.get(f"{ported.url}/", timeout=5).json()["status"] == "success"


def test_tools_answering_are_linked_and_the_others_fall_back(ported: Worker) -> None:
    tools = httpx.get(f"{ported.url}/dashboard/tools", timeout=5).json()
    assert tools["kafka_ui"] == {"available": True, "fallback": "/dashboard/kafka"}
    assert tools["kibana"] == {"available": False, "fallback": "/dashboard/logs"}
    assert tools["adminer"]["fallback"] is None
    assert tools["prometheus"]["fallback"] is None


def test_a_taken_dashboard_port_is_no_reason_to_stop(
    tmp_path_factory: pytest.TempPathFactory, ported: Worker
) -> None:
    dashboard_url(ported)  # the port is taken by the first worker
    second = Worker(
        tmp_path_factory.mktemp("taken"), DASHBOARD_PORT=str(DASHBOARD_PORT), **own_names("taken")
    ).start()
    try:
        deadline = time.monotonic() + 30
        while "not served" not in second.log_path.read_text():
            assert time.monotonic() < deadline, "no word about the taken port"
            time.sleep(0.25)
        assert second.alive
        assert httpx.get(f"{second.url}/health", timeout=5).status_code == 200
    finally:
        second.stop()
