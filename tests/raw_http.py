"""A raw HTTP/1.1 client for the simulator tests: what a broken or hostile client sends."""

from __future__ import annotations

import socket

from course_simulator import Simulator


def connect(sim: Simulator, timeout: float = 10.0, source: str = "127.0.0.1") -> socket.socket:
    """A new connection to ``sim`` from ``source`` (all of 127.0.0.0/8 is loopback, so
    ``127.0.0.2`` is a second client address)."""
    host, port = sim.base_url.removeprefix("http://").split("/")[0].split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect((host, int(port)))
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes, bytes]:
    """(status, headers, body, the raw status line) of one response; body by Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a full response head: {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:length], lines[0]
