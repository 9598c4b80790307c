"""The ``x-ratelimit-*`` headers every answer carries: the limits, what is left, when it refills.

``read_rate_limit_headers(raw.headers)`` turns them into a ``RateLimitHeaders`` (None where a
header is missing or junk: some compatible servers send none). The service writes durations in
Go's style (``1s``, ``6m0s``, ``12ms``); ``parse_duration`` reads them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["RateLimitHeaders", "parse_duration", "read_rate_limit_headers"]

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|ms|us|µs|μs|ns|m|s)")
_UNIT_S = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "μs": 1e-6,
           "ns": 1e-9}  # fmt: skip


def parse_duration(text: str) -> float:
    """Seconds in a reset header's duration: ``1s``, ``6m0s``, ``12ms``, ``1h2m3.5s`` or ``0.5``.

    The service writes durations in Go's ``time.Duration`` style; a bare number is taken as
    seconds (some compatible servers send that). Anything else is a ``ValueError``.
    """
    if not isinstance(text, str):
        raise TypeError(f"a duration is text such as '6m0s', got {type(text).__name__}")
    s = text.strip()
    try:
        value = float(s)
    except ValueError:
        pass
    else:
        if math.isfinite(value) and value >= 0:
            return value
        raise ValueError(f"a duration must be a finite number of seconds >= 0, got {text!r}")
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(s):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_S[match.group(2)]
        pos = match.end()
    if pos != len(s) or not s:
        raise ValueError(
            f"{text!r} is not a duration; expected the service's style such as '1s', '6m0s', "
            "'12ms' or '1h2m3.5s'"
        )
    return total


def _header_int(h: dict[str, str], name: str) -> int | None:
    raw = h.get(name)
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return int(value) if math.isfinite(value) and value >= 0 else None


def _header_duration(h: dict[str, str], name: str) -> float | None:
    raw = h.get(name)
    if raw is None:
        return None
    try:
        return parse_duration(raw)
    except ValueError:
        return None


@dataclass(frozen=True)
class RateLimitHeaders:
    """The six ``x-ratelimit-*`` headers of one response; None where one is missing or junk."""

    limit_requests: int | None = None
    limit_tokens: int | None = None
    remaining_requests: int | None = None
    remaining_tokens: int | None = None
    reset_requests_s: float | None = None
    reset_tokens_s: float | None = None

    @property
    def empty(self) -> bool:
        """True when the response carried none of them (some compatible servers send none)."""
        return all(v is None for v in vars(self).values())

    def rows(self) -> list[tuple[str, str, str, str]]:
        """``(limit, per minute, left now, full again in)`` rows for requests and tokens."""

        def show(value: float | None, unit: str) -> str:
            return "?" if value is None else f"{value:,.0f} {unit}"

        def secs(value: float | None) -> str:
            return "?" if value is None else f"{value:g} s"

        return [
            ("requests", show(self.limit_requests, "requests"),
             show(self.remaining_requests, "requests"), secs(self.reset_requests_s)),
            ("tokens", show(self.limit_tokens, "tokens"),
             show(self.remaining_tokens, "tokens"), secs(self.reset_tokens_s)),
        ]  # fmt: skip

    def __str__(self) -> str:
        if self.empty:
            return "no x-ratelimit-* headers in this response"
        lines = [f"{'limit':10} {'per minute':>20} {'left now':>20} {'full again in':>14}"]
        lines += [f"{a:10} {b:>20} {c:>20} {d:>14}" for a, b, c, d in self.rows()]
        return "\n".join(lines)


def read_rate_limit_headers(headers: Any) -> RateLimitHeaders:
    """Read the ``x-ratelimit-*`` headers from ``response.headers`` (or any mapping)."""
    if headers is None:
        return RateLimitHeaders()
    items = getattr(headers, "items", None)
    if items is None:
        raise TypeError(
            "pass the response's headers: raw = client.responses.with_raw_response.create(...); "
            f"read_rate_limit_headers(raw.headers), got {type(headers).__name__}"
        )
    h = {str(k).lower(): str(v) for k, v in items()}
    p = "x-ratelimit-"
    return RateLimitHeaders(
        _header_int(h, p + "limit-requests"),
        _header_int(h, p + "limit-tokens"),
        _header_int(h, p + "remaining-requests"),
        _header_int(h, p + "remaining-tokens"),
        _header_duration(h, p + "reset-requests"),
        _header_duration(h, p + "reset-tokens"),
    )
