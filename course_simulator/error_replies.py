"""OpenAI-shaped error bodies: one exception the handlers raise, one function that serialises it.

The body is ``{"error": {"message", "type", "param", "code"}}`` as the service sends it; the SDK
turns the status into its exception class and reads ``code``/``type``/``param`` from the body.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .limits import Admission, format_duration

__all__ = [
    "CONTEXT_LENGTH_MESSAGE",
    "INVALID_KEY_MESSAGE",
    "ORG",
    "RATE_LIMIT_DOCS",
    "SimError",
    "bad_request",
    "error_body",
    "invalid_key",
    "mask_key",
    "missing_key",
    "no_route",
    "rate_limited",
    "retry_headers",
]

ORG = "org-course-simulator"  # the organization rate-limit messages name
RATE_LIMIT_DOCS = "Visit https://platform.openai.com/account/rate-limits to learn more."
# str.format templates shared by the real checks and the injected faults that imitate them.
INVALID_KEY_MESSAGE = (
    "Incorrect API key provided: {key}. Check the key you set in OPENAI_API_KEY (or passed as "
    "api_key=) against the one the server expects."
)
CONTEXT_LENGTH_MESSAGE = (
    "Your input exceeds the context window of this model ({tokens:,} tokens; {model} takes at "
    "most {window:,}). Shorten or chunk the input and try again."
)


@dataclass
class SimError(Exception):
    """An error response the simulator sends on purpose (status, body fields, extra headers)."""

    status: int
    message: str
    type: str = "invalid_request_error"
    param: str | None = None
    code: str | None = None
    outcome: str = "bad_request"
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code or self.type}: {self.message}"

    def body(self) -> dict:
        """The JSON body the service would send for this error."""
        return error_body(self.message, self.type, self.param, self.code)


def error_body(message: str, type: str, param: str | None = None, code: str | None = None) -> dict:
    """``{"error": {...}}`` in the service's shape."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def bad_request(message: str, param: str | None = None, code: str | None = None) -> SimError:
    """A 400 ``invalid_request_error``, naming the parameter at fault."""
    return SimError(400, message, "invalid_request_error", param, code, "bad_request")


def mask_key(key: str | None) -> str:
    """A key shortened so that it can be shown: ``sk-te***56``; never the whole key.

    At most a quarter of the key's characters are shown, and never more than 7 (5 first, 2
    last), so a short key keeps most of its secret: 12 characters show 3, under 8 show none.
    """
    if not key:
        return "<none>"
    shown = min(7, len(key) // 4)
    if shown == 0:
        return "***"
    tail = min(2, shown // 2)
    return f"{key[: shown - tail]}***{key[len(key) - tail :] if tail else ''}"


def invalid_key(key: str | None) -> SimError:
    """The 401 ``invalid_api_key`` for a key the server does not accept (shown masked)."""
    return SimError(
        401,
        INVALID_KEY_MESSAGE.format(key=mask_key(key)),
        "invalid_request_error",
        code="invalid_api_key",
        outcome="auth",
    )


def retry_headers(seconds: float) -> dict[str, str]:
    """``retry-after`` (whole seconds, at least 1) and the exact ``retry-after-ms``."""
    return {
        "retry-after": str(max(1, math.ceil(seconds))),
        "retry-after-ms": str(max(1, math.ceil(seconds * 1000))),
    }


def missing_key() -> SimError:
    """The 401 ``missing_api_key`` for a request without ``Authorization: Bearer ...``."""
    return SimError(
        401,
        "You didn't provide an API key. Send it in an Authorization header using Bearer auth "
        "(Authorization: Bearer YOUR_KEY); the SDK does this from OPENAI_API_KEY or api_key=.",
        "invalid_request_error",
        code="missing_api_key",
        outcome="auth",
    )


def no_route(method: str, path: str, served: list[str], allowed: list[str]) -> SimError:
    """The 405 (the path exists for other ``allowed`` methods) or 404 listing ``served``."""
    routes = ", ".join(served)
    if allowed:
        return SimError(
            405,
            f"Method {method} is not allowed on {path}; use {' or '.join(allowed)}. "
            f"The course simulator serves: {routes}.",
            "invalid_request_error",
            outcome="not_found",
            headers={"Allow": ", ".join(allowed)},
        )
    return SimError(
        404,
        f"Invalid URL ({method} {path}). The course simulator serves: {routes}.",
        "invalid_request_error",
        outcome="not_found",
    )


def rate_limited(admission: Admission, model: str) -> SimError:
    """The service's 429 for a request the key's RPM or TPM bucket refused (``admission``)."""
    unit = (
        "requests per min (RPM)" if admission.limit_type == "requests" else "tokens per min (TPM)"
    )
    if math.isinf(admission.retry_after_s):
        return SimError(
            429,
            f"Request too large for {model} in organization {ORG} on {unit}: Limit "
            f"{admission.limit:,}, Requested {admission.requested:,}. It can never fit: "
            "reduce the input or max_output_tokens. " + RATE_LIMIT_DOCS,
            "tokens",
            code="rate_limit_exceeded",
            outcome="rate_limit",
            headers=admission.headers,
        )
    return SimError(
        429,
        f"Rate limit reached for {model} in organization {ORG} on {unit}: Limit "
        f"{admission.limit:,}, Used {admission.used:,}, Requested {admission.requested:,}. "
        f"Please try again in {format_duration(admission.retry_after_s)}. " + RATE_LIMIT_DOCS,
        admission.limit_type or "requests",
        code="rate_limit_exceeded",
        outcome="rate_limit",
        headers={**admission.headers, **retry_headers(admission.retry_after_s)},
    )
