"""course_utils.errors: real SDK exceptions sorted into the course's table.

Two sources of real exceptions: the course simulator over HTTP (its faults, a wrong key, a
wrong URL, a tiny timeout), and the SDK's full request path over an ``httpx2.MockTransport``
that answers with a designed response (for statuses the simulator never sends). Nothing in the
SDK is patched: the SDK picks the exception class from the status exactly as it does live.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from course_simulator import Simulator
from course_simulator.faults import FAULT_HEADER, FAULT_KINDS
from course_utils import errors
from course_utils.errors import (
    CATEGORIES,
    LESSON,
    QUOTA_CODES,
    CourseError,
    ErrorInfo,
    categories_markdown,
    classify,
    is_retriable,
)
from course_utils.pricing import DEFAULT_MODEL

# simulator fault -> (SDK class, category, retriable, status, code, type)
FAULT_TABLE: list[tuple[str, type, str, bool, int | None, str | None, str | None]] = [
    ("auth", openai.AuthenticationError, "auth", False, 401, "invalid_api_key",
     "invalid_request_error"),
    ("bad_request", openai.BadRequestError, "bad_request", False, 400, "invalid_value",
     "invalid_request_error"),
    ("context_length", openai.BadRequestError, "context_length", False, 400,
     "context_length_exceeded", "invalid_request_error"),
    ("rate_limit", openai.RateLimitError, "rate_limit", True, 429, "rate_limit_exceeded",
     "requests"),
    ("quota", openai.RateLimitError, "quota", False, 429, "insufficient_quota",
     "insufficient_quota"),
    ("server_error", openai.InternalServerError, "server_error", True, 500, "server_error",
     "server_error"),
    ("overloaded", openai.InternalServerError, "server_error", True, 503, "overloaded",
     "server_error"),
    ("disconnect", openai.APIConnectionError, "connection", True, None, None, None),
    # a non-streamed request under stream_cut: answered, then dropped before the reply arrives
    ("stream_cut", openai.APIConnectionError, "connection", True, None, None, None),
    ("timeout", openai.APITimeoutError, "timeout", True, None, None, None),
    # retry-after 300 s: still a rate limit (backoff.RetryPolicy gives up on the long wait)
    ("rate_limit_long", openai.RateLimitError, "rate_limit", True, 429, "rate_limit_exceeded",
     "tokens"),
    # the service's more specific quota codes: the type insufficient_quota decides
    ("quota_credit", openai.RateLimitError, "quota", False, 429, "credit_balance_exhausted",
     "insufficient_quota"),
    ("quota_spend_limit", openai.RateLimitError, "quota", False, 429,
     "project_spend_limit_exceeded", "insufficient_quota"),
    ("permission", openai.PermissionDeniedError, "permission", False, 403,
     "unsupported_country_region_territory", "invalid_request_error"),
    ("conflict", openai.ConflictError, "conflict", True, 409, "conflict",
     "invalid_request_error"),
    ("unprocessable", openai.UnprocessableEntityError, "unprocessable", False, 422,
     "unprocessable_entity", "invalid_request_error"),
]  # fmt: skip


def _raise_from(sim: Simulator, fault: str, *, header: bool = False) -> openai.APIError:
    """The exception the real SDK raises for one simulator fault (queued, or by header)."""
    client = sim.client(max_retries=0, timeout=0.3 if fault == "timeout" else 5.0)
    extra = {FAULT_HEADER: fault} if header else None
    if not header:
        sim.queue_faults([fault])
    with pytest.raises(openai.APIError) as caught:
        client.responses.create(model=DEFAULT_MODEL, input="Hello", extra_headers=extra)
    client.close()
    return caught.value


def test_fault_table_covers_every_simulator_fault() -> None:
    assert {row[0] for row in FAULT_TABLE} == set(FAULT_KINDS)


@pytest.mark.parametrize("header", [False, True], ids=["queued", "header"])
@pytest.mark.parametrize(
    ("fault", "cls", "category", "retriable", "status", "code", "kind"), FAULT_TABLE
)
def test_classify_real_simulator_faults(
    sim: Simulator,
    header: bool,
    fault: str,
    cls: type,
    category: str,
    retriable: bool,
    status: int | None,
    code: str | None,
    kind: str | None,
) -> None:
    exc = _raise_from(sim, fault, header=header)
    assert type(exc) is cls
    info = classify(exc)
    assert isinstance(info, ErrorInfo)
    assert (info.category, info.retriable, info.status, info.code, info.type) == (
        category,
        retriable,
        status,
        code,
        kind,
    )
    assert is_retriable(exc) is retriable
    if status is not None:  # an HTTP answer came back: the service's request id is kept
        assert info.request_id and info.request_id == exc.response.headers["x-request-id"]  # type: ignore[attr-defined]
    else:
        assert info.request_id is None


def test_timeout_is_checked_before_its_parent_connection_error(sim: Simulator) -> None:
    exc = _raise_from(sim, "timeout")
    assert isinstance(exc, openai.APITimeoutError) and isinstance(exc, openai.APIConnectionError)
    assert classify(exc).category == "timeout"


def test_real_wrong_key_and_wrong_url(make_sim: Any) -> None:
    locked = make_sim(api_key="the-right-key-for-this-test")
    client = locked.client(api_key="a-wrong-key-0123456789", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        client.responses.create(model=DEFAULT_MODEL, input="Hello")
    info = classify(caught.value)
    assert (info.category, info.status, info.code) == ("auth", 401, "invalid_api_key")
    assert "a-wrong-key-0123456789" not in info.advice

    with pytest.raises(openai.NotFoundError) as missing:
        locked.client(api_key="the-right-key-for-this-test", max_retries=0).models.retrieve("x")
    info = classify(missing.value)
    assert (info.category, info.status, info.retriable) == ("not_found", 404, False)


def test_real_wrong_method_is_a_bad_request(sim: Simulator) -> None:
    from openai.types.responses import Response

    with pytest.raises(openai.APIStatusError) as caught:
        sim.client(max_retries=0).get("/responses", cast_to=Response)
    assert type(caught.value) is openai.APIStatusError  # 405 has no class of its own
    assert (classify(caught.value).category, classify(caught.value).status) == ("bad_request", 405)


def test_real_response_validation_error(sim: Simulator) -> None:
    """A 200 whose body is not the expected shape, read with strict validation."""
    from openai.types.responses import Response

    client = sim.client(max_retries=0, _strict_response_validation=True)
    with pytest.raises(openai.APIResponseValidationError) as caught:
        client.get("/models", cast_to=Response)  # a model list is not a Response
    info = classify(caught.value)
    assert (info.category, info.retriable, info.status) == ("response_validation", False, 200)


# --- the SDK's whole status tree, through its real request path -------------------------------


@pytest.fixture
def answering() -> Iterator[Any]:
    """``answering(status, body, headers)`` -> an SDK client whose transport gives that reply."""
    clients: list[openai.OpenAI] = []

    def make(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        def handler(request: httpx2.Request) -> httpx2.Response:
            return httpx2.Response(
                status,
                json=body,
                headers={"x-request-id": "req_mock123", **(headers or {})},
                request=request,
            )

        client = openai.OpenAI(
            api_key="test-key",
            base_url="http://mock.invalid/v1",
            max_retries=0,
            http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def _error(message: str, kind: str | None, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


STATUS_TABLE = [
    (400, "invalid_request_error", "invalid_value", openai.BadRequestError, "bad_request", False),
    (400, "invalid_request_error", "context_length_exceeded", openai.BadRequestError,
     "context_length", False),
    (401, "invalid_request_error", "invalid_api_key", openai.AuthenticationError, "auth", False),
    (403, "invalid_request_error", "unsupported_country_region_territory",
     openai.PermissionDeniedError, "permission", False),
    (404, "invalid_request_error", "model_not_found", openai.NotFoundError, "not_found", False),
    (408, "invalid_request_error", None, openai.APIStatusError, "timeout", True),
    (409, "invalid_request_error", None, openai.ConflictError, "conflict", True),
    (413, "invalid_request_error", None, openai.APIStatusError, "bad_request", False),
    (422, "invalid_request_error", None, openai.UnprocessableEntityError, "unprocessable",
     False),
    (429, "requests", "rate_limit_exceeded", openai.RateLimitError, "rate_limit", True),
    (429, "tokens", "rate_limit_exceeded", openai.RateLimitError, "rate_limit", True),
    (429, "insufficient_quota", "insufficient_quota", openai.RateLimitError, "quota", False),
    # the service's more specific codes for a spent balance or a spend limit: type decides,
    # even for a code the course has never seen
    (429, "insufficient_quota", "credit_balance_exhausted", openai.RateLimitError, "quota", False),
    (429, "insufficient_quota", "project_spend_limit_exceeded", openai.RateLimitError, "quota",
     False),
    (429, "insufficient_quota", "some_future_quota_code", openai.RateLimitError, "quota", False),
    (429, "insufficient_quota", None, openai.RateLimitError, "quota", False),
    # ... and a known quota code decides even when the type says something else
    (429, "invalid_request_error", "billing_hard_limit_reached", openai.RateLimitError, "quota",
     False),
    (429, None, "credit_balance_exhausted", openai.RateLimitError, "quota", False),
    (500, "server_error", None, openai.InternalServerError, "server_error", True),
    (502, "server_error", None, openai.InternalServerError, "server_error", True),
    (503, "server_error", "overloaded", openai.InternalServerError, "server_error", True),
    (504, "server_error", None, openai.InternalServerError, "server_error", True),
]  # fmt: skip


@pytest.mark.parametrize(("status", "kind", "code", "cls", "category", "retriable"), STATUS_TABLE)
def test_every_status_of_the_sdk_tree(
    answering: Any,
    status: int,
    kind: str | None,
    code: str | None,
    cls: type,
    category: str,
    retriable: bool,
) -> None:
    client = answering(status, _error("designed reply", kind, code))
    with pytest.raises(openai.APIStatusError) as caught:
        client.responses.create(model=DEFAULT_MODEL, input="Hello")
    exc = caught.value
    assert type(exc) is cls
    info = classify(exc)
    assert (info.category, info.retriable, info.status) == (category, retriable, status)
    assert (info.code, info.type, info.request_id) == (code, kind, "req_mock123")


def test_status_error_without_a_json_body(answering: Any) -> None:
    client = answering(502, None)
    with pytest.raises(openai.InternalServerError) as caught:
        client.responses.create(model=DEFAULT_MODEL, input="Hello")
    info = classify(caught.value)
    assert (info.category, info.code, info.type) == ("server_error", None, None)


def test_connection_refused_is_a_connection_error() -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    client = openai.OpenAI(
        api_key="test-key",
        base_url="http://mock.invalid/v1",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(refuse)),
    )
    with pytest.raises(openai.APIConnectionError) as caught:
        client.responses.create(model=DEFAULT_MODEL, input="Hello")
    assert type(caught.value) is openai.APIConnectionError
    assert classify(caught.value).category == "connection"
    client.close()


def test_sdk_exceptions_built_directly_are_classified() -> None:
    request = httpx2.Request("POST", "http://127.0.0.1/v1/responses")
    assert classify(openai.APITimeoutError(request=request)).category == "timeout"
    assert classify(openai.APIConnectionError(request=request)).category == "connection"
    response = httpx2.Response(502, request=request)
    bad_gateway = openai.APIStatusError("bad gateway", response=response, body=None)
    assert (classify(bad_gateway).category, classify(bad_gateway).status) == ("server_error", 502)
    # a plain APIError (e.g. raised mid-stream) carries no status: nothing to go on
    assert classify(openai.APIError("stream broke", request, body=None)).category == "unexpected"


@pytest.mark.parametrize(
    ("exc", "category"),
    [
        (TimeoutError("read timed out"), "timeout"),
        (ConnectionResetError("reset by peer"), "connection"),
        (ValueError("not an API error"), "unexpected"),
        (KeyError("output"), "unexpected"),
        (TypeError("'Response' object is not subscriptable"), "unexpected"),
        (openai.OpenAIError("The api_key client option must be set"), "unexpected"),
    ],
)
def test_non_sdk_exceptions(exc: BaseException, category: str) -> None:
    info = classify(exc)
    assert info.category == category
    assert (info.status, info.code, info.type, info.request_id) == (None, None, None, None)


def test_classify_rejects_non_exceptions_clearly() -> None:
    with pytest.raises(TypeError, match="exception you caught"):
        classify("429")  # type: ignore[arg-type]


def test_every_advice_says_what_happened_what_to_do_and_where(sim: Simulator) -> None:
    for fault, cls, category, *_ in FAULT_TABLE:
        advice = classify(_raise_from(sim, fault)).advice
        assert len(advice) > 60 and "{" not in advice
        assert cls.__name__ in advice
        section = next(c.section for c in CATEGORIES if c.name == category)
        assert f"\u201c{section}\u201d in {LESSON}" in advice
    assert "sim-course-key" not in classify(_raise_from(sim, "auth")).advice


def test_table_names_and_retry_decisions() -> None:
    names = [c.name for c in CATEGORIES]
    assert len(names) == len(set(names))
    assert names == [
        "auth",
        "permission",
        "bad_request",
        "context_length",
        "not_found",
        "conflict",
        "unprocessable",
        "rate_limit",
        "quota",
        "server_error",
        "connection",
        "timeout",
        "response_validation",
        "unexpected",
    ]
    retriable = {c.name for c in CATEGORIES if c.retriable}
    assert retriable == {"rate_limit", "conflict", "connection", "server_error", "timeout"}
    for c in CATEGORIES:
        assert c.label and c.sdk and c.example_cause and c.action and c.section
        assert c.advice.count("{detail}") == 1
    assert "insufficient_quota" in QUOTA_CODES


def test_advice_names_real_sections_of_the_lesson() -> None:
    """Each category's section is a ``## `` heading of lesson 04, so the advice never dangles."""
    lesson = json.loads((Path(__file__).resolve().parent.parent / LESSON).read_text("utf-8"))
    headings = {
        line[3:].strip()
        for cell in lesson["cells"]
        if cell["cell_type"] == "markdown"
        for line in "".join(cell["source"]).splitlines()
        if line.startswith("## ")
    }
    missing = {c.name: c.section for c in CATEGORIES if c.section not in headings}
    assert not missing, f"sections not in {LESSON}: {missing}"


def test_categories_markdown_renders_one_row_per_category() -> None:
    table = categories_markdown().splitlines()
    assert table[0].startswith("| Error type | SDK exception | Example cause | Retry?")
    assert len(table) == 2 + len(CATEGORIES)
    assert all(row.count("|") == table[0].count("|") for row in table)
    quota = next(row for row in table if row.startswith("| Quota exhausted (429) |"))
    assert "| no |" in quota and "insufficient_quota" in quota


def test_course_error_is_a_plain_exception_base() -> None:
    class Budget(CourseError, RuntimeError):
        pass

    err = Budget("over budget")
    assert isinstance(err, CourseError) and isinstance(err, RuntimeError)
    assert classify(err).category == "unexpected"


def test_public_surface() -> None:
    for name in errors.__all__:
        assert hasattr(errors, name)
