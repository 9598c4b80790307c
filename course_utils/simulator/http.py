"""HTTP transport: bytes in, a ``Reply`` out as bytes; nothing here knows the API.

``Server`` is a threading ``http.server`` that hands every request (any method) to one
``serve(method, target, headers, raw_body, body_error) -> Reply`` callable and writes the reply.
The pipeline (routes, faults, auth, endpoints) lives in ``server``; this module only frames
bytes: Content-Length checks, keep-alive, JSON bodies, dropped connections, and JSON bodies for
the protocol errors ``http.server`` detects itself.

Streaming (``stream: true``): a ``Reply`` whose ``stream`` is set is written by
``_write_stream`` as ``text/event-stream`` with chunked transfer encoding, one HTTP chunk per
server-sent event, sent the moment the endpoint yields it (so the client sees the first token
before the last exists). Ending with the zero-length chunk keeps the connection reusable; a
``StreamCut`` from the stream drops the connection without it, which the client sees as a
body cut short (the SDK raises ``APIConnectionError`` in the loop reading the stream).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .errors import SimError, bad_request, error_body
from .protocol import Reply, StreamCut

__all__ = [
    "MAX_BODY_BYTES",
    "Serve",
    "Server",
]

MAX_BODY_BYTES = 64 * 1024 * 1024  # a larger Content-Length gets a JSON 413, unread

# (method, target, headers, raw body, error found while reading the body) -> reply
Serve = Callable[[str, str, Any, bytes, "SimError | None"], Reply]


class Server(ThreadingHTTPServer):
    """A threading HTTP/1.1 server that remembers its open connections (so stop() can close
    them) and passes each request to ``serve``."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], serve: Serve) -> None:
        self.serve = serve
        # (method, target) -> the largest body to read; a route may allow more (an upload)
        self.body_limit: Callable[[str, str], int] = lambda method, target: MAX_BODY_BYTES
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def close_connections(self) -> None:
        """Shut down every open connection (held requests and idle keep-alive sockets)."""
        with self.connections_lock:
            for conn in list(self.connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the SDK's connection pool reuses sockets
    server_version = "course-simulator"
    server: Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the request log is ``Simulator.requests``, not stderr."""

    def __getattr__(self, name: str) -> Any:
        """Every method (GET, POST, PATCH, HEAD, OPTIONS, ...) goes through ``_handle``.

        http.server otherwise answers a method without a ``do_X`` with an HTML 501; here the
        route table decides, so an unknown method or route gets the JSON 404 listing routes.
        """
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors http.server finds itself (bad request line, headers): JSON too."""
        self.close_connection = True
        text = message or self.responses.get(code, ("Error",))[0]
        data = json.dumps(
            error_body(f"{text}. {explain}" if explain else text, "invalid_request_error"),
            separators=(",", ":"),
        ).encode()
        with contextlib.suppress(OSError):
            self.send_response(code, text)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            if getattr(self, "command", None) != "HEAD" and code not in (204, 304):
                self.wfile.write(data)

    def _read_body(self) -> tuple[bytes, SimError | None]:
        """The request body, or the error its Content-Length header earns (body left unread)."""
        raw_length = self.headers.get("Content-Length")
        try:
            length = int(raw_length or 0)
        except ValueError:
            length = -1
        error = None
        if length < 0:
            error = bad_request(
                f"Content-Length must be a whole number of bytes, got {raw_length!r}: send the "
                "JSON body with a correct Content-Length (HTTP clients such as the SDK do this).",
                "Content-Length",
            )
        elif length > (limit := self.server.body_limit(self.command, self.path)):
            error = SimError(
                413,
                f"The request body is {length:,} bytes; the course simulator accepts at most "
                f"{limit:,}. Send a smaller input.",
                code="request_too_large",
            )
        if error is not None:
            self.close_connection = True  # the body was not read: the stream cannot be reused
            return b"", error
        return (self.rfile.read(length) if length > 0 else b""), None

    def _handle(self) -> None:
        raw, body_error = self._read_body()
        reply = self.server.serve(self.command, self.path, self.headers, raw, body_error)
        if reply.action == "drop":
            self.close_connection = True
            return
        if reply.stream is not None:
            self._write_stream(reply)
            return
        self._write_json(reply)

    def _write_stream(self, reply: Reply) -> None:
        """Send ``reply.stream`` as server-sent events, one flushed HTTP chunk per event."""
        assert reply.stream is not None
        stream = reply.stream
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.flush()  # the status line and headers go now: the first event may wait
            for frame in stream:
                if frame:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
                    self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except StreamCut:  # on purpose (fault stream_cut): no last chunk, the body is cut short
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:  # the client went away (closed the stream, or timed out)
            self.close_connection = True
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # stop the generator (and its pacing) at once

    def _write_json(self, reply: Reply) -> None:
        """Send ``reply`` as one JSON document (or its ``text`` / raw ``content``) with a
        Content-Length."""
        if reply.content is not None:
            data = reply.content
        elif reply.text is not None:
            data = reply.text.encode()
        else:
            data = json.dumps(reply.body, separators=(",", ":")).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except OSError:  # the client went away (e.g. it timed out first)
            self.close_connection = True
