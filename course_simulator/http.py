"""HTTP transport: bytes in, a ``Reply`` out as bytes; nothing here knows the API.

``Server`` is a threading ``http.server`` that hands every request (any method) to one
``serve(method, target, headers, raw_body, body_error) -> Reply`` callable and writes the reply.
The pipeline (routes, faults, auth, endpoints) lives in ``server``; this module only frames
bytes: Content-Length and ``Transfer-Encoding: chunked`` bodies, keep-alive, JSON bodies,
dropped connections, and JSON bodies for the protocol errors ``http.server`` detects itself.

Built to survive a room of learners (and a hostile client) on a class server:
- every problem found while reading a request (a garbage request line, bad headers, a bad
  body length or chunk, an unsupported transfer coding, a client that stalls) is answered with a
  status line and an OpenAI-shaped JSON body, and goes through ``serve`` so that it is recorded;
- ``read_timeout_s`` bounds both an idle keep-alive connection (closed quietly) and the time to
  receive one whole request once its first byte arrived (a 408), so a slow drip cannot hold a
  thread forever;
- at most ``max_connections`` connections are served at once; one more gets a 503 at once;
- an exception escaping a handler is passed to ``crash`` (the server's error list and log),
  never printed to stderr.

Streaming (``stream: true``): a ``Reply`` whose ``stream`` is set is written by
``_write_stream`` as ``text/event-stream`` with chunked transfer encoding, one HTTP chunk per
server-sent event, sent the moment the endpoint yields it (so the client sees the first token
before the last exists). Ending with the zero-length chunk keeps the connection reusable; a
``StreamCut`` from the stream drops the connection without it, which the client sees as a
body cut short (the SDK raises ``APIConnectionError`` in the loop reading the stream).
"""

from __future__ import annotations

import contextlib
import email.message
import io
import json
import re
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .errors import SimError, bad_request
from .protocol import Reply, StreamCut

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_CONNECTIONS",
    "MAX_REQUEST_LINE_BYTES",
    "READ_TIMEOUT_S",
    "Crash",
    "Serve",
    "Server",
]

MAX_BODY_BYTES = 64 * 1024 * 1024  # a larger body gets a JSON 413, unread
MAX_REQUEST_LINE_BYTES = 65_536  # a longer request line gets a 414
MAX_CONNECTIONS = 256  # served at once; one more gets a 503 (a class of 30 with 8 workers each)
# Idle keep-alive connections close after this; a request must arrive whole within it. Above
# the SDK's own 5 s keep-alive expiry, so the SDK never reuses a connection the server closed.
READ_TIMEOUT_S = 15.0
_MAX_CHUNK_LINE = 1024
_MAX_TRAILER_LINES = 100
_MAX_BLANK_LINES = 8  # skipped before a request line; the ninth is parsed (and refused)
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_DIGITS = re.compile(r"[0-9]{1,20}")

# (method, target, headers, raw body, error found while reading the request) -> reply
Serve = Callable[[str, str, Any, bytes, "SimError | None"], Reply]
Crash = Callable[[str], None]  # a traceback from outside the pipeline -> recorded


def _no_headers() -> email.message.Message:
    return email.message.Message()


def _reply_bytes(reply: Reply, close: bool) -> bytes:
    """A whole JSON response as bytes (for replies written outside a handler)."""
    data = json.dumps(reply.body, separators=(",", ":")).encode()
    try:
        phrase = HTTPStatus(reply.status).phrase
    except ValueError:
        phrase = "Error"
    lines = [
        f"HTTP/1.1 {reply.status} {phrase}",
        "Content-Type: application/json",
        f"Content-Length: {len(data)}",
        *(f"{name}: {value}" for name, value in reply.headers.items()),
    ]
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace") + data


