"""Which API errors to retry: the course's error taxonomy as data, over the SDK's own exceptions.

``classify(exc)`` maps an exception from the ``openai`` SDK to one category of ``CATEGORIES``
with a retry decision and advice. The SDK's tree (``openai._exceptions``) decides the order::

    APIError
    ├── APIStatusError (an HTTP response came back)
    │   ├── BadRequestError 400        -> bad_request, or context_length
    │   ├── AuthenticationError 401    -> auth   (also PermissionDeniedError 403)
    │   ├── RateLimitError 429         -> rate_limit, or quota (code insufficient_quota)
    │   └── InternalServerError >= 500 -> server_error
    └── APIConnectionError (no response) -> connection
        └── APITimeoutError              -> timeout  (checked first: it is a subclass)

Lesson 03 (retries) renders ``CATEGORIES`` as its table; exercise 3 reports ``category`` as
``error_type``.
"""

from __future__ import annotations

from dataclasses import dataclass

import openai

__all__ = [
    "CATEGORIES",
    "Category",
    "CourseError",
    "ErrorInfo",
    "categories_markdown",
    "classify",
    "is_retriable",
]


class CourseError(Exception):
    """Base class of the course's own exceptions (not the SDK's).

    Each subclass keeps a builtin or SDK base as well (``class BudgetExceeded(CourseError,
    RuntimeError)``), so ``except RuntimeError`` written before still catches it, and ``except
    CourseError`` catches every problem the course itself reports.
    """


@dataclass(frozen=True)
class Category:
    """One row of the table: a kind of failure, a typical cause, retry or not, what to do."""

    name: str
    label: str
    example_cause: str
    retriable: bool
    action: str


@dataclass(frozen=True)
class ErrorInfo:
    """What ``classify`` decided about one exception."""

    category: str
    retriable: bool
    advice: str
    status: int | None = None
    code: str | None = None
    type: str | None = None
    request_id: str | None = None


CATEGORIES: tuple[Category, ...] = (
    Category(
        "auth", "Authentication (401/403)", "missing, wrong or revoked API key", False,
        "fix the key (OPENAI_API_KEY) or the project's permissions; retrying cannot help",
    ),
    Category(
        "bad_request", "Bad request (400/404/422)", "unknown model, bad parameter value", False,
        "fix the request (the message names the parameter); the same request fails again",
    ),
    Category(
        "context_length", "Context length (400)", "prompt + max_output_tokens exceed the window",
        False, "shorten or chunk the input, or lower max_output_tokens, then send again",
    ),
    Category(
        "rate_limit", "Rate limit (429)", "too many requests or tokens per minute", True,
        "wait (honour retry-after), back off with jitter, and retry a bounded number of times",
    ),
    Category(
        "quota", "Quota exhausted (429)", "no credit left: code insufficient_quota", False,
        "stop and check billing or use another project's key; waiting never helps",
    ),
    Category(
        "connection", "Connection error", "network dropped, DNS failure, server closed socket",
        True, "retry with backoff; if it persists, check the network or base URL",
    ),
    Category(
        "timeout", "Timeout", "slow network or an overloaded service", True,
        "retry carefully with backoff; consider a longer timeout or a shorter answer",
    ),
    Category(
        "server_error", "Server error (5xx)", "a temporary problem on the service side", True,
        "retry with backoff; if it lasts, check the provider's status page",
    ),
    Category(
        "unexpected", "Unexpected", "anything the table does not cover (often a bug)", False,
        "do not retry blindly: read the message and traceback, fix the cause",
    ),
)  # fmt: skip

_BY_NAME = {c.name: c for c in CATEGORIES}

_ADVICE = {
    "auth": "The API rejected the key ({detail}). Set a valid OPENAI_API_KEY for this backend; "
    "retrying with the same key fails the same way.",
    "bad_request": "The request was refused as invalid ({detail}). Fix the parameter the message "
    "names; sending it again will not help.",
    "context_length": "The input plus max_output_tokens does not fit the model's context window "
    "({detail}). Shorten or chunk the prompt (course_utils.chunk_text) or lower "
    "max_output_tokens.",
    "rate_limit": "Too many requests or tokens this minute ({detail}). Wait, honouring "
    "retry-after, and retry with exponential backoff and jitter.",
    "quota": "The account is out of quota ({detail}). Waiting will not help: check billing or "
    "use another project's key.",
    "connection": "No response arrived: the connection failed or was dropped ({detail}). Retry "
    "with backoff; if it keeps failing, check the network and the base URL.",
    "timeout": "The request took longer than the client's timeout ({detail}). Retry with "
    "backoff, or raise the timeout / ask for a shorter answer.",
    "server_error": "The service had a temporary problem ({detail}). Retry with backoff; if it "
    "lasts, check the provider's status page.",
    "unexpected": "An error the course does not classify ({detail}). Read the message and "
    "traceback and fix the cause before retrying.",
}


def _code(exc: BaseException) -> str | None:
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code:
        return code
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            for key in ("code", "type"):
                if isinstance(inner.get(key), str):
                    return inner[key]
    return None


def _category(exc: BaseException, status: int | None, code: str | None) -> str:
    if isinstance(exc, openai.APITimeoutError | TimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError | ConnectionError):
        return "connection"
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return "auth"
    if isinstance(exc, openai.RateLimitError) or status == 429:
        return "quota" if code == "insufficient_quota" else "rate_limit"
    if code == "context_length_exceeded":
        return "context_length"
    if isinstance(
        exc, openai.BadRequestError | openai.NotFoundError | openai.UnprocessableEntityError
    ):
        return "bad_request"
    if isinstance(exc, openai.APIStatusError) and status is not None and status >= 500:
        return "server_error"
    return "unexpected"


def classify(exc: BaseException) -> ErrorInfo:
    """Sort an exception into a category with a retry decision and what-to-do advice."""
    if not isinstance(exc, BaseException):
        raise TypeError(
            f"classify() takes the exception you caught (e.g. `except openai.APIError as err: "
            f"classify(err)`), got {type(exc).__name__}"
        )
    status = getattr(exc, "status_code", None)
    status = status if isinstance(status, int) else None
    code = _code(exc)
    name = _category(exc, status, code)
    detail = ", ".join(
        str(p) for p in (status, code if code else None, type(exc).__name__) if p is not None
    )
    advice = _ADVICE[name].format(detail=detail)
    err_type = getattr(exc, "type", None)
    request_id = getattr(exc, "request_id", None)
    return ErrorInfo(
        name,
        _BY_NAME[name].retriable,
        advice,
        status,
        code,
        err_type if isinstance(err_type, str) else None,
        request_id if isinstance(request_id, str) else None,
    )


def is_retriable(exc: BaseException) -> bool:
    """True for transient failures worth retrying (rate limit, 5xx, connection, timeout)."""
    return classify(exc).retriable


def categories_markdown() -> str:
    """``CATEGORIES`` as a Markdown table, for a lesson's ``display(Markdown(...))``."""
    rows = ["| Error type | Example cause | Retry? | Recommended action |", "|---|---|---|---|"]
    rows += [
        f"| {c.label} | {c.example_cause} | {'yes' if c.retriable else 'no'} | {c.action} |"
        for c in CATEGORIES
    ]
    return "\n".join(rows)
