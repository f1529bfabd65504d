"""Just enough of Kafka's wire protocol to tell that a broker serves clients.

The stack runs before any virtualenv exists, so no Kafka client library is at
hand: two requests (ApiVersions v0, Metadata v4) are written and read by hand.
"""

from __future__ import annotations

import socket
import struct

API_VERSIONS = 18
METADATA = 3
METADATA_VERSION = 4
CORRELATION_ID = 7
CLIENT_ID = b"stack"


def encode_request(api_key: int, version: int, body: bytes) -> bytes:
    """A size-prefixed request with header v1 (api key, version, correlation id, client id)."""
    header = struct.pack(">hhih", api_key, version, CORRELATION_ID, len(CLIENT_ID)) + CLIENT_ID
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


def recv_exact(sock: socket.socket, size: int) -> bytes:
    """Read exactly `size` bytes from a socket."""
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("connection closed")
        chunks += chunk
    return bytes(chunks)


def request(port: int, api_key: int, version: int, body: bytes) -> bytes | None:
    """Send one request to 127.0.0.1:port and return the response body, or None."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3.0) as sock:
            sock.sendall(encode_request(api_key, version, body))
            size = struct.unpack(">i", recv_exact(sock, 4))[0]
            response = recv_exact(sock, size)
    except (OSError, struct.error, ConnectionError):
        return None
    if len(response) < 4 or struct.unpack(">i", response[:4])[0] != CORRELATION_ID:
        return None
    return response[4:]


def parse_api_versions(body: bytes) -> dict[int, tuple[int, int]] | None:
    """ApiVersions v0 response: {api key: (lowest, highest version)}, None on an error code."""
    if len(body) < 6 or struct.unpack(">h", body[:2])[0] != 0:
        return None
    count = struct.unpack(">i", body[2:6])[0]
    if len(body) < 6 + 6 * count:
        return None
    ranges = {}
    for i in range(count):
        key, low, high = struct.unpack(">hhh", body[6 + 6 * i : 12 + 6 * i])
        ranges[key] = (low, high)
    return ranges


def read_string(body: bytes, offset: int) -> tuple[str | None, int]:
    """A nullable int16-length string at `offset`, and the offset after it."""
    length = struct.unpack(">h", body[offset : offset + 2])[0]
    offset += 2
    if length < 0:
        return None, offset
    return body[offset : offset + length].decode(errors="replace"), offset + length


def parse_metadata_brokers(body: bytes) -> set[int]:
    """Node ids of the live brokers in a Metadata v4 response (empty when unreadable)."""
    try:
        count = struct.unpack(">i", body[4:8])[0]  # after throttle_time_ms
        offset, ids = 8, set()
        for _ in range(count):
            ids.add(struct.unpack(">i", body[offset : offset + 4])[0])
            _, offset = read_string(body, offset + 4)  # host
            _, offset = read_string(body, offset + 4)  # rack, after port
    except struct.error:
        return set()
    return ids


def broker_serves(port: int, node_id: int) -> bool:
    """ApiVersions answers without error and Metadata lists node `node_id` as live.

    A node is only listed once it has caught up with the cluster's metadata, so
    this also tells that a node of a multi-node cluster has joined its quorum.
    """
    body = request(port, API_VERSIONS, 0, b"")
    ranges = parse_api_versions(body) if body is not None else None
    if ranges is None:
        return False
    low, high = ranges.get(METADATA, (0, -1))
    if not low <= METADATA_VERSION <= high:
        return True  # a future broker without Metadata v4: ApiVersions is proof enough
    no_topics = struct.pack(">ib", 0, 0)  # empty topic list, no auto-creation
    meta = request(port, METADATA, METADATA_VERSION, no_topics)
    return meta is not None and node_id in parse_metadata_brokers(meta)
