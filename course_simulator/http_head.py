"""An HTTP/1.1 message head, read and written by hand: the socket server's per-request cost.

``http.server`` reads a request's header block with the ``email`` package's parser and writes a
response head with one method call per line, formatting the Date each time; at a thousand
requests a second that was a fifth of the server's own work. This module does the same job
directly: ``parse_request_line`` checks the request line as ``http.server`` does,
``read_headers`` reads the header lines into ``Headers`` (a small case-blind
multi-map, the ``get`` / ``get_all`` that the app and ``http`` use) within the same bounds as
``http.client`` (64 KiB a line, 100 lines), and ``response_head`` writes a status line and its
fields as one block of bytes, so head and body leave in one ``send``.

A header line the parser cannot read (no colon, or a name with spaces) is refused with a 400,
where the ``email`` parser quietly took it for the start of the body and ignored the headers
after it (an ``Authorization`` sent after a bad line went missing).
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Iterable
from http import HTTPStatus
from typing import Protocol

__all__ = [
    "MAX_HEADERS",
    "MAX_HEADER_LINE",
    "HeadError",
    "Headers",
    "parse_request_line",
    "read_headers",
    "response_head",
]

MAX_HEADER_LINE = 65_536  # as http.client: a longer header line gets a 431
MAX_HEADERS = 100  # as http.client: more header lines get a 431
_PHRASES = {status.value: status.phrase for status in HTTPStatus}
_VERSION_NUMBER = re.compile(r"[0-9]{1,10}")  # each of the two in "HTTP/1.1", as http.server
_FOLD = (" ", "\t")
_BLANKS = " \t"


class _Lines(Protocol):
    def readline(self, size: int, /) -> bytes: ...


class HeadError(Exception):
    """A header block the server refuses: ``status`` (400 or 431) and what was wrong."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Headers:
    """A request's header fields in arrival order; names compare case-blind."""

    __slots__ = ("_fields", "_first")

    def __init__(self, fields: Iterable[tuple[str, str]] = ()) -> None:
        self._fields: list[tuple[str, str]] = []
        self._first: dict[str, str] = {}  # lower-case name -> its first value
        for name, value in fields:
            self.add(name, value)

    def add(self, name: str, value: str) -> None:
        self._fields.append((name, value))
        self._first.setdefault(name.lower(), value)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of ``name``, or ``default`` (as ``email.message.Message.get``)."""
        return self._first.get(name.lower(), default)

    def get_all(self, name: str) -> list[str] | None:
        """Every value of ``name`` in order, or None when it is absent."""
        wanted = name.lower()
        values = [value for key, value in self._fields if key.lower() == wanted]
        return values or None

    def items(self) -> list[tuple[str, str]]:
        return list(self._fields)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._first

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"Headers({[name for name, _ in self._fields]})"  # names only: never the key


def parse_request_line(line: str) -> tuple[str, str, str, bool]:
    """(method, target, version, close the connection after?) of a request line, checked as
    ``http.server`` checks it: a bad version or syntax is a 400, HTTP/2 or later a 505."""
    words = line.split()
    version, close = "HTTP/1.1", True  # no version given: answered as 1.1, then closed
    if len(words) >= 3:
        version = words[-1]
        major, dot, minor = version[5:].partition(".")
        numbers = _VERSION_NUMBER.fullmatch(major) and _VERSION_NUMBER.fullmatch(minor)
        if not (version.startswith("HTTP/") and dot and numbers):
            raise HeadError(400, f"Bad request version ({version!r})")
        if int(major) >= 2:
            raise HeadError(505, f"Invalid HTTP version ({version[5:]})")
        close = (int(major), int(minor)) < (1, 1)
    if not 2 <= len(words) <= 3:
        raise HeadError(400, f"Bad request syntax ({line!r})")
    method, target = words[:2]
    if len(words) == 2 and method != "GET":
        raise HeadError(400, f"Bad HTTP/0.9 request type ({method!r})")
    if target.startswith("//"):  # as http.server: never read as a host name (gh-87389)
        target = "/" + target.lstrip("/")
    return method, target, version, close


def read_headers(rfile: _Lines) -> Headers:
    """Read header lines up to the blank line that ends them (or the end of the stream)."""
    headers = Headers()
    last: list[str] | None = None  # [name, value] of the previous field, for a folded line
    for _ in range(MAX_HEADERS + 1):
        raw = rfile.readline(MAX_HEADER_LINE + 1)
        if len(raw) > MAX_HEADER_LINE:
            raise HeadError(431, f"Line too long. A header line is over {MAX_HEADER_LINE:,} bytes")
        if raw in (b"\r\n", b"\n", b""):
            if last is not None:
                headers.add(*last)
            return headers
        line = raw.decode("iso-8859-1").rstrip("\r\n")
        if line.startswith(_FOLD) and last is not None:  # obsolete folding: one more line
            last[1] = f"{last[1]} {line.strip(_BLANKS)}".strip(_BLANKS)
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or " " in name or "\t" in name:
            raise HeadError(
                400, f"Bad header line {line[:60]!r}: a header is 'Name: value', one a line"
            )
        if last is not None:
            headers.add(*last)
        last = [name, value.strip(_BLANKS)]
    raise HeadError(431, f"Too many headers. A request may send at most {MAX_HEADERS}")


_date: tuple[int, str] = (0, "")


def _http_date() -> str:
    """The Date field's value, formatted once a second rather than once per response."""
    global _date
    now = int(time.time())
    if _date[0] != now:
        _date = (now, email.utils.formatdate(now, usegmt=True))
    return _date[1]


def response_head(status: int, fields: Iterable[tuple[str, str]], *, close: bool) -> bytes:
    """A response's status line and fields (after ``Server`` and ``Date``), as bytes."""
    lines = [
        f"HTTP/1.1 {status} {_PHRASES.get(status, 'Error')}",
        "Server: course-simulator",
        f"Date: {_http_date()}",
        *(f"{name}: {value}" for name, value in fields),
    ]
    if close:
        lines.append("Connection: close")
    lines.append("\r\n")
    return "\r\n".join(lines).encode("latin-1", "replace")
