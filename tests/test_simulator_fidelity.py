"""What the SDK and header-reading code rely on, checked on every kind of response."""

from __future__ import annotations

import http.client
import json
import socket

import httpx2
import openai
import pytest

from course_simulator import Simulator
from course_simulator.server import DEFAULT_CLIENT_KEY
from course_utils.pricing import DEFAULT_MODEL

RATE_HEADERS = [
    f"x-ratelimit-{kind}-{unit}"
    for kind in ("limit", "remaining", "reset")
    for unit in ("requests", "tokens")
]
AUTH = {"Authorization": f"Bearer {DEFAULT_CLIENT_KEY}"}


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/responses", {"model": DEFAULT_MODEL, "input": "hi"}, 200),
        ("POST", "/chat/completions", {"model": DEFAULT_MODEL, "messages": []}, 400),
        ("POST", "/responses/input_tokens", {"model": DEFAULT_MODEL, "input": "hi"}, 200),
        ("GET", "/models", None, 200),
        ("GET", "/nope", None, 404),
        ("POST", "/responses", {"input": "hi"}, 400),
    ],
)
def test_every_response_has_request_id_and_rate_headers(sim, method, path, body, status) -> None:
    r = httpx2.request(method, sim.base_url + path, json=body, headers=AUTH)
    assert r.status_code == status
    assert r.headers["x-request-id"].startswith("req_")
    assert r.headers["content-type"] == "application/json"
    for name in RATE_HEADERS:
        assert name in r.headers
    if status >= 400:
        assert set(r.json()["error"]) == {"message", "type", "param", "code"}


def test_invalid_json_body(sim: Simulator) -> None:
    r = httpx2.post(sim.base_url + "/responses", content=b"{not json", headers=AUTH)
    assert r.status_code == 400
    assert "JSON" in r.json()["error"]["message"]


def test_unknown_fields_are_ignored(sim: Simulator) -> None:
    r = sim.client(max_retries=0).responses.create(
        model=DEFAULT_MODEL, input="Say hi.", extra_body={"future_option": {"a": 1}}
    )
    assert r.status == "completed"


def test_second_start_is_a_clear_error(sim: Simulator) -> None:
    with pytest.raises(RuntimeError, match="already running"):
        sim.start()


def test_stopped_simulator_explains(make_sim) -> None:
    s = make_sim()
    url = s.base_url
    s.stop()
    with pytest.raises(RuntimeError, match="not running"):
        _ = s.base_url
    with pytest.raises(openai.APIConnectionError):
        openai.OpenAI(base_url=url, api_key="k", max_retries=0).models.list()
    s.stop()  # harmless a second time


def test_context_manager_and_restart(fake_clock) -> None:
    sim = Simulator()
    with sim:
        assert sim.running
        sim.client(max_retries=0).models.list()
    assert not sim.running
    with sim:  # a stopped simulator can start again
        assert sim.client(max_retries=0).models.list().data


def test_latency_follows_catalogue_profile() -> None:
    sim = Simulator(latency_ms=10, latency_scale=0.5)
    # gpt-5.4-mini: 250 ms to the first token + 6 ms per output token
    assert sim.latency_s("gpt-5.4-mini", 100) == pytest.approx(0.010 + 0.5 * 0.850)
    assert sim.latency_s("gpt-5.4", 100) > sim.latency_s("gpt-5.4-nano", 100)
    assert sim.latency_s("no-such-model", 100) == sim.latency_s(DEFAULT_MODEL, 100)
    assert Simulator().latency_s(DEFAULT_MODEL, 1000) == 0


def test_latency_header(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    r = client.responses.create(
        model=DEFAULT_MODEL, input="Say hi.", extra_headers={"X-Sim-Latency-Ms": "5"}
    )
    assert r.status == "completed"
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.create(
            model=DEFAULT_MODEL, input="Say hi.", extra_headers={"X-Sim-Latency-Ms": "soon"}
        )
    assert info.value.param == "X-Sim-Latency-Ms"


def test_bad_constructor_arguments() -> None:
    with pytest.raises(ValueError, match="fail_rate"):
        Simulator(fail_rate=2)
    with pytest.raises(ValueError, match="latency_ms"):
        Simulator(latency_ms=-1)
    with pytest.raises(ValueError, match="port"):
        Simulator(port=70000)


def test_public_surface() -> None:
    import importlib

    import course_simulator as pkg

    for name in pkg.__all__:
        assert hasattr(pkg, name), name
    modules = ("error_replies", "faults", "limits", "model", "server", "__main__", "protocol")
    modules += ("http", "inprocess", "fair_share", "request_body", "latency")
    modules += ("params", "endpoints", "endpoints.generation", "endpoints.responses")
    modules += ("endpoints.chat", "endpoints.models", "endpoints.input_tokens")
    for mod in modules:
        module = importlib.import_module(f"course_simulator.{mod}")
        assert module.__all__, mod
        for name in module.__all__:
            assert hasattr(module, name), f"{mod}.{name}"


def _raw(sim: Simulator, method: str, path: str, body: bytes = b"", **headers: str):
    """One request over http.client, headers exactly as given (no client-side fixing up)."""
    host, port = sim.base_url.split("//")[1].split("/")[0].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in {**AUTH, **headers}.items():
            conn.putheader(name, value)
        conn.endheaders(body or None)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def _error(data: bytes) -> dict:
    err = json.loads(data)["error"]
    assert set(err) == {"message", "type", "param", "code"}
    return err


@pytest.mark.parametrize("length", ["abc", "-5", "1.5"])
def test_bad_content_length_is_a_json_400(sim: Simulator, length: str) -> None:
    status, headers, data = _raw(
        sim, "POST", "/v1/responses", b'{"model": "x"}', **{"Content-Length": length}
    )
    assert status == 400 and headers["Content-Type"] == "application/json"
    err = _error(data)
    assert "Content-Length" in err["message"] and err["param"] == "Content-Length"
    assert headers["x-request-id"].startswith("req_")
    assert sim.requests[-1].status == 400


@pytest.mark.parametrize("method", ["PATCH", "OPTIONS", "DELETE", "PUT", "BREW"])
def test_any_method_on_an_unknown_route_is_the_json_404(sim: Simulator, method: str) -> None:
    status, headers, data = _raw(sim, method, "/v1/nope")
    assert status == 404 and headers["Content-Type"] == "application/json"
    assert "POST /v1/responses" in _error(data)["message"]


@pytest.mark.parametrize("method", ["PATCH", "DELETE", "PUT", "GET"])
def test_wrong_method_on_a_known_route_is_a_json_405(sim: Simulator, method: str) -> None:
    r = httpx2.request(method, sim.base_url + "/responses", headers=AUTH)
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert set(r.json()["error"]) == {"message", "type", "param", "code"}


def test_head_gets_status_and_headers_without_a_body(sim: Simulator) -> None:
    with httpx2.Client() as client:
        r = client.head(sim.base_url + "/models", headers=AUTH)
        assert r.status_code == 405 and r.content == b""
        assert client.get(sim.base_url + "/models", headers=AUTH).status_code == 200


def test_protocol_errors_http_server_finds_are_json(sim: Simulator) -> None:
    host, port = sim.base_url.split("//")[1].split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"GET /v1/models HTTP/1.1\r\n" + b"X-Many: 1\r\n" * 200 + b"\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.") and b" 431 " in head.split(b"\r\n")[0]
    assert b"application/json" in head
    _error(body)
