"""Injected faults reach the real SDK as its own exception classes; the log records them."""

from __future__ import annotations

import contextlib
import threading

import httpx2
import openai
import pytest

from course_simulator import (
    FAULT_KINDS,
    FAULTS,
    ROUTES,
    TRANSIENT_FAULTS,
    FaultSpec,
    Route,
    Simulator,
)
from course_simulator.faults import LONG_RETRY_AFTER_S
from course_utils.pricing import DEFAULT_MODEL

STATUS_FAULTS = [
    ("rate_limit", openai.RateLimitError, 429, "rate_limit_exceeded"),
    ("quota", openai.RateLimitError, 429, "insufficient_quota"),
    ("server_error", openai.InternalServerError, 500, "server_error"),
    ("overloaded", openai.InternalServerError, 503, "overloaded"),
    ("bad_request", openai.BadRequestError, 400, "invalid_value"),
    ("auth", openai.AuthenticationError, 401, "invalid_api_key"),
    ("context_length", openai.BadRequestError, 400, "context_length_exceeded"),
    ("rate_limit_long", openai.RateLimitError, 429, "rate_limit_exceeded"),
    ("quota_credit", openai.RateLimitError, 429, "credit_balance_exhausted"),
    ("quota_spend_limit", openai.RateLimitError, 429, "project_spend_limit_exceeded"),
    ("permission", openai.PermissionDeniedError, 403, "unsupported_country_region_territory"),
    ("conflict", openai.ConflictError, 409, "conflict"),
    ("unprocessable", openai.UnprocessableEntityError, 422, "unprocessable_entity"),
]


def _ask(client: openai.OpenAI, **kwargs: object) -> object:
    return client.responses.create(model=DEFAULT_MODEL, input="Say hi.", **kwargs)


def test_every_fault_kind_is_covered() -> None:
    assert {f for f, *_ in STATUS_FAULTS} | {"timeout", "disconnect", "stream_cut"} == set(
        FAULT_KINDS
    )  # stream_cut: tests/test_simulator_streaming.py


@pytest.mark.parametrize(("fault", "exc", "status", "code"), STATUS_FAULTS)
@pytest.mark.parametrize("how", ["header", "queue"])
def test_status_faults(sim: Simulator, fault, exc, status, code, how) -> None:
    client = sim.client(max_retries=0)
    if how == "queue":
        sim.queue_faults([fault])
        call = {}
    else:
        call = {"extra_headers": {"X-Sim-Fault": fault}}
    with pytest.raises(exc) as info:
        _ask(client, **call)
    err = info.value
    assert err.status_code == status and err.code == code
    assert err.request_id and err.request_id.startswith("req_")
    assert set(err.body) == {"message", "type", "param", "code"}
    assert "x-ratelimit-remaining-requests" in err.response.headers
    rec = sim.requests[-1]
    assert (rec.status, rec.outcome, rec.fault) == (status, fault, fault)
    assert _ask(client).status == "completed"  # only that one request was faulted


def test_rate_limit_fault_carries_retry_after(sim: Simulator) -> None:
    sim.queue_faults(["rate_limit"])
    with pytest.raises(openai.RateLimitError) as info:
        _ask(sim.client(max_retries=0))
    headers = info.value.response.headers
    assert headers["retry-after-ms"] == str(sim.fault_retry_after_ms)
    assert headers["retry-after"] == "1"
    assert info.value.type == "requests"


@pytest.mark.parametrize("kind", ["quota", "quota_credit", "quota_spend_limit"])
def test_quota_is_not_marked_unretriable_so_the_sdk_retries_it(make_sim, kind) -> None:
    # The lesson's trap: the SDK looks only at the 429 status and retries insufficient_quota.
    sim = make_sim()
    sim.queue_faults([kind, kind])
    with pytest.raises(openai.RateLimitError) as info:
        _ask(sim.client(max_retries=1))
    assert "x-should-retry" not in info.value.response.headers
    assert "retry-after" not in info.value.response.headers
    assert info.value.type == "insufficient_quota"
    assert [r.outcome for r in sim.requests] == [kind, kind]