class Server(ThreadingHTTPServer):
    """A threading HTTP/1.1 server that remembers its open connections (so stop() can close
    them), bounds how many it serves at once, and passes each request to ``serve``."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(
        self,
        address: tuple[str, int],
        serve: Serve,
        *,
        crash: Crash | None = None,
        read_timeout_s: float = READ_TIMEOUT_S,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.serve = serve
        self.crash = crash if crash is not None else (lambda tb: None)
        self.read_timeout_s = float(read_timeout_s)
        self.max_connections = int(max_connections)
        # (method, target) -> the largest body to read; a route may allow more (an upload)
        self.body_limit: Callable[[str, str], int] = lambda method, target: MAX_BODY_BYTES
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        self._active = 0  # connections being served (counted at accept, before the thread)
        super().__init__(address, _Handler)

    def close_connections(self) -> None:
        """Shut down every open connection (held requests and idle keep-alive sockets)."""
        with self.connections_lock:
            for conn in list(self.connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve in a thread, or answer 503 at once when ``max_connections`` are busy."""
        with self.connections_lock:
            busy = self._active >= self.max_connections
            if not busy:
                self._active += 1
        if busy:
            self._refuse_busy(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._done()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._done()

    def _done(self) -> None:
        with self.connections_lock:
            self._active -= 1

    def _refuse_busy(self, sock: socket.socket) -> None:
        """The clear 503 a connection over the bound gets, written without reading anything."""
        error = SimError(
            503,
            f"The course simulator is already serving its maximum of {self.max_connections} "
            "connections at once, so this one was refused. Retry in a moment (the SDK retries a "
            "503 by itself); an instructor can raise the bound with --max-connections.",
            "server_error",
            code="server_busy",
            outcome="server_busy",
            headers={"retry-after": "1"},
        )
        try:
            reply = self.serve("-", "/", _no_headers(), b"", error)
            sock.settimeout(1.0)
            sock.sendall(_reply_bytes(reply, close=True))
        except OSError:
            pass
        finally:
            self.shutdown_request(sock)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """An exception that escaped a handler: recorded by ``crash``, never printed."""
        if isinstance(sys.exc_info()[1], OSError):
            return  # the client went away mid-write: nothing the server did wrong
        self.crash(traceback.format_exc())


class _DeadlineSocket(io.RawIOBase):
    """The socket's read side, with a deadline over the whole request.

    Each receive waits at most ``read_timeout_s``; once the first byte of a request has arrived,
    every receive also stops at that request's deadline. A client that drips one byte at a time
    therefore cannot hold the connection past it (a per-receive timeout alone would never fire).
    """

    def __init__(self, sock: socket.socket, timeout_s: float) -> None:
        self._sock, self._timeout_s = sock, timeout_s
        self.deadline: float | None = None  # set when a request's first byte arrives

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        wait = self._timeout_s
        if self.deadline is not None:
            wait = min(wait, self.deadline - time.monotonic())
            if wait <= 0:
                raise TimeoutError("the request did not arrive in time")
        self._sock.settimeout(wait)
        n = self._sock.recv_into(buffer)
        if n and self.deadline is None:
            self.deadline = time.monotonic() + self._timeout_s
        return n


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the SDK's connection pool reuses sockets
    default_request_version = "HTTP/1.1"  # so even garbage before a version gets a status line
    server_version = "course-simulator"
    sys_version = ""
    server: Server

    def setup(self) -> None:
        self.request.settimeout(self.server.read_timeout_s)
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._reader = _DeadlineSocket(self.connection, self.server.read_timeout_s)
        self.rfile = io.BufferedReader(self._reader)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the request log is ``Simulator.requests``, not stderr."""

    def version_string(self) -> str:
        return self.server_version

    # --- one request -------------------------------------------------------------------

    def handle_one_request(self) -> None:
        """Read one request within the deadline and answer it; every problem gets a reply.

        Every method (GET, POST, PATCH, HEAD, OPTIONS, ...) goes to ``_handle``: http.server
        would answer a method without a ``do_X`` with an HTML 501; here the route table decides,
        so an unknown method or route gets the JSON 404 listing routes.
        """
        self._reader.deadline = None
        self.command, self.path, self.headers = "", "/", _no_headers()
        self.requestline, self.request_version = "", self.default_request_version
        try:
            try:
                self.raw_requestline = self._request_line()
            except TimeoutError:
                if self._reader.deadline is None:  # idle: no request began, nothing to answer
                    self.close_connection = True
                    return
                raise  # part of a request line arrived: it gets its 408 below
            if not self.raw_requestline:
                self.close_connection = True
                return
            if len(self.raw_requestline) > MAX_REQUEST_LINE_BYTES:
                self.send_error(
                    HTTPStatus.REQUEST_URI_TOO_LONG,
                    f"Request line over {MAX_REQUEST_LINE_BYTES:,} bytes",
                )
                return
            if not self.parse_request():
                return  # parse_request answered (through send_error)
            raw, body_error = self._read_body()
        except TimeoutError:
            self._answer_error(
                SimError(
                    408,
                    f"The request did not arrive whole within {self.server.read_timeout_s:g} s, "
                    "so the course simulator stopped waiting for it. Send the whole request at "
                    "once (HTTP clients such as the SDK do).",
                    code="request_timeout",
                    outcome="read_timeout",
                )
            )
            return
        except OSError:  # the client went away mid-request
            self.close_connection = True
            return
        self._handle(raw, body_error)

    def _request_line(self) -> bytes:
        """The next request line, skipping a few blank lines before it (as HTTP asks)."""
        for _ in range(_MAX_BLANK_LINES):
            line = self.rfile.readline(MAX_REQUEST_LINE_BYTES + 1)
            if not line or line.decode("latin-1").strip():
                return line
        return line

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors http.server finds itself (bad request line, headers): JSON too."""
        text = message or self.responses.get(code, ("Error",))[0]
        error = SimError(
            int(code), f"{text}. {explain}" if explain else text, "invalid_request_error"
        )
        self._answer_error(error)

    def _answer_error(self, error: SimError) -> None:
        """Answer a request the server refuses while reading it, then close the connection."""
        self.close_connection = True
        self._handle(b"", error)

    def _handle(self, raw: bytes, body_error: SimError | None) -> None:
        """Pass the request to ``serve`` and write its reply (or drop the connection)."""
        self.connection.settimeout(self.server.read_timeout_s)  # writes get the full time
        method = self.command or "-"
        reply = self.server.serve(method, self.path or "/", self.headers, raw, body_error)
        if reply.action == "drop":
            self.close_connection = True
            return
        if reply.stream is not None:
            self._write_stream(reply)
            return
        self._write_json(reply)

    # --- bodies --------------------------------------------------------------------------

    def _read_body(self) -> tuple[bytes, SimError | None]:
        """The request body, or the error its framing earns (then the connection closes)."""
        codings = ",".join(self.headers.get_all("Transfer-Encoding") or [])
        if codings.strip():
            body, error = self._read_transfer_encoded(codings)
        else:
            body, error = self._read_sized()
        if error is not None:
            self.close_connection = True  # the body was not read whole: the stream is unusable
        return body, error

    def _read_sized(self) -> tuple[bytes, SimError | None]:
        values = {v.strip() for v in self.headers.get_all("Content-Length") or []}
        if not values:
            return b"", None
        raw_length = values.pop() if len(values) == 1 else None
        if raw_length is None or not _DIGITS.fullmatch(raw_length):
            return b"", bad_request(
                "Content-Length must be one whole number of bytes, got "
                f"{', '.join(self.headers.get_all('Content-Length') or [])!r}: send the JSON "
                "body with a correct Content-Length (HTTP clients such as the SDK do this).",
                "Content-Length",
            )
        length = int(raw_length)
        if length > self._limit():
            return b"", self._too_large(length)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            return b"", bad_request(
                f"The body ended after {len(body):,} of the {length:,} bytes its Content-Length "
                "announced.",
                "Content-Length",
            )
        return body, None

    def _read_transfer_encoded(self, codings: str) -> tuple[bytes, SimError | None]:
        names = [c.strip().lower() for c in codings.split(",") if c.strip()]
        if names != ["chunked"]:
            return b"", SimError(
                501,
                f"Transfer-Encoding {codings!r} is not supported: the course simulator reads "
                "bodies sent whole (Content-Length) or as plain 'chunked'.",
                "invalid_request_error",
                "Transfer-Encoding",
                "unsupported_transfer_encoding",
                outcome="bad_request",
            )
        if self.headers.get("Content-Length") is not None:
            self.close_connection = True  # both framings: answer, then never reuse the stream
        return self._read_chunked()

    def _read_chunked(self) -> tuple[bytes, SimError | None]:
        """A ``Transfer-Encoding: chunked`` body, strictly framed and bounded in size."""
        body = bytearray()
        while True:
            line = self.rfile.readline(_MAX_CHUNK_LINE + 1)
            size_text = line.split(b";", 1)[0].strip()
            if not line.endswith(b"\n") or not _HEX.fullmatch(size_text):
                return b"", self._bad_chunk(f"a chunk size line {line[:40]!r} is not hex digits")
            size = int(size_text, 16)
            if size == 0:
                break
            if len(body) + size > self._limit():
                return b"", self._too_large(len(body) + size)
            data = self.rfile.read(size)
            if len(data) < size or self.rfile.read(2) != b"\r\n":
                return b"", self._bad_chunk("the body ended inside a chunk")
            body += data
        for _ in range(_MAX_TRAILER_LINES):  # trailers, up to the blank line
            line = self.rfile.readline(_MAX_CHUNK_LINE + 1)
            if line in (b"\r\n", b"\n"):
                return bytes(body), None
            if not line.endswith(b"\n"):
                break
        return b"", self._bad_chunk("the chunked body did not end with a blank line")

    def _bad_chunk(self, why: str) -> SimError:
        return bad_request(
            f"The chunked request body is malformed: {why}. Send the JSON body with a "
            "Content-Length (HTTP clients such as the SDK do this).",
            "Transfer-Encoding",
        )

    def _limit(self) -> int:
        """The largest body this request may send (an upload route allows more)."""
        return self.server.body_limit(self.command, self.path)

    def _too_large(self, length: int) -> SimError:
        return SimError(
            413,
            f"The request body is {length:,} bytes; the course simulator accepts at most "
            f"{self._limit():,}. Send a smaller input.",
            code="request_too_large",
        )

    # --- writing -------------------------------------------------------------------------
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
            self.wfile.flush()
        except OSError:  # the client went away (e.g. it timed out first)
            self.close_connection = True
