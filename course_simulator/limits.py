"""Per-key RPM and TPM token buckets, and the service's Go-style durations for the headers.

Each API key gets two buckets that refill continuously: one counts requests per minute, one
tokens per minute. A request reserves its input tokens plus its output cap (as the service
estimates it) and is admitted only if both buckets have room; nothing is refunded when the answer
turns out shorter. The clock is injectable so tests drive time by hand.

Bounded on purpose, so that no request can break a key and no crowd can exhaust memory: a bucket
never holds less than minus its capacity (one window of debt) whatever amount it is asked to take
(``10**309`` once made every later header raise ``OverflowError``), and the limiter keeps the
buckets of at most ``max_keys`` keys (``MAX_KEYS``, 10,000), forgetting the least recently used
(a forgotten key starts again with full buckets).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "DEFAULT_REPORTED_RPM",
    "DEFAULT_REPORTED_TPM",
    "MAX_KEYS",
    "Admission",
    "KeyBuckets",
    "KeyLimits",
    "TokenBucket",
    "format_duration",
]

# With no --rpm/--tpm the simulator enforces nothing but still sends headers; these are the
# limits it reports then (about a top usage tier's), so header-reading code always has numbers.
DEFAULT_REPORTED_RPM = 30_000
DEFAULT_REPORTED_TPM = 150_000_000
WINDOW_S = 60.0
MAX_KEYS = 10_000  # keys whose buckets are kept; the least recently used is forgotten first

Clock = Callable[[], float]


def format_duration(seconds: float) -> str:
    """``seconds`` as the service's reset headers write it (Go's ``time.Duration`` style).

    Whole milliseconds: ``0s``, ``120ms``, ``1s``, ``1.5s``, ``6m0s``, ``4m12.172s``, ``1h0m0s``.
    A positive time under a millisecond rounds up to ``1ms`` so it never reads as "now".
    """
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"a duration must be a finite number of seconds >= 0, got {seconds!r}")
    ms = math.ceil(seconds * 1000 - 1e-9) if seconds > 0 else 0
    if ms == 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, frac = divmod(rest, 1000)
    secs = f"{whole}.{frac:03d}".rstrip("0").rstrip(".") if frac else str(whole)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


class TokenBucket:
    """A bucket of ``capacity`` that refills evenly to full over one minute (not thread-safe)."""

    def __init__(self, capacity: int, clock: Clock = time.monotonic) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity <= 0:
            raise ValueError(f"a bucket's capacity must be a whole number > 0, got {capacity!r}")
        self.capacity = capacity
        self.rate_per_s = capacity / WINDOW_S
        self._clock = clock
        self._level = float(capacity)
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        if now > self._stamp:
            self._level = min(self.capacity, self._level + (now - self._stamp) * self.rate_per_s)
        self._stamp = now

    @property
    def level(self) -> float:
        """How much is left right now."""
        self._refill()
        return self._level

    def wait_for(self, amount: float) -> float:
        """Seconds until ``amount`` fits (0 if it fits now; ``inf`` if it never can)."""
        if not amount <= self.capacity:  # also NaN; compared exactly, even for huge ints
            return math.inf
        self._refill()
        return max(0.0, (amount - self._level) / self.rate_per_s)

    def take(self, amount: float) -> None:
        """Remove ``amount``; the level never goes below ``-capacity`` (bounded arithmetic).

        An enforcing caller only takes what fits. A bucket that only reports (no limit set)
        may be asked for any amount, even ``10**309``; it is clamped to the capacity before
        any float arithmetic, so the level and the headers stay finite.
        """
        self._refill()
        amount = float(min(amount, self.capacity)) if amount == amount else float(self.capacity)
        self._level = max(-float(self.capacity), self._level - max(0.0, amount))

    def time_to_full(self) -> float:
        """Seconds until the bucket is full again: the ``x-ratelimit-reset-*`` value."""
        self._refill()
        return (self.capacity - self._level) / self.rate_per_s

    def __repr__(self) -> str:
        level = self.level
        return (
            f"<TokenBucket {level:,.1f}/{self.capacity:,} "
            f"(+{self.rate_per_s:,.2f}/s, full in {format_duration(self.time_to_full())})>"
        )


@dataclass(frozen=True)
class Admission:
    """The outcome of one rate-limit check: admitted or not, the headers, and the 429 details."""

    admitted: bool
    headers: dict[str, str]
    limit_type: str | None = None  # "requests" or "tokens" when refused
    limit: int = 0
    used: int = 0
    requested: int = 0
    retry_after_s: float = 0.0


class KeyLimits:
    """The two buckets of one API key; ``enforce`` False means report but never refuse."""

    def __init__(self, rpm: int | None, tpm: int | None, clock: Clock) -> None:
        self.enforce_requests = rpm is not None
        self.enforce_tokens = tpm is not None
        self.requests = TokenBucket(rpm if rpm is not None else DEFAULT_REPORTED_RPM, clock)
        self.tokens = TokenBucket(tpm if tpm is not None else DEFAULT_REPORTED_TPM, clock)

    def headers(self) -> dict[str, str]:
        """The six ``x-ratelimit-*`` headers for the buckets as they are now."""
        return {
            "x-ratelimit-limit-requests": str(self.requests.capacity),
            "x-ratelimit-limit-tokens": str(self.tokens.capacity),
            "x-ratelimit-remaining-requests": str(max(0, math.floor(self.requests.level))),
            "x-ratelimit-remaining-tokens": str(max(0, math.floor(self.tokens.level))),
            "x-ratelimit-reset-requests": format_duration(self.requests.time_to_full()),
            "x-ratelimit-reset-tokens": format_duration(self.tokens.time_to_full()),
        }

    def admit(self, tokens: int) -> Admission:
        """Reserve one request and ``tokens`` tokens if both fit; otherwise say which limit."""
        if self.enforce_requests:
            wait = self.requests.wait_for(1)
            if wait > 0:
                return self._refuse("requests", self.requests, 1, wait)
        if self.enforce_tokens:
            wait = self.tokens.wait_for(tokens)
            if wait > 0:
                return self._refuse("tokens", self.tokens, tokens, wait)
        self.requests.take(1)
        self.tokens.take(tokens)
        return Admission(True, self.headers())

    def _refuse(self, kind: str, bucket: TokenBucket, amount: int, wait: float) -> Admission:
        used = bucket.capacity - math.floor(bucket.level)
        return Admission(
            False, self.headers(), kind, bucket.capacity, used, amount, retry_after_s=wait
        )


class KeyBuckets:
    """Buckets per API key, created on first use; one lock keeps check-and-take atomic.

    At most ``max_keys`` keys keep their buckets; the least recently used is forgotten first.
    """

    def __init__(
        self,
        rpm: int | None = None,
        tpm: int | None = None,
        clock: Clock = time.monotonic,
        *,
        max_keys: int = MAX_KEYS,
    ) -> None:
        for name, value in (("rpm", rpm), ("tpm", tpm), ("max_keys", max_keys)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value <= 0
            ):
                raise ValueError(f"{name} must be a whole number > 0 or None, got {value!r}")
        self.rpm, self.tpm, self._clock = rpm, tpm, clock
        self.max_keys = max_keys
        self._keys: OrderedDict[str, KeyLimits] = OrderedDict()
        self._lock = threading.Lock()

    def _limits(self, key: str) -> KeyLimits:
        limits = self._keys.get(key)
        if limits is None:
            limits = self._keys[key] = KeyLimits(self.rpm, self.tpm, self._clock)
            while len(self._keys) > self.max_keys:
                self._keys.popitem(last=False)
        else:
            self._keys.move_to_end(key)
        return limits

    def admit(self, key: str, tokens: int) -> Admission:
        """Check and reserve for ``key`` atomically."""
        with self._lock:
            return self._limits(key).admit(tokens)

    def headers(self, key: str) -> dict[str, str]:
        """The current headers for ``key`` without reserving anything.

        A key with no buckets yet (never admitted: e.g. a 401) gets full-bucket figures and no
        bucket is created, so bad keys cannot grow the table.
        """
        with self._lock:
            limits = self._keys.get(key)
            if limits is not None:
                return limits.headers()
        rpm = self.rpm if self.rpm is not None else DEFAULT_REPORTED_RPM
        tpm = self.tpm if self.tpm is not None else DEFAULT_REPORTED_TPM
        return {
            "x-ratelimit-limit-requests": str(rpm),
            "x-ratelimit-limit-tokens": str(tpm),
            "x-ratelimit-remaining-requests": str(rpm),
            "x-ratelimit-remaining-tokens": str(tpm),
            "x-ratelimit-reset-requests": format_duration(0.0),
            "x-ratelimit-reset-tokens": format_duration(0.0),
        }

    def set_limits(self, rpm: int | None, tpm: int | None) -> None:
        """New limits for every key from now on (None: report but never refuse).

        Every key's buckets start again full at the new size: a class server's instructor
        changes limits mid-lesson, and "everyone starts fresh" is the rule a room can follow.
        """
        for name, value in (("rpm", rpm), ("tpm", tpm)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value <= 0
            ):
                raise ValueError(f"{name} must be a whole number > 0 or None, got {value!r}")
        with self._lock:
            self.rpm, self.tpm = rpm, tpm
            self._keys.clear()

    @property
    def keys(self) -> int:
        """How many API keys have buckets (one per key that has been admitted or refused)."""
        with self._lock:
            return len(self._keys)

    def reset(self) -> None:
        """Forget every key's buckets (all full again)."""
        with self._lock:
            self._keys.clear()

    def __repr__(self) -> str:
        return f"<KeyBuckets rpm={self.rpm} tpm={self.tpm} keys={len(self._keys)}>"