def test_long_rate_limit_is_raised_by_the_sdk_at_once(make_sim) -> None:
    """retry-after 300 s is above the SDK's 120 s ceiling: it raises without retrying."""
    sim = make_sim()
    sim.queue_faults(["rate_limit_long"] * 3)
    with pytest.raises(openai.RateLimitError) as info:
        _ask(sim.client(max_retries=2))
    headers = info.value.response.headers
    assert headers["retry-after"] == "300" and headers["retry-after-ms"] == "300000"
    assert LONG_RETRY_AFTER_S == 300 and "5m0s" in info.value.message
    assert len(sim.requests) == 1  # no retry
    assert sim.pending_faults == ["rate_limit_long"] * 2


def test_sdk_retries_transient_faults_and_succeeds(sim: Simulator) -> None:
    sim.queue_faults(["rate_limit", "rate_limit"])
    assert _ask(sim.client(max_retries=2)).status == "completed"
    assert [r.outcome for r in sim.requests] == ["rate_limit", "rate_limit", "ok"]


def test_timeout_fault_holds_without_blocking_the_server(sim: Simulator) -> None:
    sim.queue_faults(["timeout"])
    with pytest.raises(openai.APITimeoutError):
        _ask(sim.client(max_retries=0, timeout=0.3))
    assert _ask(sim.client(max_retries=0)).status == "completed"
    timed_out = sim.requests[0]
    assert (timed_out.outcome, timed_out.status) == ("timeout", None)


def test_timeout_fault_drops_after_hold_max_s(make_sim) -> None:
    sim = make_sim(hold_max_s=0.2)
    assert sim.hold_max_s == 0.2
    sim.queue_faults(["timeout"])
    with pytest.raises(openai.APIConnectionError) as info:
        _ask(sim.client(max_retries=0, timeout=60))
    assert not isinstance(info.value, openai.APITimeoutError)  # dropped by the server
    assert (sim.requests[0].outcome, sim.requests[0].status) == ("timeout", None)


@pytest.mark.parametrize("bad", [0, -1.0, float("inf"), "1", True])
def test_hold_max_s_must_be_positive_seconds(bad: object) -> None:
    with pytest.raises(ValueError, match="hold_max_s"):
        Simulator(hold_max_s=bad)  # type: ignore[arg-type]


def test_disconnect_fault_drops_the_connection(sim: Simulator) -> None:
    sim.queue_faults(["disconnect"])
    with pytest.raises(openai.APIConnectionError) as info:
        _ask(sim.client(max_retries=0))
    assert not isinstance(info.value, openai.APITimeoutError)
    assert (sim.requests[0].outcome, sim.requests[0].status) == ("disconnect", None)


def test_queue_is_ordered_and_none_serves_normally(sim: Simulator) -> None:
    sim.queue_faults(["server_error", None, "overloaded"])
    client = sim.client(max_retries=0)
    with pytest.raises(openai.InternalServerError):
        _ask(client)
    _ask(client)
    with pytest.raises(openai.InternalServerError):
        _ask(client)
    _ask(client)
    assert [r.outcome for r in sim.requests] == ["server_error", "ok", "overloaded", "ok"]


def test_reset_clears_queued_faults(sim: Simulator) -> None:
    sim.queue_faults(["server_error"])
    sim.reset()
    assert _ask(sim.client(max_retries=0)).status == "completed"


def test_only_generating_requests_take_queued_faults(sim: Simulator) -> None:
    sim.queue_faults(["server_error"])
    client = sim.client(max_retries=0)
    assert client.models.list().data
    assert client.responses.input_tokens.count(model=DEFAULT_MODEL, input="Say hi.")
    assert sim.pending_faults == ["server_error"]
    with pytest.raises(openai.InternalServerError):
        _ask(client)
    assert sim.pending_faults == []


def test_fail_rate_never_hits_models_or_token_counts(make_sim) -> None:
    sim = make_sim(fail_rate=1.0, seed=3)
    client = sim.client(max_retries=0)
    for _ in range(5):
        assert client.models.list().data
        client.responses.input_tokens.count(model=DEFAULT_MODEL, input="Say hi.")
    assert {r.outcome for r in sim.requests} == {"ok"}


def test_queue_faults_replace_and_clear_faults(sim: Simulator) -> None:
    sim.queue_faults(["server_error", "quota"])
    sim.queue_faults(["overloaded"], replace=True)
    assert sim.pending_faults == ["overloaded"]
    sim.queue_faults([None])
    assert sim.pending_faults == ["overloaded", None]
    snapshot = sim.pending_faults
    snapshot.clear()
    assert sim.pending_faults == ["overloaded", None]
    sim.clear_faults()
    assert sim.pending_faults == []
    assert _ask(sim.client(max_retries=0)).status == "completed"


