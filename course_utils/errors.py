"""Which API errors to retry: the course's error table as data, over the SDK's own exceptions.

``classify(exc)`` maps any exception to one category of ``CATEGORIES`` with a retry decision and
advice that says what happened, what to do and which section of lesson 04 explains it. The
SDK's tree (``openai/_exceptions.py``) is why the checks run in this order::

    OpenAIError
    └── APIError
        ├── APIConnectionError (no response)         -> connection
        │   └── APITimeoutError                      -> timeout   (a subclass: checked first)
        ├── APIResponseValidationError (a 200 the SDK cannot read) -> response_validation
        └── APIStatusError (an HTTP error came back), by status:
            ├── 400 BadRequestError                  -> bad_request, or context_length
            ├── 401 AuthenticationError              -> auth
            ├── 403 PermissionDeniedError            -> permission
            ├── 404 NotFoundError                    -> not_found
            ├── 409 ConflictError                    -> conflict
            ├── 422 UnprocessableEntityError         -> unprocessable
            ├── 429 RateLimitError                   -> rate_limit, or quota
            └── >= 500 InternalServerError           -> server_error
    anything else (a bug in our own code)            -> unexpected

A 429 is ``quota`` when the body's ``type`` is ``insufficient_quota`` or its ``code`` is one of
``QUOTA_CODES``: the service sends more specific codes for a spent credit balance or a spend
limit, but keeps that type. Everything else at 429 is a transient ``rate_limit``.

The table renders in lesson 04 (``categories_markdown()``), Exercise 3 reports ``category`` as
``error_type`` and ``results.Result`` validates against it, so all of them agree by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import openai

__all__ = [
    "CATEGORIES",
    "LESSON",
    "QUOTA_CODES",
    "Category",
    "CourseError",
    "ErrorInfo",
    "InvalidResult",
    "categories_markdown",
    "classify",
    "is_retriable",
]

LESSON = "notebooks/04_error_handling.ipynb"
"""The lesson whose sections the advice names (a test checks each title is a real heading)."""

QUOTA_CODES = frozenset(
    {
        "insufficient_quota",  # the long-standing code (and type) for "no quota left"
        "credit_balance_exhausted",  # no prepaid credit left
        "project_spend_limit_exceeded",  # a project's hard spend limit reached
        "billing_hard_limit_reached",  # the older name of an organisation's hard limit
        "billing_not_active",  # no active billing on the account
    }
)
"""429 codes that mean "no more spending"; ``type: insufficient_quota`` decides on its own too.

