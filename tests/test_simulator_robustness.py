"""One request must not break the simulator for everyone, and a class server survives a room
(issue 16): bad numbers, internal errors, deep nesting, protocol garbage, stalled clients, too
many connections, huge bodies, and the bounds on what the server keeps. Every case is a real
request over a real socket, and every one must end in an OpenAI-shaped reply that is recorded."""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
import threading
import time

import httpx2
import openai
import pytest
from raw_http import connect, read_response  # a helper beside the tests

from course_simulator import ROUTES, Route, Simulator
from course_simulator import params as sim_params
from course_simulator.endpoints import generation
from course_simulator.limits import KeyBuckets, TokenBucket
from course_utils.pricing import DEFAULT_MODEL, get_model

KEY = "sk-course-robustness-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


# --- a raw HTTP/1.1 client: what a broken or hostile client sends -------------------------------


def exchange(sim: Simulator, raw: bytes) -> tuple[int, dict[str, str], dict, bytes]:
    """Send ``raw`` on a new connection; the reply's status, headers, JSON body, status line."""
    with connect(sim) as sock:
        sock.sendall(raw)
        status, headers, body, line = read_response(sock)
    return status, headers, json.loads(body), line


def post(path: str, body: bytes, extra: str = "") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


def assert_openai_error(body: dict) -> dict:
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    return error


# --- bounded numbers: one huge cap must not break a key -----------------------------------------


@pytest.mark.parametrize("cap", [10**26, 10**309, 128_001])
def test_an_output_cap_above_the_models_maximum_is_the_services_400(sim, cap) -> None:
    client = sim.client(max_retries=0)
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.create(model=DEFAULT_MODEL, input="hi", max_output_tokens=cap)
    assert info.value.param == "max_output_tokens"
    assert "128000" in info.value.message.replace(",", "")
    # The key still works, for generating and for listing models (both broke before).
    assert client.models.list().data
    assert client.responses.create(model=DEFAULT_MODEL, input="hi").status == "completed"
    assert [r.status for r in sim.requests] == [400, 200, 200]


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
def test_a_chat_cap_above_the_models_maximum_is_the_services_400(sim, field) -> None:
    client = sim.client(max_retries=0)
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model=DEFAULT_MODEL, messages=[{"role": "user", "content": "hi"}], **{field: 10**309}
        )
    assert info.value.param == field and "is too large" in info.value.message
    assert client.models.list().data


def test_the_models_maximum_itself_is_accepted(sim) -> None:
    top = get_model(DEFAULT_MODEL).max_output
    r = sim.client(max_retries=0).responses.create(
        model=DEFAULT_MODEL, input="Say hi.", max_output_tokens=top
    )
    assert r.status == "completed"


def test_an_uncapped_answer_never_exceeds_the_models_maximum(sim, monkeypatch) -> None:
    """With a model whose maximum output is 20 tokens, an uncapped long answer stops at 20, as
    the service's does (one uncapped answer reached 375,066 tokens)."""
    small = dataclasses.replace(get_model(DEFAULT_MODEL), max_output=20)
    monkeypatch.setattr(generation, "profile", lambda model: small)
    monkeypatch.setattr(sim_params, "model_or_default", lambda model: small)
    client = sim.client(max_retries=0)
    prompt = "Please write a comprehensive, detailed essay with examples about rate limits."
    r = client.responses.create(model=DEFAULT_MODEL, input=prompt)
    assert r.usage.output_tokens == 20
    assert r.status == "incomplete" and r.incomplete_details.reason == "max_output_tokens"
    c = client.chat.completions.create(
        model=DEFAULT_MODEL, messages=[{"role": "user", "content": prompt}]
    )
    assert c.usage.completion_tokens == 20 and c.choices[0].finish_reason == "length"
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=DEFAULT_MODEL, input=prompt, max_output_tokens=21)


@pytest.mark.parametrize("amount", [10**26, 10**309, float("inf"), 2**63])
def test_a_bucket_stays_bounded_whatever_it_is_asked_to_take(fake_clock, amount) -> None:
    bucket = TokenBucket(1000, fake_clock)
    bucket.take(amount)
    assert -1000 <= bucket.level <= 1000
    assert 0 <= bucket.time_to_full() <= 120
    assert bucket.wait_for(amount) == float("inf")
    repr(bucket)
    limiter = KeyBuckets(None, None, fake_clock)  # reports, never refuses: takes anything
    assert limiter.admit("k", amount).admitted  # type: ignore[arg-type]
    headers = limiter.headers("k")
    assert int(headers["x-ratelimit-remaining-tokens"]) >= 0


