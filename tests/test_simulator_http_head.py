"""The socket server reads request heads and writes response heads itself (``http_head``):
the fields the app reads, the bounds ``http.client`` kept, and a refused header line."""

from __future__ import annotations

import email.utils
import io
import json
import time

import pytest
from raw_http import connect, read_response  # a helper beside the tests

from course_simulator.http_head import (
    HeadError,
    Headers,
    parse_request_line,
    read_headers,
    response_head,
)
from course_utils.pricing import DEFAULT_MODEL


def head(raw: bytes) -> Headers:
    return read_headers(io.BytesIO(raw))


def test_fields_are_found_whatever_their_case_and_repeats_keep_their_order() -> None:
    headers = head(b"Content-Type: application/json\r\nX-A: 1\r\nx-a:  2 \r\n\r\nbody")
    assert headers.get("content-type") == "application/json"
    assert headers.get("X-A") == "1"  # the first, as email.message.Message.get
    assert headers.get_all("x-A") == ["1", "2"]  # blanks around a value are not part of it
    assert headers.get("Authorization") is None and headers.get_all("Authorization") is None
    assert "CONTENT-TYPE" in headers and len(headers) == 3


def test_the_head_ends_at_the_blank_line_and_leaves_the_body_unread() -> None:
    stream = io.BytesIO(b"Content-Length: 4\n\nbody")
    assert head(stream.getvalue()).get("Content-Length") == "4"
    read_headers(stream)
    assert stream.read() == b"body"


def test_a_folded_line_continues_the_field_before_it() -> None:
    headers = head(b"X-Note: first\r\n  second\r\n\tthird\r\nX-B: b\r\n\r\n")
    assert headers.get("x-note") == "first second third"
    assert headers.get("x-b") == "b"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"Bad Header Line\r\n\r\n", 400),
        (b"X-A : spaced name\r\n\r\n", 400),
        (b": no name\r\n\r\n", 400),
        (b" folded first line\r\n\r\n", 400),
        (b"X-A: " + b"a" * 70_000 + b"\r\n\r\n", 431),
        (b"X-A: b\r\n" * 101 + b"\r\n", 431),
    ],
)
def test_a_head_the_server_cannot_read_is_refused_with_its_status(raw, status) -> None:
    with pytest.raises(HeadError) as err:
        head(raw)
    assert err.value.status == status and str(err.value)


@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        ("POST /v1/responses HTTP/1.1", ("POST", "/v1/responses", "HTTP/1.1", False)),
        ("GET /v1/models HTTP/1.0", ("GET", "/v1/models", "HTTP/1.0", True)),  # 1.0: one request
        ("GET //evil.example/x HTTP/1.1", ("GET", "/evil.example/x", "HTTP/1.1", False)),
        ("GET /", ("GET", "/", "HTTP/1.1", True)),  # HTTP/0.9: answered, then closed
    ],
)
def test_a_request_line_is_read_as_http_server_reads_it(line, parsed) -> None:
    assert parse_request_line(line) == parsed


@pytest.mark.parametrize(
    ("line", "status"),
    [
        ("GET / HTTP/2.0", 505),
        ("GET / HTTP/1", 400),
        ("GET / HTTP/1.x", 400),
        ("GET / NOTHTTP", 400),
        ("GET / HTTP/1.1 extra", 400),
        ("GARBAGE", 400),
        ("POST /", 400),  # HTTP/0.9 knew only GET
    ],
)
def test_a_request_line_the_server_cannot_read_is_refused(line, status) -> None:
    with pytest.raises(HeadError) as err:
        parse_request_line(line)
    assert err.value.status == status and str(err.value).startswith(("Bad ", "Invalid "))


def test_a_response_head_names_the_server_and_the_date_once() -> None:
    raw = response_head(429, [("retry-after", "1")], close=True)
    lines = raw.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 429 Too Many Requests"
    assert lines[1:3] == ["Server: course-simulator", lines[2]]
    sent = email.utils.parsedate_to_datetime(lines[2].removeprefix("Date: ")).timestamp()
    assert abs(sent - time.time()) < 5
    assert lines[3:] == ["retry-after: 1", "Connection: close", "", ""]
    assert response_head(299, [], close=False).startswith(b"HTTP/1.1 299 Error\r\n")


def test_a_key_sent_after_a_bad_header_line_gets_a_400_naming_the_line(sim) -> None:
    """The email parser took a bad line for the start of the body and dropped the headers
    after it, so the key went missing and the learner read a puzzling 401."""
    body = json.dumps({"model": DEFAULT_MODEL, "input": "Say hi."}).encode()
    raw = (
        b"POST /v1/responses HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n"
        b"Authorization: Bearer sk-head-key\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    with connect(sim) as sock:
        sock.sendall(raw)
        status, headers, reply, _ = read_response(sock)
    assert status == 400, reply
    assert "Bad header line 'Bad Header Line'" in json.loads(reply)["error"]["message"]
    assert headers["connection"] == "close"
    assert sim.requests[-1].status == 400


def test_a_reply_carries_server_date_and_the_length_of_its_body(sim) -> None:
    with connect(sim) as sock:
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n")
        _, headers, reply, line = read_response(sock)
        assert line == b"HTTP/1.1 200 OK"
        assert headers["server"] == "course-simulator" and headers["date"].endswith(" GMT")
        assert int(headers["content-length"]) == len(reply) and json.loads(reply)["data"]