def test_bad_fault_names_are_clear_errors(sim: Simulator) -> None:
    with pytest.raises(ValueError, match="not a simulator fault"):
        sim.queue_faults(["explode"])
    with pytest.raises(TypeError, match="list"):
        sim.queue_faults("rate_limit")  # type: ignore[arg-type]
    with pytest.raises(openai.BadRequestError) as info:
        _ask(sim.client(max_retries=0), extra_headers={"X-Sim-Fault": "explode"})
    assert info.value.param == "X-Sim-Fault"


def _outcomes(sim: Simulator, n: int) -> list[str]:
    client = sim.client(max_retries=0)
    for _ in range(n):
        with contextlib.suppress(openai.APIStatusError, openai.APIConnectionError):
            _ask(client)
    return [r.outcome for r in sim.requests]


def test_fail_rate_is_seeded_and_transient(make_sim) -> None:
    a = _outcomes(make_sim(fail_rate=0.5, seed=7), 40)
    b = _outcomes(make_sim(fail_rate=0.5, seed=7), 40)
    assert a == b
    faults = [o for o in a if o != "ok"]
    assert 8 <= len(faults) <= 32
    assert set(faults) <= set(TRANSIENT_FAULTS)
    assert len(set(faults)) >= 3


def test_missing_and_wrong_keys_get_401_without_echo(make_sim) -> None:
    secret = "sk-course-test-0123456789abcdef"
    wrong = "sk-wrong-9876543210fedcba"
    sim = make_sim(api_key=secret)
    assert _ask(sim.client(api_key=secret, max_retries=0)).status == "completed"
    with pytest.raises(openai.AuthenticationError) as info:
        _ask(sim.client(api_key=wrong, max_retries=0))
    err = info.value
    assert err.code == "invalid_api_key" and err.status_code == 401
    assert wrong not in err.message and secret not in err.message
    assert "sk-w***ba" in err.message  # a quarter of the key at most (mask_key)
    raw = httpx2.post(f"{sim.base_url}/responses", json={"model": DEFAULT_MODEL, "input": "hi"})
    assert raw.status_code == 401
    assert "API key" in raw.json()["error"]["message"]
    assert "x-request-id" in raw.headers
    for rec in sim.requests:
        assert secret not in rec.key_hint and wrong not in rec.key_hint
    assert [r.outcome for r in sim.requests] == ["ok", "auth", "auth"]


def test_missing_key_is_401_even_without_api_key_setting(sim: Simulator) -> None:
    raw = httpx2.get(f"{sim.base_url}/models")
    assert raw.status_code == 401


def test_internal_errors_surface(make_sim, monkeypatch) -> None:
    def broken(sim: Simulator, call: object) -> object:
        return 1 / 0

    monkeypatch.setitem(ROUTES, ("GET", "/v1/broken"), Route("GET", "/v1/broken", broken))
    sim = make_sim()
    with pytest.raises(openai.InternalServerError) as info:
        sim.client(max_retries=2).get("/broken", cast_to=object)
    assert "ZeroDivisionError" in info.value.message
    assert info.value.response.headers["x-should-retry"] == "false"
    assert len(sim.server_errors) == 1 and "ZeroDivisionError" in sim.server_errors[0]
    assert len(sim.requests) == 1  # not retried: a bug does not fix itself
    sim.server_errors.clear()  # seen and asserted; the fixture would fail the test otherwise


def test_reset_releases_a_held_request(make_sim) -> None:
    sim = make_sim()
    sim.queue_faults(["timeout"])
    errors: list[BaseException] = []

    def call() -> None:
        try:
            _ask(sim.client(max_retries=0, timeout=60))
        except openai.APIError as err:
            errors.append(err)

    worker = threading.Thread(target=call)
    worker.start()
    while not sim.requests:  # the held request is logged as soon as it is held
        threading.Event().wait(0.01)
    sim.reset()
    worker.join(timeout=30)
    assert not worker.is_alive()
    # Released, the server drops the connection: a connection error, not the 60 s timeout.
    assert len(errors) == 1 and type(errors[0]) is openai.APIConnectionError


