"""The socket server: bytes in, the app's ``Reply`` out as bytes; nothing here knows the API.

``Server`` is a threading ``http.server`` that hands every request (any method) to the app's
``handle(method, target, headers, raw_body, body_error) -> Reply`` and writes the reply. The
pipeline (routes, faults, auth, endpoints) lives in ``server``; this module frames bytes
(Content-Length and ``Transfer-Encoding: chunked`` bodies, keep-alive, JSON bodies, dropped
connections, JSON bodies for the protocol errors ``http.server`` detects itself) and does the
waiting the app leaves to its sender: a reply's ``delay_s``, a stream's pacing, a held request.

Why hand-written framing on ``http.server`` rather than a server library (uvicorn, hypercorn,
h11): the faults need control a library hides or normalises -- closing a connection with no
response at all (``disconnect``), cutting a chunked body without its last chunk
(``stream_cut``), answering a body-less 401/413 and closing before the body is read, and
JSON bodies (recorded in the request log) for the protocol errors a library answers itself in
plain text. It also adds no dependency to a learner's install. ``http.server`` keeps the
connections and threads; the request line and headers are parsed, and each response head
written, by our own code (``parse_request`` and ``http_head``): its ``email``-based parser
and line-by-line writer cost a fifth of the server's time per request.

Built to survive a room of learners (and a hostile client) on a class server:
- every problem found while reading a request (a garbage request line, bad headers, a bad
  body length or chunk, an unsupported transfer coding, a client that stalls) is answered with a
  status line and an OpenAI-shaped JSON body, and goes through ``serve`` so that it is recorded;
- ``read_timeout_s`` bounds both an idle keep-alive connection (closed quietly) and the time to
  receive one whole request once its first byte arrived (a 408), so a slow drip cannot hold a
  thread forever;
- at most ``max_connections`` connections are served at once; one more gets a 503 at once;
- at most ``max_unkeyed_per_address`` connections per client address that have not yet shown
  a valid key (idle sockets, a keyless flood): one more from that address gets a 503 at once,
  so no single client can hold the connections a room needs; and at most
  ``MAX_CONNECTIONS_PER_KEY`` connections per key (a request on one more gets a 503 and the
  connection closes), so one learner's 300-thread pool cannot either;
- the key is checked from the headers, before the body is read (``App.precheck``): a 60 MB
  body without a valid key gets its 401 without being stored or parsed;
- the pipeline runs at most ``fair_share.slots`` requests at once, one key's turn after the
  other (``fair_share``): one learner's flood waits behind their own requests, not the room's;
- a held request (fault ``timeout``) is released when its client disconnects (or at
  ``hold_max_s``, or at stop()/reset()), so a client that gave up no longer holds a thread;
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
import io
import re
import select
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from .error_replies import SimError, bad_request
from .fair_share import FairShare
from .http_head import HeadError, Headers, parse_request_line, read_headers, response_head
from .protocol import Reply, StreamCut
from .request_body import bearer

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_CONNECTIONS",
    "MAX_CONNECTIONS_PER_KEY",
    "MAX_REQUEST_LINE_BYTES",
    "MAX_UNKEYED_PER_ADDRESS",
    "READ_TIMEOUT_S",
    "App",
    "Server",
]

MAX_BODY_BYTES = 64 * 1024 * 1024  # a larger body gets a JSON 413, unread
MAX_REQUEST_LINE_BYTES = 65_536  # a longer request line gets a 414
MAX_CONNECTIONS = 1024  # served at once; one more gets a 503 (300 learners, a few sockets each)
MAX_UNKEYED_PER_ADDRESS = 128  # connections from one address that never showed a valid key
MAX_CONNECTIONS_PER_KEY = 64  # connections one key may hold (a runner's pool is far smaller)
# Idle keep-alive connections close after this; a request must arrive whole within it. Above
# the SDK's own 5 s keep-alive expiry, so the SDK never reuses a connection the server closed.
READ_TIMEOUT_S = 15.0
_MAX_CHUNK_LINE = 1024
_MAX_TRAILER_LINES = 100
_MAX_BLANK_LINES = 8  # skipped before a request line; the ninth is parsed (and refused)
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_DIGITS = re.compile(r"[0-9]{1,20}")
_DISCARD_S = 1.0  # after an early refusal, unread body bytes are dropped this long, then close
_HOLD_POLL_S = 0.25  # how often a held request looks whether its client is still there


class App(Protocol):
    """What the socket server needs of the app (``server.Simulator``)."""

    read_timeout_s: float
    max_connections: int
    max_unkeyed_per_address: int
    hold_max_s: float
    fair_share: FairShare

    def handle(
        self, method: str, target: str, headers: Any, raw: bytes, body_error: SimError | None = None
    ) -> Reply: ...

    def precheck(self, method: str, target: str, headers: Any) -> SimError | None: ...

    def key_is_valid(self, headers: Any) -> bool: ...

    def pause(self, seconds: float) -> None: ...

    def release_signal(self) -> threading.Event: ...

    def crash_outside(self, tb: str) -> None: ...


def _reply_bytes(reply: Reply, close: bool) -> bytes:
    """A whole JSON response as bytes (for replies written outside a handler)."""
    data = reply.payload()
    fields = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    return response_head(reply.status, [*fields, *reply.headers.items()], close=close) + data


class Server(ThreadingHTTPServer):
    """A threading HTTP/1.1 server that remembers its open connections (so stop() can close
    them), bounds how many it serves at once (in all, and keyless per address), and passes
    each request to ``app.handle``."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(
        self,
        address: tuple[str, int],
        app: App,
        *,
        body_limit: Callable[[str, str], int | None] = lambda method, target: None,
    ) -> None:
        self.app = app
        self.read_timeout_s = float(app.read_timeout_s)
        self.max_connections = int(app.max_connections)
        # (method, target) -> the largest body to read, if not MAX_BODY_BYTES (an upload)
        self.body_limit = body_limit
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        self._active = 0  # connections being served (counted at accept, before the thread)
        self._unkeyed: dict[socket.socket, str] = {}  # connection -> address, until a valid key
        self._unkeyed_count: dict[str, int] = {}
        self._key_of: dict[socket.socket, str] = {}  # connection -> the key it showed first
        self._per_key: dict[str, int] = {}
        super().__init__(address, _Handler)

    @property
    def active(self) -> int:
        """Connections being served now (a thread each)."""
        with self.connections_lock:
            return self._active

    def mark_keyed(self, conn: socket.socket, key: str) -> bool:
        """``conn`` showed a valid ``key``: it leaves its address's keyless count and joins
        the key's (its first key only). False when the key already holds its bound."""
        with self.connections_lock:
            if conn in self._key_of:
                return True
            if self._per_key.get(key, 0) >= MAX_CONNECTIONS_PER_KEY:
                return False
            self._forget_unkeyed(conn)
            self._key_of[conn] = key
            self._per_key[key] = self._per_key.get(key, 0) + 1
            return True

    def _forget_unkeyed(self, conn: socket.socket) -> None:
        address = self._unkeyed.pop(conn, None)
        if address is not None:
            left = self._unkeyed_count[address] - 1
            if left:
                self._unkeyed_count[address] = left
            else:
                del self._unkeyed_count[address]

    def close_connections(self) -> None:
        """Shut down every open connection (held requests and idle keep-alive sockets)."""
        with self.connections_lock:
            for conn in list(self.connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve in a thread, or answer 503 at once when ``max_connections`` are busy or the
        address already holds its bound of connections without a valid key."""
        address = str(client_address[0]) if client_address else "-"
        bound = self.app.max_unkeyed_per_address
        with self.connections_lock:
            busy = self._active >= self.max_connections
            crowded = not busy and self._unkeyed_count.get(address, 0) >= bound
            if not (busy or crowded):
                self._active += 1
                self._unkeyed[request] = address
                self._unkeyed_count[address] = self._unkeyed_count.get(address, 0) + 1
        if busy or crowded:
            self._refuse_busy(request, address if crowded else None)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._done(request)
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._done(request)

    def _done(self, conn: socket.socket) -> None:
        with self.connections_lock:
            self._active -= 1
            self._forget_unkeyed(conn)
            key = self._key_of.pop(conn, None)
            if key is not None:
                self._per_key[key] -= 1
                if not self._per_key[key]:
                    del self._per_key[key]

    def _refuse_busy(self, sock: socket.socket, crowded: str | None) -> None:
        """The clear 503 a connection over a bound gets, written without reading anything."""
        if crowded is not None:
            message = (
                f"Your address ({crowded}) already holds {self.app.max_unkeyed_per_address} "
                "connections that sent no valid API key, so this one was refused. Close idle "
                "connections, or send your requests with your key."
            )
        else:
            message = (
                f"The course simulator is already serving its maximum of {self.max_connections}"
                " connections at once, so this one was refused. Retry in a moment (the SDK "
                "retries a 503 by itself); an instructor can raise the bound with "
                "--max-connections."
            )
        error = SimError(
            503, message, "server_error", code="server_busy", outcome="server_busy",
            headers={"retry-after": "1"},
        )  # fmt: skip
        try:
            reply = self.app.handle("-", "/", Headers(), b"", error)
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
        self.app.crash_outside(traceback.format_exc())


def _too_many_for_key() -> SimError:
    return SimError(
        503,
        f"This API key already holds {MAX_CONNECTIONS_PER_KEY} connections to the course "
        "simulator, so this one was closed. Send your requests over fewer connections (a "
        "client's pool of 8 to 16 is plenty); the room shares this server.",
        "server_error",
        code="server_busy",
        outcome="server_busy",
        headers={"retry-after": "1"},
    )


def _set_timeout(sock: socket.socket, seconds: float) -> None:
    """``sock.settimeout(seconds)`` unless it is set already: each call is a system call
    (``ioctl``), and a keep-alive connection mostly sets the same timeout again."""
    if sock.gettimeout() != seconds:
        sock.settimeout(seconds)


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
        _set_timeout(self._sock, wait)
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
    headers: Headers  # type: ignore[assignment]  # read by http_head, not the email parser

    _turn = "-"  # whose turn the pipeline takes (fair_share): the key, or the address

    def setup(self) -> None:
        self.request.settimeout(self.server.read_timeout_s)
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._reader = _DeadlineSocket(self.connection, self.server.read_timeout_s)
        self._turn = f"address:{self.client_address[0]}"
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
        self.command, self.path, self.headers = "", "/", Headers()
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
            self._expects_continue = False
            if not self.parse_request():
                return  # parse_request answered (through send_error)
            if not self._admit_by_headers():
                return  # refused from the headers alone: the body was never read
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

    def parse_request(self) -> bool:
        """The request line and headers, checked as ``http.server`` checks them but read by
        ``http_head`` (not its ``email`` parser: see there). False once a refusal is sent."""
        self.close_connection = True
        self.requestline = line = self.raw_requestline.decode("iso-8859-1").rstrip("\r\n")
        if not line.split():
            return False  # only blank lines: closed unanswered, as http.server does
        try:
            self.command, self.path, self.request_version, close = parse_request_line(line)
            self.close_connection = close
            self.headers = read_headers(self.rfile)
        except HeadError as err:
            self.send_error(err.status, str(err))
            return False
        connection = (self.headers.get("Connection") or "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        expect = (self.headers.get("Expect") or "").lower()
        if expect == "100-continue" and self.request_version >= "HTTP/1.1":
            return self.handle_expect_100()
        return True

    def handle_expect_100(self) -> bool:
        """Send ``100 Continue`` only once the headers passed ``precheck`` (see below)."""
        self._expects_continue = True
        return True

    def _admit_by_headers(self) -> bool:
        """Check route and key from the headers, before the body: a refusal is answered, its
        unread body dropped unstored, and the connection closed. An accepted key moves the
        connection out of its address's keyless bound and names its turn (``fair_share``)."""
        app = self.server.app
        refusal = app.precheck(self.command, self.path, self.headers)
        if refusal is not None:
            self._answer_error(refusal)
            self._discard_unread()
            return False
        key = bearer(self.headers)
        if key is not None and app.key_is_valid(self.headers):
            if not self.server.mark_keyed(self.connection, key):
                self._answer_error(_too_many_for_key())
                self._discard_unread()
                return False
            self._turn = f"key:{key}"
        if self._expects_continue:
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()
        return True

    def _discard_unread(self) -> None:
        """Let the client finish sending what it started (so it reads our reply instead of a
        reset), dropping the bytes into one small buffer, for at most ``_DISCARD_S``."""
        if not (self.headers.get("Content-Length") or self.headers.get("Transfer-Encoding")):
            return
        sock, scrap = self.connection, bytearray(65536)
        deadline = time.monotonic() + _DISCARD_S
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
            while (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                if not sock.recv_into(scrap):
                    break

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
        """Pass the request to the app in its key's turn, then send the reply: after its
        ``delay_s``, as a paced stream, held until the client leaves, or dropped."""
        _set_timeout(self.connection, self.server.read_timeout_s)  # writes get the full time
        app, method = self.server.app, self.command or "-"
        with app.fair_share.turn(self._turn):
            reply = app.handle(method, self.path or "/", self.headers, raw, body_error)
        if reply.action == "hold":
            self._hold()
        elif reply.action == "drop":
            app.pause(reply.delay_s)  # a reply cut before it is sent still took its time
        if reply.action in ("hold", "drop"):
            self.close_connection = True
            return
        if reply.stream is not None:
            self._write_stream(reply)
            return
        app.pause(reply.delay_s)
        self._write_json(reply)

    def _hold(self) -> None:
        """Hold a request (fault ``timeout``) until its client disconnects, ``hold_max_s``
        passes, or stop()/reset() releases it; then the connection is dropped unanswered."""
        app, sock = self.server.app, self.connection
        deadline, released = time.monotonic() + app.hold_max_s, app.release_signal()
        while not released.is_set() and (left := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([sock], [], [], min(_HOLD_POLL_S, left))
            if not readable:
                continue
            try:
                if not sock.recv(1, socket.MSG_PEEK):
                    return  # the client hung up: nobody waits for this answer any more
            except OSError:
                return
            app.pause(left)  # it sent more (pipelining): no more polling, just the hold
            return

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
        return self.server.body_limit(self.command, self.path) or MAX_BODY_BYTES

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
        fields = [
            ("Content-Type", "text/event-stream; charset=utf-8"),
            ("Cache-Control", "no-cache"),
            ("Transfer-Encoding", "chunked"),
            *reply.headers.items(),
        ]
        try:
            # the status line and headers go now: the first event may wait
            self.wfile.write(response_head(reply.status, fields, close=self.close_connection))
            for frame in stream:
                if isinstance(frame, float):
                    self.server.app.pause(frame)  # the stream's pacing (released by stop())
                elif frame:
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
        Content-Length, head and body in one write (one packet for a small reply)."""
        data = reply.payload()
        fields = [("Content-Type", reply.content_type), ("Content-Length", str(len(data)))]
        head = response_head(
            reply.status, [*fields, *reply.headers.items()], close=self.close_connection
        )
        try:
            self.wfile.write(head if self.command == "HEAD" else head + data)  # one send
        except OSError:  # the client went away (e.g. it timed out first)
            self.close_connection = True
