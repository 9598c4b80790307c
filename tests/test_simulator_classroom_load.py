"""No single client can take the class server from the room (issue 29, section D): a fair
share per key, a bound on keyless connections per address, the key checked before the body
is read, and held requests released when their client leaves. Real sockets throughout."""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx2
import pytest
from raw_http import connect, read_response  # a helper beside the tests

from course_simulator import ROUTES, Route
from course_simulator.error_replies import mask_key
from course_simulator.fair_share import FairShare
from course_simulator.protocol import Call, Reply
from course_utils.pricing import DEFAULT_MODEL

KEY = "sk-course-room-key"
BODY = json.dumps({"model": DEFAULT_MODEL, "input": "hi"}).encode()


def head(key: str | None, length: int, path: str = "/v1/responses", extra: str = "") -> bytes:
    auth = f"Authorization: Bearer {key}\r\n" if key else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\n"
        f"Content-Length: {length}\r\n{extra}\r\n"
    ).encode()


def status_of(sock: socket.socket) -> tuple[int, bytes]:
    """The status of the next response, and its head and body (to look for words)."""
    status, headers, body, _ = read_response(sock)
    return status, ("\n".join(f"{k}: {v}" for k, v in headers.items())).encode() + body


def wait_until(condition, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("the condition never held")
        time.sleep(0.02)


# --- fair share -----------------------------------------------------------------------------


def test_a_freed_slot_goes_to_the_next_key_in_turn_not_the_longest_queue() -> None:
    share = FairShare(slots=1)
    order: list[str] = []
    gate = threading.Event()

    def run(key: str) -> None:
        with share.turn(key):
            order.append(key)
            gate.wait(5)

    first = threading.Thread(target=run, args=("flood",))
    first.start()
    wait_until(lambda: order == ["flood"])
    waiting = []
    for key in ["flood", "flood", "flood", "learner"]:
        thread = threading.Thread(target=run, args=(key,))
        thread.start()
        waiting.append(thread)
        queued = len(waiting)
        wait_until(lambda: sum(share.waiting.values()) == queued)  # noqa: B023
    gate.set()
    for thread in [first, *waiting]:
        thread.join(5)
    assert order == ["flood", "flood", "learner", "flood", "flood"]


def test_one_learners_flood_queues_behind_their_own_requests_not_the_rooms(
    make_sim, monkeypatch
) -> None:
    def slow(host: object, call: Call) -> Reply:
        time.sleep(0.05)  # pipeline work: holds the slot
        return Reply(200, {"ok": True})

    monkeypatch.setitem(ROUTES, ("POST", "/v1/slow"), Route("POST", "/v1/slow", slow))
    sim = make_sim(pipeline_slots=1)
    url = f"{sim.base_url}/slow"

    def flood() -> None:
        httpx2.post(url, headers={"Authorization": "Bearer flood-key"}, timeout=30)

    threads = [threading.Thread(target=flood) for _ in range(20)]
    for thread in threads:
        thread.start()
    wait_until(lambda: sim.fair_share.waiting.get("key:flood-key", 0) >= 10)
    answer = httpx2.post(url, headers={"Authorization": "Bearer other-learner-key"}, timeout=30)
    for thread in threads:
        thread.join(30)
    assert answer.status_code == 200
    keys = [r.key_hint for r in sim.requests]
    served_after = len(keys) - 1 - keys.index(mask_key("other-learner-key"))
    assert served_after >= 5  # the flood still queued after the other learner was served


# --- connections without a valid key ----------------------------------------------------------


def test_keyless_connections_are_bounded_per_address_and_keyed_ones_are_not(make_sim) -> None:
    sim = make_sim(api_key=KEY, max_unkeyed_per_address=3)
    idle = [connect(sim) for _ in range(3)]
    wait_until(lambda: sim.open_connections == 3)
    with connect(sim) as fourth:
        status, reply = status_of(fourth)
        assert status == 503 and b"sent no valid API key" in reply
    with connect(sim, source="127.0.0.2") as elsewhere:  # another address is not affected
        elsewhere.sendall(head(KEY, len(BODY)) + BODY)
        assert status_of(elsewhere)[0] == 200
    idle[0].sendall(head(KEY, len(BODY)) + BODY)  # one idle socket shows a valid key ...
    assert status_of(idle[0])[0] == 200
    with connect(sim) as again:  # ... and no longer counts: a new connection is served
        again.sendall(head(KEY, len(BODY)) + BODY)
        assert status_of(again)[0] == 200
    for sock in idle:
        sock.close()
    assert sim.requests[0].outcome == "server_busy"


# --- the key before the body ------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "sk-wrong-key-0000"])
def test_a_60_mb_body_without_a_valid_key_gets_its_401_before_it_is_sent(make_sim, key) -> None:
    sim = make_sim(api_key=KEY)
    with connect(sim) as sock:
        sock.sendall(head(key, 60_000_000))  # the headers only: the body is never sent
        status, reply = status_of(sock)
        assert status == 401 and b"connection: close" in reply
    assert [(r.status, r.outcome) for r in sim.requests] == [(401, "auth")]


def test_a_client_that_sends_its_big_body_anyway_still_reads_the_401(make_sim) -> None:
    sim = make_sim(api_key=KEY)
    reply = httpx2.post(
        f"{sim.base_url}/responses", content=b"x" * 8_000_000,
        headers={"Content-Type": "application/json"}, timeout=30,
    )  # fmt: skip
    assert reply.status_code == 401 and reply.json()["error"]["code"] == "missing_api_key"


def test_expect_100_continue_is_sent_only_to_a_valid_key(make_sim) -> None:
    sim = make_sim(api_key=KEY)
    with connect(sim) as sock:
        sock.sendall(head("sk-wrong-key-0000", len(BODY), extra="Expect: 100-continue\r\n"))
        assert status_of(sock)[0] == 401
    with connect(sim) as sock:
        sock.sendall(head(KEY, len(BODY), extra="Expect: 100-continue\r\n"))
        assert status_of(sock)[0] == 100
        sock.sendall(BODY)
        data = b""
        while b"HTTP/1.1 200" not in data:
            data += sock.recv(65536)


# --- held requests ---------------------------------------------------------------------------


def test_a_held_request_is_released_when_its_client_disconnects(make_sim) -> None:
    sim = make_sim(api_key=KEY, hold_max_s=60)
    sock = connect(sim)
    sock.sendall(head(KEY, len(BODY), extra="X-Sim-Fault: timeout\r\n") + BODY)
    wait_until(lambda: len(sim.requests) == 1 and sim.open_connections == 1)
    sock.close()  # the client gives up
    wait_until(lambda: sim.open_connections == 0, timeout_s=5)  # not after the 60 s hold
    assert (sim.requests[0].fault, sim.requests[0].status) == ("timeout", None)


# --- what the live view needs: refused keys as a count ------------------------------------------


def test_the_request_log_marks_refused_keys_apart_from_the_simulated_auth_fault(make_sim) -> None:
    sim = make_sim(api_key=KEY)
    for key, fault in [("sk-wrong-key-0000", None), (None, None), (KEY, "auth"), (KEY, None)]:
        headers = {"X-Sim-Fault": fault} if fault else {}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        httpx2.post(f"{sim.base_url}/responses", content=BODY, headers=headers, timeout=10)
    assert [(r.status, r.key_refused) for r in sim.requests] == [
        (401, True), (401, True), (401, False), (200, False)
    ]  # fmt: skip
    assert "wrong-key" not in sim.requests[0].key_hint  # masked, as ever