# --- the fault table ----------------------------------------------------------------------------


def test_fault_kinds_and_transient_faults_come_from_the_table() -> None:
    assert tuple(FAULTS) == FAULT_KINDS
    assert FAULT_KINDS[:9] == (  # the first nine, in the order fail_rate and lessons know
        "rate_limit", "quota", "server_error", "overloaded", "timeout", "disconnect",
        "bad_request", "auth", "context_length",
    )  # fmt: skip
    assert TRANSIENT_FAULTS == ("rate_limit", "server_error", "overloaded", "disconnect")
    for kind, spec in FAULTS.items():
        assert spec.kind == kind
        if spec.action == "respond":
            assert 400 <= spec.status <= 599 and spec.type and spec.code


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ({"kind": "x", "status": 429}, "needs an error status and type"),
        ({"kind": "x", "type": "server_error"}, "needs an error status and type"),
        ({"kind": "x", "action": "explode"}, "unknown action"),
    ],
)
def test_a_bad_table_row_fails_when_it_is_built(row, match) -> None:
    with pytest.raises(ValueError, match=match):
        FaultSpec(**row)


@pytest.mark.parametrize("kind", [k for k, s in FAULTS.items() if s.action == "respond"])
def test_every_status_fault_sends_its_table_row(sim: Simulator, kind: str) -> None:
    spec = FAULTS[kind]
    r = httpx2.post(
        f"{sim.base_url}/chat/completions",
        json={"model": DEFAULT_MODEL, "messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": "Bearer sk-course-key-abcdef", "X-Sim-Fault": kind},
    )
    error = r.json()["error"]
    assert (r.status_code, error["type"], error["code"]) == (spec.status, spec.type, spec.code)
    assert "{" not in error["message"]  # every template field was filled in
    assert ("retry-after" in r.headers) == (spec.retry_after_s is not None)
    if kind == "context_length":
        assert error["param"] == "messages"  # the chat request's input parameter
    if kind == "auth":
        assert "sk-course-key-abcdef" not in error["message"] and "***" in error["message"]


# --- the route table ----------------------------------------------------------------------------


def test_the_route_table_says_which_routes_generate() -> None:
    assert {key: r.generating for key, r in ROUTES.items()} == {
        ("POST", "/v1/responses"): True,
        ("POST", "/v1/responses/input_tokens"): False,
        ("POST", "/v1/chat/completions"): True,
        ("GET", "/v1/models"): False,
        ("GET", "/v1/models/{model}"): False,
        # the Batch API: a batch's lines take faults one by one in its worker, not its routes
        ("POST", "/v1/files"): False,
        ("GET", "/v1/files"): False,
        ("GET", "/v1/files/{file_id}"): False,
        ("DELETE", "/v1/files/{file_id}"): False,
        ("GET", "/v1/files/{file_id}/content"): False,
        ("POST", "/v1/batches"): False,
        ("GET", "/v1/batches"): False,
        ("GET", "/v1/batches/{batch_id}"): False,
        ("POST", "/v1/batches/{batch_id}/cancel"): False,
    }
    assert all(key == (r.method, r.path) for key, r in ROUTES.items())


def test_a_route_added_to_the_table_is_served_and_its_flag_decides_faults(
    make_sim, monkeypatch
) -> None:
    from course_simulator.protocol import Reply

    def ping(host: object, call: object) -> Reply:
        return Reply(200, {"pong": True})

    monkeypatch.setitem(ROUTES, ("GET", "/v1/ping"), Route("GET", "/v1/ping", ping))
    sim = make_sim()
    client = sim.client(max_retries=0)
    sim.queue_faults(["server_error"])
    assert client.get("/ping", cast_to=object) == {"pong": True}  # not generating: no fault
    assert sim.pending_faults == ["server_error"]
    monkeypatch.setitem(
        ROUTES, ("GET", "/v1/ping"), Route("GET", "/v1/ping", ping, generating=True)
    )
    with pytest.raises(openai.InternalServerError):
        client.get("/ping", cast_to=object)
    assert sim.pending_faults == []
    r = httpx2.get(f"{sim.base_url}/nope", headers={"Authorization": "Bearer k"})
    assert "GET /v1/ping" in r.json()["error"]["message"]  # a 404 lists the table's routes
