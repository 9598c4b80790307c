"""course_utils.errors: real SDK exceptions from the simulator, sorted into the course's table."""

from __future__ import annotations

import httpx2
import openai
import pytest

from course_utils import errors
from course_utils.errors import CATEGORIES, ErrorInfo, categories_markdown, classify, is_retriable
from course_utils.pricing import DEFAULT_MODEL
from course_utils.simulator import Simulator

# fault -> (SDK class, category, retriable, status, code)
FAULT_TABLE = [
    ("auth", openai.AuthenticationError, "auth", False, 401, "invalid_api_key"),
    ("bad_request", openai.BadRequestError, "bad_request", False, 400, "invalid_value"),
    (
        "context_length",
        openai.BadRequestError,
        "context_length",
        False,
        400,
        "context_length_exceeded",
    ),
    ("rate_limit", openai.RateLimitError, "rate_limit", True, 429, "rate_limit_exceeded"),
    ("quota", openai.RateLimitError, "quota", False, 429, "insufficient_quota"),
    ("server_error", openai.InternalServerError, "server_error", True, 500, "server_error"),
    ("overloaded", openai.InternalServerError, "server_error", True, 503, "overloaded"),
    ("disconnect", openai.APIConnectionError, "connection", True, None, None),
]


def _raise_from(sim: Simulator, fault: str, timeout: float = 5.0) -> openai.APIError:
    sim.queue_faults([fault])
    client = sim.client(max_retries=0, timeout=timeout)
    with pytest.raises(openai.APIError) as caught:
        client.responses.create(model=DEFAULT_MODEL, input="Hello")
    return caught.value


@pytest.mark.parametrize(("fault", "cls", "category", "retriable", "status", "code"), FAULT_TABLE)
def test_classify_real_sdk_errors(
    sim: Simulator,
    fault: str,
    cls: type,
    category: str,
    retriable: bool,
    status: int | None,
    code: str | None,
) -> None:
    exc = _raise_from(sim, fault)
    assert type(exc) is cls
    info = classify(exc)
    assert (info.category, info.retriable, info.status, info.code) == (
        category,
        retriable,
        status,
        code,
    )
    assert isinstance(info, ErrorInfo)
    assert is_retriable(exc) is retriable


def test_timeout_is_checked_before_its_parent_connection_error(sim: Simulator) -> None:
    exc = _raise_from(sim, "timeout", timeout=0.2)
    assert isinstance(exc, openai.APITimeoutError) and isinstance(exc, openai.APIConnectionError)
    info = classify(exc)
    assert (info.category, info.retriable, info.status) == ("timeout", True, None)


def test_sdk_exceptions_built_directly_are_classified() -> None:
    request = httpx2.Request("POST", "http://127.0.0.1/v1/responses")
    assert classify(openai.APITimeoutError(request=request)).category == "timeout"
    assert classify(openai.APIConnectionError(request=request)).category == "connection"
    response = httpx2.Response(502, request=request)
    bad_gateway = openai.APIStatusError("bad gateway", response=response, body=None)
    assert (classify(bad_gateway).category, classify(bad_gateway).status) == ("server_error", 502)


@pytest.mark.parametrize(
    ("exc", "category"),
    [
        (TimeoutError("read timed out"), "timeout"),
        (ConnectionResetError("reset by peer"), "connection"),
        (ValueError("not an API error"), "unexpected"),
        (KeyError("output"), "unexpected"),
    ],
)
def test_non_sdk_exceptions(exc: BaseException, category: str) -> None:
    info = classify(exc)
    assert info.category == category
    assert info.status is None


def test_classify_rejects_non_exceptions_clearly() -> None:
    with pytest.raises(TypeError, match="exception you caught"):
        classify("429")  # type: ignore[arg-type]


def test_every_advice_says_what_happened_and_what_to_do(sim: Simulator) -> None:
    for fault, *_ in FAULT_TABLE:
        advice = classify(_raise_from(sim, fault)).advice
        assert len(advice) > 40 and "{" not in advice
        assert type(_raise_from(sim, fault)).__name__ in advice
    assert "sim-course-key" not in classify(_raise_from(sim, "auth")).advice


def test_table_covers_every_category_once() -> None:
    names = [c.name for c in CATEGORIES]
    assert len(names) == len(set(names))
    assert set(names) == {
        "auth",
        "bad_request",
        "rate_limit",
        "quota",
        "connection",
        "server_error",
        "timeout",
        "context_length",
        "unexpected",
    }
    retriable = {c.name for c in CATEGORIES if c.retriable}
    assert retriable == {"rate_limit", "connection", "server_error", "timeout"}
    for c in CATEGORIES:
        assert c.label and c.example_cause and c.action


def test_categories_markdown_renders_one_row_per_category() -> None:
    table = categories_markdown().splitlines()
    assert table[0].startswith("| Error type | Example cause | Retry?")
    assert len(table) == 2 + len(CATEGORIES)
    assert any("| Quota exhausted (429) |" in row and "| no |" in row for row in table)


def test_public_surface() -> None:
    for name in errors.__all__:
        assert hasattr(errors, name)
