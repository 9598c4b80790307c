"""A connection's timeouts behave the same whether the kernel keeps them (Linux: SO_RCVTIMEO /
SO_SNDTIMEO on a blocking socket, no poll before each receive) or Python does (elsewhere).

Each test runs both ways: ``kernel`` is the Linux path, ``python`` the portable one.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from raw_http import connect, read_response  # a helper beside the tests

from course_simulator import deadline_socket
from course_simulator.deadline_socket import DeadlineSocket

WAYS = ["python"] + (["kernel"] if sys.platform.startswith("linux") else [])


@pytest.fixture(params=WAYS)
def way(request, monkeypatch) -> str:
    monkeypatch.setattr(deadline_socket, "KERNEL_TIMEOUTS", request.param == "kernel")
    return request.param


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def _read_in_thread(reader: DeadlineSocket) -> tuple[threading.Thread, list]:
    """Read once in a thread (so a test cannot hang on a read that never returns)."""
    outcome: list = []

    def read() -> None:
        try:
            outcome.append(reader.readinto(bytearray(16)))
        except Exception as err:
            outcome.append(err)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, outcome


def test_a_receive_that_waits_too_long_is_a_timeout_error(way, pair) -> None:
    server, _client = pair
    reader = DeadlineSocket(server, 0.2)
    started = time.monotonic()
    thread, outcome = _read_in_thread(reader)
    thread.join(5)
    assert outcome and isinstance(outcome[0], TimeoutError)
    assert 0.1 < time.monotonic() - started < 3


def test_a_tiny_wait_times_out_rather_than_waiting_forever(way, pair) -> None:
    """A kernel timeout of zero means "no timeout": the last microsecond before a deadline must
    still be a timeout, not a read that blocks for good."""
    server, _client = pair
    thread, outcome = _read_in_thread(DeadlineSocket(server, 1e-9))
    thread.join(5)
    assert not thread.is_alive(), "the read never timed out"
    assert isinstance(outcome[0], TimeoutError)


def test_once_a_request_began_its_deadline_bounds_every_receive(way, pair) -> None:
    server, client = pair
    reader = DeadlineSocket(server, 0.5)
    client.sendall(b"P")
    assert reader.readinto(bytearray(16)) == 1  # the first byte starts the request's deadline
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        for _ in range(20):  # a byte every 0.1 s: each receive is quick, the whole is not
            client.sendall(b"O")
            time.sleep(0.1)
            reader.readinto(bytearray(16))
    assert time.monotonic() - started < 1.5


def test_data_that_arrives_in_time_is_read(way, pair) -> None:
    server, client = pair
    reader = DeadlineSocket(server, 2.0)
    thread, outcome = _read_in_thread(reader)
    client.sendall(b"hello")
    thread.join(5)
    assert outcome == [5]


def test_the_server_answers_a_stalled_request_408_and_closes_an_idle_one(way, make_sim) -> None:
    sim = make_sim(read_timeout_s=0.4)
    with connect(sim) as sock:
        sock.sendall(b"POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Le")  # then nothing
        status, _headers, body, _ = read_response(sock)
        assert status == 408 and json.loads(body)["error"]["code"] == "request_timeout"
    with connect(sim) as sock:
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n")
        assert read_response(sock)[0] == 200
        sock.settimeout(5)
        assert sock.recv(100) == b""  # closed after the idle timeout, without a response
    assert [r.status for r in sim.requests] == [408, 200]
