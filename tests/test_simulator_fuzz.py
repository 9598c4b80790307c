"""Property tests (issue 16): generated bodies, headers and protocol garbage sent to a real
simulator over real sockets. Whatever arrives, the reply is an OpenAI-shaped JSON document with
a status that fits it, and the request is recorded with that status (or, for the two faults
that send nothing, recorded as unanswered). The simulator never fails inside (no
``server_errors``, never a ``simulator_internal_error``).

Example counts are bounded (``HYPOTHESIS_EXAMPLES``, default 60 per property) so the file runs
in well under a minute; for a deeper run set ``HYPOTHESIS_EXAMPLES=2000``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from raw_http import connect, read_response  # a helper beside the tests

from course_simulator import FAULT_KINDS, Simulator

KEY = "sk-fuzz-key-0123456789"
EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    # CI sees the same examples on every run; setting HYPOTHESIS_EXAMPLES explores new ones.
    derandomize="HYPOTHESIS_EXAMPLES" not in os.environ,
)
ROUTES = ["/v1/responses", "/v1/chat/completions", "/v1/responses/input_tokens", "/v1/models"]
SILENT_FAULTS = {"timeout", "disconnect"}  # hold then drop / drop: no response by design
SUCCESS_OBJECTS = {"response", "chat.completion", "list", "response.input_tokens"}
STATUSES = {
    200,
    400,
    401,
    403,
    404,
    405,
    408,
    409,
    411,
    413,
    414,
    422,
    429,
    431,
    500,
    501,
    503,
    505,
}


@pytest.fixture(scope="module")
def fuzz_sim() -> Iterator[Simulator]:
    with Simulator(api_key=KEY, hold_max_s=0.2, read_timeout_s=0.5, request_log_max=100_000) as sim:
        yield sim
        assert sim.server_errors == [], "\n".join(sim.server_errors)


# --- strategies ---------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
caps = st.one_of(
    st.integers(min_value=-5, max_value=200),
    st.sampled_from([0, 15, 16, 127_999, 128_000, 128_001, 10**26, 10**309]),
    json_values,
)
messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "system", "developer", "assistant", "tool", ""])},
        optional={"content": st.one_of(st.text(max_size=40), json_values), "name": json_values},
    ),
    max_size=3,
)
request_bodies = st.fixed_dictionaries(
    {},
    optional={
        "model": st.one_of(
            st.sampled_from(["gpt-5.4-mini", "gpt-5.4", "no-such-model"]), json_values
        ),
        "input": st.one_of(st.text(max_size=40), messages, json_values),
        "messages": st.one_of(messages, json_values),
        "instructions": st.one_of(st.text(max_size=20), json_values),
        "max_output_tokens": caps,
        "max_tokens": caps,
        "max_completion_tokens": caps,
        "temperature": st.one_of(st.floats(-1, 3, allow_nan=False), json_values),
        "text": st.one_of(
            st.fixed_dictionaries(
                {"format": st.sampled_from([{"type": "json_object"}, {"type": "text"}])}
            ),
            json_values,
        ),
        "response_format": json_values,
        "metadata": json_values,
        "stream": st.one_of(st.booleans(), json_values),
    },
)
raw_bodies = st.one_of(
    request_bodies.map(lambda b: json.dumps(b).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=120),
    st.integers(min_value=2, max_value=4000).map(lambda d: b'{"a":' + b"[" * d + b"]" * d + b"}"),
    st.sampled_from([b"", b"{", b'{"model": NaN}', b'{"a": 1e999999}', b"\xff\xfe{}", b"[]"]),
)
header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12
).map(str.strip)  # what an HTTP client can send as a header value
fault_headers = st.one_of(
    st.none(), st.sampled_from(list(FAULT_KINDS)), header_text, st.just("RATE_LIMIT")
)
auth_headers = st.sampled_from(
    [None, f"Bearer {KEY}", "Bearer wrong-key-12345", "Basic abc", "Bearer"]
)
paths = st.one_of(
    st.sampled_from(ROUTES), st.sampled_from(["/", "/v1", "/v1/files", "/v1/responses/"])
)
methods = st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS"])


# --- checks -------------------------------------------------------------------------------------


def assert_openai_shaped(status: int, content_type: str, data: bytes) -> None:
    assert status in STATUSES, status
    if "event-stream" in content_type:  # streaming (another branch adds it): every frame is JSON
        for line in data.decode().splitlines():
            if line.startswith("data:") and line[5:].strip() != "[DONE]":
                json.loads(line[5:])
        return
    assert content_type == "application/json"
    body = json.loads(data)
    if status >= 400:
        error = body["error"]
        assert set(error) == {"message", "type", "param", "code"}, error
        assert isinstance(error["message"], str) and error["message"]
        assert isinstance(error["type"], str)
        assert error["param"] is None or isinstance(error["param"], str)
        assert error["code"] is None or isinstance(error["code"], str)
        assert error["code"] != "simulator_internal_error", error
        assert "Traceback" not in error["message"]
    else:
        assert body.get("object") in SUCCESS_OBJECTS, body


def recorded(sim: Simulator, request_id: str) -> object:
    matches = [r for r in sim.requests if r.request_id == request_id]
    assert len(matches) == 1, request_id
    return matches[0]


# --- properties ---------------------------------------------------------------------------------


@pytest.mark.slow
@FUZZ
@given(method=methods, path=paths, body=raw_bodies, fault=fault_headers, auth=auth_headers)
def test_any_body_and_headers_get_an_openai_shaped_reply(fuzz_sim, method, path, body, fault, auth):
    headers = {"Content-Type": "application/json"}
    if auth is not None:
        headers["Authorization"] = auth
    if fault is not None:
        headers["X-Sim-Fault"] = fault
    silent = (
        auth == f"Bearer {KEY}" and fault is not None and fault.strip().lower() in SILENT_FAULTS
    )
    before = len(fuzz_sim.requests)
    try:
        reply = httpx2.request(method, fuzz_sim.base_url.removesuffix("/v1") + path,
                               content=body, headers=headers, timeout=10)  # fmt: skip
    except httpx2.TransportError:
        # Only the two faults that send nothing may end without a reply, and only for a
        # request that passed authentication on a route that exists.
        assert silent, (method, path, fault, auth)
        after = fuzz_sim.requests[before:]
        assert after and after[-1].status is None and after[-1].fault in SILENT_FAULTS
        return
    assert_openai_shaped(reply.status_code, reply.headers.get("content-type", ""), reply.content)
    record = recorded(fuzz_sim, reply.headers["x-request-id"])
    assert record.status == reply.status_code and record.outcome  # type: ignore[attr-defined]
    if reply.status_code == 200:
        assert auth == f"Bearer {KEY}"  # nothing is served without the key


def _exchange(sim: Simulator, raw: bytes) -> tuple[int, str, bytes] | None:
    with connect(sim) as sock:
        sock.sendall(raw)
        try:
            status, headers, body, line = read_response(sock)
        except ConnectionError:
            return None
    assert line.startswith(b"HTTP/1.1 "), line
    return status, headers.get("content-type", ""), body


garbage = st.one_of(
    st.binary(min_size=1, max_size=300),
    st.text(alphabet=st.characters(codec="latin-1"), min_size=1, max_size=120).map(
        lambda t: t.encode("latin-1")
    ),
    st.builds(
        lambda m, p, v, h: f"{m} {p} {v}\r\n{h}".encode("latin-1", "replace"),
        st.sampled_from(["GET", "POST", "get", "BREW", "", "G\x00T", "POST POST"]),
        st.sampled_from(["/v1/models", "/", "*", "http://x/v1/models", "//[", "/%00", ""]),
        st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.1 x", "HTTP/", "", "FOO"]),
        st.sampled_from(
            [
                "",
                "Host: x\r\n",
                "Content-Length: -1\r\n",
                "Content-Length: 1_0\r\n",
                "Content-Length: 5\r\nContent-Length: 6\r\n",
                "Transfer-Encoding: chunked\r\n",
                "Transfer-Encoding: gzip\r\n",
                "Bad header\r\n",
                "Authorization: Bearer\r\n",
                "X-Sim-Fault: timeout\r\n",
                "Expect: 100-continue\r\nContent-Length: 2\r\n",
            ]
        ),
    ),
)


@pytest.mark.slow
@FUZZ
@given(raw=garbage, ending=st.sampled_from([b"\r\n\r\n", b"", b"\n\n", b"\r\n"]))
def test_protocol_garbage_gets_a_status_line_and_is_recorded(fuzz_sim, raw, ending):
    before = len(fuzz_sim.requests)
    got = _exchange(fuzz_sim, raw + ending)
    if got is None:
        # Closed without a reply only for blank lines, which HTTP says to skip before a request
        # line (then the connection is idle, and closed after the timeout).
        assert not (raw + ending).decode("latin-1").split(), raw
        assert len(fuzz_sim.requests) == before
        return
    status, content_type, body = got
    assert_openai_shaped(status, content_type, body)
    assert len(fuzz_sim.requests) > before
    statuses = [r.status for r in fuzz_sim.requests[before:]]
    assert status in statuses
