"""What the SDK and header-reading code rely on, checked on every kind of response."""

from __future__ import annotations

import httpx2
import openai
import pytest

from course_utils.pricing import DEFAULT_MODEL
from course_utils.simulator import Simulator
from course_utils.simulator.server import DEFAULT_CLIENT_KEY

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

    import course_utils.simulator as pkg

    for name in pkg.__all__:
        assert hasattr(pkg, name), name
    for mod in ("errors", "faults", "limits", "model", "server", "__main__"):
        module = importlib.import_module(f"course_utils.simulator.{mod}")
        assert module.__all__, mod
        for name in module.__all__:
            assert hasattr(module, name), f"{mod}.{name}"