# --- internal errors: an OpenAI-shaped 500, the traceback kept off the wire ---------------------


def test_an_internal_error_is_a_clean_500_with_a_request_id(make_sim, monkeypatch, capfd, caplog):
    def broken(host: object, call: object) -> object:
        raise ValueError("a secret detail from /home/someone/.config")

    monkeypatch.setitem(ROUTES, ("GET", "/v1/broken"), Route("GET", "/v1/broken", broken))
    sim = make_sim()
    caplog.set_level(logging.ERROR, logger="course_simulator")
    raw = httpx2.get(f"{sim.base_url}/broken", headers=AUTH)
    assert raw.status_code == 500
    error = assert_openai_error(raw.json())
    request_id = raw.headers["x-request-id"]
    assert request_id in error["message"]
    for leak in ("Traceback", 'File "', ".py", "/home/someone", "secret detail"):
        assert leak not in raw.text
    assert error["code"] == "simulator_internal_error" and "ValueError" in error["message"]
    assert len(sim.server_errors) == 1 and "secret detail" in sim.server_errors[0]
    assert sim.requests[-1].status == 500 and sim.requests[-1].outcome == "internal_error"
    assert any(request_id in r.getMessage() for r in caplog.records)
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and "secret detail" not in out + err
    sim.server_errors.clear()  # seen and asserted


class _Panic(BaseException):
    """What tiktoken's Rust panics look like to Python: not an Exception."""


@pytest.mark.parametrize("exc", [RecursionError("deep"), _Panic("boom"), MemoryError()])
def test_every_failure_inside_an_endpoint_is_answered_and_recorded(make_sim, monkeypatch, exc):
    def broken(host: object, call: object) -> object:
        raise exc

    monkeypatch.setitem(ROUTES, ("GET", "/v1/broken"), Route("GET", "/v1/broken", broken))
    sim = make_sim()
    raw = httpx2.get(f"{sim.base_url}/broken", headers=AUTH)
    assert raw.status_code == 500
    assert_openai_error(raw.json())
    assert sim.requests[-1].outcome == "internal_error" and len(sim.server_errors) == 1
    sim.server_errors.clear()
    assert httpx2.get(f"{sim.base_url}/models", headers=AUTH).status_code == 200  # still serving


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_a_deeply_nested_body_is_a_400_not_a_dropped_connection(sim, depth) -> None:
    body = b'{"model": "gpt-5.4-mini", "input": ' + b"[" * depth + b"]" * depth + b"}"
    status, headers, reply, _ = exchange(sim, post("/v1/responses", body))
    assert status == 400
    assert "nested" in assert_openai_error(reply)["message"]
    assert sim.requests[-1].status == 400 and sim.requests[-1].outcome == "bad_request"
    assert "x-request-id" in headers


def test_a_schema_nested_just_within_the_limit_is_answered(sim) -> None:
    schema: dict = {"type": "string"}
    for _ in range(20):
        schema = {"type": "object", "properties": {"a": schema}, "required": ["a"]}
    r = sim.client(max_retries=0).responses.create(
        model=DEFAULT_MODEL,
        input="Give me the data.",
        text={"format": {"type": "json_schema", "name": "deep", "schema": schema}},
    )
    assert json.loads(r.output_text)


# --- protocol garbage ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"GARBAGE\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",  # a TLS hello sent to http://
        b"GET /\r\n\r\n",  # an HTTP/0.9 request line
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET / NOTHTTP\r\n\r\n",
        b"GET / HTTP/1.1 extra words\r\n\r\n",
        b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n",  # over the request line limit
        b"GET /v1/models HTTP/1.1\r\nBad Header Line\r\n\r\n",
        b"GET /v1/models HTTP/1.1\r\n" + b"X-A: b\r\n" * 200 + b"\r\n",  # too many headers
    ],
)
def test_garbage_gets_a_status_line_and_a_json_error(sim, raw) -> None:
    with connect(sim) as sock:
        sock.sendall(raw)
        status, headers, body, line = read_response(sock)
    assert line.startswith(b"HTTP/1.1 ") and 400 <= status < 600
    assert_openai_error(json.loads(body))
    assert headers["content-type"] == "application/json"
    assert sim.requests and sim.requests[-1].status == status


