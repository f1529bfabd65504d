"""The hand-written Kafka requests and the reading of the two answers the stack needs."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import pytest

from stack.kafka_protocol import (
    API_VERSIONS,
    CORRELATION_ID,
    METADATA,
    broker_serves,
    encode_request,
    parse_api_versions,
    parse_metadata_brokers,
)


def string(text: str | None) -> bytes:
    """A Kafka nullable string."""
    if text is None:
        return struct.pack(">h", -1)
    return struct.pack(">h", len(text)) + text.encode()


def api_versions_body(error: int = 0, metadata: tuple[int, int] = (0, 12)) -> bytes:
    """An ApiVersions v0 answer listing ApiVersions and Metadata."""
    entries = [(API_VERSIONS, 0, 3), (METADATA, *metadata)]
    body = struct.pack(">hi", error, len(entries))
    return body + b"".join(struct.pack(">hhh", *entry) for entry in entries)


def metadata_body(brokers: list[tuple[int, str, int, str | None]]) -> bytes:
    """A Metadata v4 answer with `brokers` and no topics."""
    body = struct.pack(">ii", 0, len(brokers))
    for node_id, host, port, rack in brokers:
        body += struct.pack(">i", node_id) + string(host) + struct.pack(">i", port) + string(rack)
    return body + string("cluster") + struct.pack(">ii", 1, 0)


def test_a_request_carries_its_size_header_and_body() -> None:
    frame = encode_request(METADATA, 4, b"\x00\x00\x00\x00\x00")

    size, api_key, version, correlation = struct.unpack(">ihhi", frame[:12])
    assert size == len(frame) - 4
    assert (api_key, version, correlation) == (METADATA, 4, CORRELATION_ID)
    assert frame.endswith(b"stack\x00\x00\x00\x00\x00")


def test_api_versions_are_read_per_api() -> None:
    assert parse_api_versions(api_versions_body()) == {API_VERSIONS: (0, 3), METADATA: (0, 12)}


@pytest.mark.parametrize(
    "body", [api_versions_body(error=35), b"\x00\x00\x00", b"\x00\x00\x00\x00\x00\x09"]
)
def test_api_versions_with_an_error_or_cut_short_read_as_none(body: bytes) -> None:
    assert parse_api_versions(body) is None


def test_metadata_lists_every_live_broker_with_or_without_a_rack() -> None:
    body = metadata_body([(1, "127.0.0.1", 9092, None), (3, "127.0.0.1", 9096, "rack-a")])

    assert parse_metadata_brokers(body) == {1, 3}


def test_a_truncated_metadata_answer_lists_no_broker() -> None:
    assert parse_metadata_brokers(metadata_body([(1, "127.0.0.1", 9092, None)])[:10]) == set()


@pytest.fixture
def fake_broker() -> Iterator[tuple[int, list[bytes]]]:
    """A one-connection-at-a-time server answering ApiVersions, then Metadata listing node 2."""
    answers = [api_versions_body(), metadata_body([(2, "127.0.0.1", 1, None)])]
    server = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def serve() -> None:
        for answer in answers:
            conn, _ = server.accept()
            with conn:
                size = struct.unpack(">i", conn.recv(4))[0]
                received.append(conn.recv(size))
                payload = struct.pack(">i", CORRELATION_ID) + answer
                conn.sendall(struct.pack(">i", len(payload)) + payload)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    server.close()
    thread.join(timeout=5)


def test_a_node_serves_when_metadata_lists_it(fake_broker: tuple[int, list[bytes]]) -> None:
    port, received = fake_broker

    assert broker_serves(port, node_id=2)
    assert [struct.unpack(">h", request[:2])[0] for request in received] == [API_VERSIONS, METADATA]


def test_a_node_missing_from_metadata_does_not_serve_yet(
    fake_broker: tuple[int, list[bytes]],
) -> None:
    port, _ = fake_broker

    assert not broker_serves(port, node_id=1)


def test_nothing_listening_means_not_serving() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    assert not broker_serves(port, node_id=1)
