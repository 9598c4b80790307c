"""OpenAI-shaped error bodies: one exception the handlers raise, one function that serialises it.

The body is ``{"error": {"message", "type", "param", "code"}}`` as the service sends it; the SDK
turns the status into its exception class and reads ``code``/``type``/``param`` from the body.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "SimError",
    "bad_request",
    "error_body",
    "mask_key",
]


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
    """A key shortened so that it can be shown: ``sk-ab***yz``; never the whole key."""
    if not key:
        return "<none>"
    if len(key) < 12:
        return "***"
    return f"{key[:5]}***{key[-2:]}"