def test_a_chunked_body_is_read_and_the_connection_stays_in_step(sim) -> None:
    body = json.dumps({"model": DEFAULT_MODEL, "input": "Say hi in one sentence."}).encode()
    chunked = (
        b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (body[:10], body[10:]))
        + b"0\r\n\r\n"
    )
    head = (
        f"POST /v1/responses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    with connect(sim) as sock:
        sock.sendall(head + chunked)
        status, _, reply, _ = read_response(sock)
        assert status == 200, reply
        assert json.loads(reply)["status"] == "completed"
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n")
        status, _, reply, _ = read_response(sock)
        assert status == 200 and json.loads(reply)["object"] == "list"
    assert [r.path for r in sim.requests] == ["/v1/responses", "/v1/models"]


@pytest.mark.parametrize(
    ("te", "chunks", "status"),
    [
        ("chunked", b"zz\r\nabc\r\n0\r\n\r\n", 400),  # not a hex size
        ("chunked", b"5\r\nab", 400),  # ends inside a chunk
        ("chunked", b"-1\r\n\r\n", 400),
        ("chunked", b"ffffffffffff\r\n", 413),  # more than the simulator accepts
        ("gzip, chunked", b"0\r\n\r\n", 501),
        ("gzip", b"", 501),
    ],
)
def test_bad_transfer_encodings_are_refused_and_closed(sim, te, chunks, status) -> None:
    head = (
        f"POST /v1/responses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
        f"Transfer-Encoding: {te}\r\n\r\n"
    ).encode()
    with connect(sim) as sock:
        sock.sendall(head + chunks)
        if chunks == b"5\r\nab":
            sock.shutdown(socket.SHUT_WR)  # the client gives up mid-chunk
        got, headers, body, _ = read_response(sock)
        assert got == status
        assert_openai_error(json.loads(body))
        assert headers.get("connection") == "close"
        assert sock.recv(10) == b""  # closed: leftover bytes are never read as a request
    assert sim.requests[-1].status == status


# --- a class server: stalled clients, too many connections, auth first --------------------------


def test_a_stalled_half_sent_request_gets_a_408_and_is_recorded(make_sim) -> None:
    sim = make_sim(read_timeout_s=0.5)
    with connect(sim) as sock:
        sock.sendall(b"POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Le")  # then nothing
        started = time.monotonic()
        status, _headers, body, _ = read_response(sock)
        assert status == 408 and time.monotonic() - started < 5
        assert_openai_error(json.loads(body))
    assert sim.requests[-1].status == 408 and sim.requests[-1].outcome == "read_timeout"


def test_a_slow_drip_cannot_hold_a_connection_past_the_deadline(make_sim) -> None:
    sim = make_sim(read_timeout_s=0.6)
    with connect(sim) as sock:
        started = time.monotonic()
        sock.sendall(b"POST /v1/responses HTTP/1.1\r\n")
        try:
            for _ in range(20):  # one header byte every 0.2 s: each read is quick, the whole is not
                sock.sendall(b"X")
                time.sleep(0.2)
        except OSError:
            pass  # the server already closed the connection
        status, _, _, _ = read_response(sock)
        assert status == 408 and time.monotonic() - started < 3


def test_an_idle_keep_alive_connection_is_closed_quietly(make_sim) -> None:
    sim = make_sim(read_timeout_s=0.3)
    with connect(sim) as sock:
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n")
        assert read_response(sock)[0] == 200
        sock.settimeout(5)
        assert sock.recv(100) == b""  # closed after the idle timeout, without a response
    assert len(sim.requests) == 1  # an idle wait is not a request


def test_too_many_connections_get_a_clear_503_and_the_server_recovers(make_sim) -> None:
    sim = make_sim(max_connections=3, read_timeout_s=30)
    stalled = [connect(sim) for _ in range(3)]
    try:
        for sock in stalled:
            sock.sendall(b"GET /v1/models HTTP/1.1\r\n")  # half a request each
        time.sleep(0.2)
        status, _headers, body, _ = exchange(
            sim, b"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n"
        )
        assert status == 503
        error = assert_openai_error(body)
        assert "3 connections" in error["message"] and "retry" in error["message"].lower()
        assert sim.requests[-1].outcome == "server_busy"
    finally:
        for sock in stalled:
            sock.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if httpx2.get(f"{sim.base_url}/models", headers=AUTH).status_code == 200:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the server did not recover after the stalled connections closed")


def test_authentication_comes_before_an_injected_fault(make_sim) -> None:
    """A keyless request must not be able to hold a thread with X-Sim-Fault: timeout."""
    sim = make_sim(api_key=KEY, hold_max_s=30)
    started = time.monotonic()
    for auth in ({}, {"Authorization": "Bearer wrong-key-123456"}):
        raw = httpx2.post(
            f"{sim.base_url}/responses",
            json={"model": DEFAULT_MODEL, "input": "hi"},
            headers={**auth, "X-Sim-Fault": "timeout"},
            timeout=10,
        )
        assert raw.status_code == 401
    assert time.monotonic() - started < 5
    assert [r.outcome for r in sim.requests] == ["auth", "auth"]
    assert [r.fault for r in sim.requests] == [None, None]
    with pytest.raises(openai.RateLimitError):  # with the right key, the fault is applied
        sim.client(api_key=KEY, max_retries=0).responses.create(
            model=DEFAULT_MODEL, input="hi", extra_headers={"X-Sim-Fault": "rate_limit"}
        )


# --- huge bodies: refused by a cheap bound before any tokenising --------------------------------


def _no_tokenising(monkeypatch) -> None:
    def refuse(*args: object, **kwargs: object) -> int:
        raise AssertionError("the simulator tokenised a body it should have refused by size")

    monkeypatch.setattr(sim_params, "count_request_input", refuse)


def test_a_body_too_long_for_any_window_is_refused_before_tokenising(sim, monkeypatch) -> None:
    _no_tokenising(monkeypatch)
    window = get_model(DEFAULT_MODEL).context_window
    text = "hello world " * (window * sim_params.MAX_CHARS_PER_TOKEN // 12 + 10)
    with pytest.raises(openai.BadRequestError) as info:
        sim.client(max_retries=0).responses.create(model=DEFAULT_MODEL, input=text)
    assert info.value.code == "context_length_exceeded" and info.value.param == "input"
    assert f"{window:,}" in info.value.message


@pytest.mark.parametrize("run", ["a", " ", "-", "語"])
def test_an_unbroken_run_too_long_to_tokenise_cheaply_is_refused(sim, monkeypatch, run) -> None:
    _no_tokenising(monkeypatch)
    text = "start " + run * (sim_params.LONGEST_UNBROKEN_RUN + 1) + " end"
    with pytest.raises(openai.BadRequestError) as info:
        sim.client(max_retries=0).chat.completions.create(
            model=DEFAULT_MODEL, messages=[{"role": "user", "content": text}]
        )
    assert info.value.param == "messages" and "unbroken run" in info.value.message


def test_a_run_just_under_the_bound_is_counted_normally(sim) -> None:
    text = "a" * (sim_params.LONGEST_UNBROKEN_RUN - 1)
    count = sim.client(max_retries=0).responses.input_tokens.count(model=DEFAULT_MODEL, input=text)
    assert count.input_tokens > 0


# --- bounded memory: the request log and the per-key buckets ------------------------------------


def test_the_request_log_keeps_only_the_newest_records(make_sim) -> None:
    sim = make_sim(request_log_max=5)
    for i in range(8):
        httpx2.get(f"{sim.base_url}/models?i={i}", headers=AUTH)
    log = sim.requests
    assert len(log) == 5
    assert log[-1].time >= log[0].time


def test_per_key_buckets_are_bounded_least_recently_used_first(fake_clock) -> None:
    limiter = KeyBuckets(rpm=10, tpm=None, clock=fake_clock, max_keys=3)
    for key in ("a", "b", "c"):
        limiter.admit(key, 1)
    limiter.admit("a", 1)  # "a" is now the most recently used
    limiter.admit("d", 1)  # evicts "b", the least recently used
    assert limiter.keys == 3
    assert int(limiter.headers("a")["x-ratelimit-remaining-requests"]) == 8  # kept
    assert int(limiter.headers("b")["x-ratelimit-remaining-requests"]) == 10  # forgotten


def test_the_default_bounds_are_stated() -> None:
    sim = Simulator()
    assert sim.request_log_max == 10_000 and sim.limiter.max_keys == 10_000
    assert sim.max_connections >= 64 and sim.read_timeout_s > 5  # above the SDK's 5 s keep-alive


def test_server_keeps_serving_while_a_connection_is_stalled(make_sim) -> None:
    """A stalled client holds one connection, never the server: other requests are answered."""
    sim = make_sim(read_timeout_s=30)
    with connect(sim) as stalled:
        stalled.sendall(b"POST /v1/responses HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
        results = []

        def ask() -> None:
            results.append(httpx2.get(f"{sim.base_url}/models", headers=AUTH).status_code)

        threads = [threading.Thread(target=ask) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert results == [200, 200, 200, 200]