The specific codes are the ones OpenAI's help centre lists for a 429 ``insufficient_quota``
("Troubleshooting API usage and spend limits"); new ones still arrive with that type.
"""

_CONTEXT_CODES = frozenset({"context_length_exceeded"})


class CourseError(Exception):
    """Base class of the course's own exceptions (not the SDK's).

    Each subclass keeps a builtin or SDK base as well (``class BudgetExceeded(CourseError,
    RuntimeError)``), so ``except RuntimeError`` written before still catches it, and ``except
    CourseError`` catches every problem the course itself reports.
    """


class InvalidResult(CourseError, ValueError):
    """A result record (a ``Result``, a dict or a JSON line meant to be one) breaks the schema."""


@dataclass(frozen=True)
class Category:
    """One row of the table: a kind of failure, how it arrives, retry or not, what to do.

    ``advice`` is the full sentence ``classify`` gives (``{detail}`` becomes the status, code
    and exception class); ``section`` is the lesson 04 heading that explains the category.
    """

    name: str
    label: str
    sdk: str
    example_cause: str
    retriable: bool
    action: str
    advice: str
    section: str


_PERMANENT = "Retry what is transient, fail fast on the rest"
_TRANSIENT = "Retry what is transient, fail fast on the rest"
_QUOTA = "Rate limit or quota?"
_RARE = "Going further: the rarer statuses"
_UNREADABLE = "Going further: a response the SDK cannot read"
_TRACEBACK = "Going further: reading a traceback"

CATEGORIES: tuple[Category, ...] = (
    Category(
        "auth", "Authentication (401)", "`AuthenticationError`",
        "missing, wrong or revoked API key", False,
        "fix the key (OPENAI_API_KEY); a retry sends the same bad key",
        "The API rejected the key ({detail}). Set a valid OPENAI_API_KEY for this backend; "
        "retrying with the same key fails the same way.",
        _PERMANENT,
    ),
    Category(
        "permission", "Permission denied (403)", "`PermissionDeniedError`",
        "the key's project may not use this model or endpoint (or this region)", False,
        "ask for access or use a model the project may call",
        "The key is valid but not allowed to do this ({detail}). Use a model or endpoint the "
        "project has access to, or ask its owner for access; retrying cannot help.",
        _RARE,
    ),
    Category(
        "bad_request", "Bad request (400)", "`BadRequestError`",
        "an invalid parameter value or malformed input", False,
        "fix the request: the message names the parameter",
        "The request was refused as invalid ({detail}). Fix the parameter the message names; "
        "sending it again will not help.",
        _PERMANENT,
    ),
    Category(
        "context_length", "Context length (400)",
        "`BadRequestError`, code `context_length_exceeded`",
        "input + max_output_tokens exceed the model's context window", False,
        "shorten or chunk the input, or lower max_output_tokens",
        "The input plus max_output_tokens does not fit the model's context window ({detail}). "
        "Shorten or chunk the prompt (course_utils.chunk_text) or lower max_output_tokens.",
        _PERMANENT,
    ),
    Category(
        "not_found", "Not found (404)", "`NotFoundError`",
        "a wrong URL, or a model / file / response id this key cannot see", False,
        "check the id and the base URL",
        "Nothing exists at that address for this key ({detail}). Check the model or object id "
        "and OPENAI_BASE_URL; the same request finds nothing again.",
        _RARE,
    ),
    Category(
        "conflict", "Conflict (409)", "`ConflictError`",
        "the resource changed under a concurrent request", True,
        "wait briefly and retry (the SDK retries 409 too)",
        "The request collided with another change to the same resource ({detail}). Wait "
        "briefly and retry a bounded number of times.",
        _RARE,
    ),
    Category(
        "unprocessable", "Unprocessable (422)", "`UnprocessableEntityError`",
        "well-formed JSON that the service cannot act on", False,
        "fix the content of the request",
        "The service understood the request but cannot act on it ({detail}). Fix what the "
        "message points at; retrying the same content fails again.",
        _RARE,
    ),
    Category(
        "rate_limit", "Rate limit (429)", "`RateLimitError`, code `rate_limit_exceeded`",
        "too many requests or tokens per minute", True,
        "wait (honour retry-after), back off with jitter, retry a bounded number of times",
        "Too many requests or tokens this minute ({detail}). Wait, honouring retry-after, "
        "and retry with exponential backoff and jitter.",
        _TRANSIENT,
    ),
    Category(
        "quota", "Quota exhausted (429)", "`RateLimitError`, type `insufficient_quota`",
        "no credit left, or a spend limit reached", False,
        "stop: add credit, raise the limit or use another project's key",
        "The account may not spend more ({detail}). Waiting will not help: add credit, raise "
        "the spend limit, or use another project's key.",
        _QUOTA,
    ),
    Category(
        "server_error", "Server error (5xx)", "`InternalServerError`",
        "a temporary problem on the service side (500, 502, 503 overloaded)", True,
        "retry with backoff; if it lasts, check the status page",
        "The service had a temporary problem ({detail}). Retry with backoff; if it lasts, "
        "check the provider's status page.",
        _TRANSIENT,
    ),
    Category(
        "connection", "Connection error", "`APIConnectionError`",
        "network dropped, DNS failure, wrong base URL, socket closed", True,
        "retry with backoff; if it persists, check the network or base URL",
        "No response arrived: the connection failed or was dropped ({detail}). Retry with "
        "backoff; if it keeps failing, check the network and OPENAI_BASE_URL.",
        _TRANSIENT,
    ),
    Category(
        "timeout", "Timeout", "`APITimeoutError`",
        "the answer took longer than the client's timeout", True,
        "retry carefully; raise the timeout or ask for a shorter answer",
        "The request took longer than the client's timeout ({detail}). Retry with backoff, "
        "or raise the timeout / ask for a shorter answer.",
        _TRANSIENT,
    ),
    Category(
        "response_validation", "Unreadable response", "`APIResponseValidationError`",
        "a reply whose body is not the shape the SDK expects (a proxy, another server)", False,
        "check OPENAI_BASE_URL points at an OpenAI-compatible API",
        "A response arrived but the SDK could not read it ({detail}). Check that "
        "OPENAI_BASE_URL points at an OpenAI-compatible API; retrying gets the same body.",
        _UNREADABLE,
    ),
    Category(
        "unexpected", "Unexpected", "any other exception",
        "a bug in our own code (KeyError, TypeError, ...)", False,
        "do not retry: read the traceback and fix the cause",
        "An error the course does not classify ({detail}), usually a bug in the calling "
        "code. Read the message and traceback and fix the cause before retrying.",
        _TRACEBACK,
    ),
)  # fmt: skip

_BY_NAME = {c.name: c for c in CATEGORIES}


@dataclass(frozen=True)
class ErrorInfo:
    """What ``classify`` decided about one exception, and what it carried."""

    category: str
    retriable: bool
    advice: str
    status: int | None = None
    code: str | None = None
    type: str | None = None
    request_id: str | None = None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _body_field(exc: BaseException, key: str) -> str | None:
    """``code`` / ``type`` from the exception, else from its body (inner ``error`` or flat)."""
    found = _text(getattr(exc, key, None))
    if found:
        return found
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            return _text(inner.get(key))
    return None


def _status(exc: BaseException) -> int | None:
    if isinstance(exc, openai.APIConnectionError):
        return None  # no response arrived (a timeout has none either)
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int):
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) and not isinstance(status, bool) else None


_BY_STATUS = {
    401: "auth",
    403: "permission",
    404: "not_found",
    408: "timeout",  # the server gave up waiting for the request; the SDK retries it
    409: "conflict",
    422: "unprocessable",
}


def _category(exc: BaseException, status: int | None, code: str | None, kind: str | None) -> str:
    if isinstance(exc, openai.APITimeoutError | TimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError | ConnectionError):
        return "connection"
    if isinstance(exc, openai.APIResponseValidationError):
        return "response_validation"
    if status is None:
        return "unexpected"
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status == 429:
        return "quota" if kind == "insufficient_quota" or code in QUOTA_CODES else "rate_limit"
    if 400 <= status < 500:
        return "context_length" if code in _CONTEXT_CODES else "bad_request"
    if status >= 500:
        return "server_error"
    return "unexpected"


def classify(exc: BaseException) -> ErrorInfo:
    """Sort an exception into a category with a retry decision and what-to-do advice."""
    if not isinstance(exc, BaseException):
        raise TypeError(
            f"classify() takes the exception you caught (e.g. `except openai.APIError as err: "
            f"classify(err)`), got {type(exc).__name__}"
        )
    status = _status(exc)
    code = _body_field(exc, "code")
    kind = _body_field(exc, "type")
    category = _BY_NAME[_category(exc, status, code, kind)]
    parts: list[Any] = [status, code, kind if kind != code else None, type(exc).__name__]
    detail = ", ".join(str(p) for p in parts if p is not None)
    advice = (
        f"{category.advice.format(detail=detail)} See \u201c{category.section}\u201d in {LESSON}."
    )
    request_id = _text(getattr(exc, "request_id", None))
    return ErrorInfo(category.name, category.retriable, advice, status, code, kind, request_id)


def is_retriable(exc: BaseException) -> bool:
    """True for transient failures worth retrying (rate limit, 5xx, 409, connection, timeout)."""
    return classify(exc).retriable


def categories_markdown() -> str:
    """``CATEGORIES`` as a Markdown table, for a lesson's ``display(Markdown(...))``."""
    rows = [
        "| Error type | SDK exception | Example cause | Retry? | Recommended action |",
        "|---|---|---|---|---|",
    ]
    rows += [
        f"| {c.label} | {c.sdk} | {c.example_cause} | {'**yes**' if c.retriable else 'no'} | "
        f"{c.action} |"
        for c in CATEGORIES
    ]
    return "\n".join(rows)
