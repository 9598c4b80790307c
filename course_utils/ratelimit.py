"""Pace requests on the client so the server never has to say 429: RPM and TPM token buckets.

``RateLimiter(rpm=, tpm=)`` keeps one bucket per limit, each refilling evenly to full over a
minute, the way the service's own limits work. A request takes 1 from the request bucket and
its estimated tokens (input + output cap, ``tokens.estimate_request_tokens``) from the token
bucket. When a bucket runs dry the caller is given the next free slot and sleeps until then, so
waiting callers leave one by one at the limited rate instead of all at once. The same limiter
works from threads (``acquire``), asyncio (``acquire_async``), a ``with limiter.slot(tokens):``
block or the ``@rate_limited(...)`` decorator.

Two things only the server knows reach the limiter through its answers:
``update_from_headers(headers)`` reads the ``x-ratelimit-*`` headers (learning limits not given
and lowering our idea of what is left when other clients share the key), and ``pause(seconds)``
makes every caller wait after a 429, one pool-wide back-off instead of one per thread.

The clock and sleep are injected (``ScaledClock`` runs a simulated minute in a couple of real
seconds for a lesson; tests pass a fake clock). Modelled on aiolimiter's ``AsyncLimiter``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import math
import re
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from .backoff import parse_retry_after
from .errors import classify

__all__ = [
    "RateLimitHeaders",
    "RateLimiter",
    "ScaledClock",
    "parse_duration",
    "rate_limited",
    "read_rate_limit_headers",
]

F = TypeVar("F", bound=Callable[..., Any])
WINDOW_S = 60.0  # the service's limits are per minute

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


class ScaledClock:
    """A clock that runs ``speed`` times faster than real time, with the matching ``sleep``.

    Give the same one to a ``Simulator(clock=...)`` and a ``RateLimiter(clock=..., sleep=...)``
    and a minute of rate limiting passes in ``60 / speed`` real seconds; every time either
    reports (headers, retry-after, the request log) is in simulated seconds. Real network time
    is stretched by the same factor, so the pacing shown is, if anything, harder than live.
    """

    def __init__(self, speed: float = 1.0) -> None:
        if isinstance(speed, bool) or not isinstance(speed, int | float) or not 0 < speed < 1e6:
            raise ValueError(f"speed must be a number > 0 (30 = 30x real time), got {speed!r}")
        self.speed = float(speed)
        self._start = time.monotonic()

    def now(self) -> float:
        """Simulated seconds since this clock was made."""
        return (time.monotonic() - self._start) * self.speed

    __call__ = now

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of simulated time (``seconds / speed`` of real time)."""
        if seconds > 0:
            time.sleep(seconds / self.speed)

    async def sleep_async(self, seconds: float) -> None:
        """``sleep`` for asyncio code."""
        await asyncio.sleep(max(0.0, seconds) / self.speed)

    def __repr__(self) -> str:
        return f"<ScaledClock {self.speed:g}x: 1 real second = {self.speed:g} simulated seconds>"


class _Bucket:
    """One limit: ``capacity`` per minute, refilled evenly; the level may go below 0 (owed).

    The level stops at ``burst``: the capacity less ``headroom_s`` seconds of refill. The
    server starts counting a request when it *arrives*, a little after we let it go, and a
    first request that is slower than the rest (a new connection) leaves the server's bucket
    that much behind ours for good; the headroom absorbs that.
    """

    def __init__(
        self, capacity: int, now: float, headroom_s: float, level: float | None = None
    ) -> None:
        self.headroom_s = headroom_s
        self.stamp = now
        self.level = 0.0
        self.resize(capacity)
        self.level = self.burst if level is None else min(float(level), self.burst)

    def resize(self, capacity: int) -> None:
        self.capacity = capacity
        self.rate_per_s = capacity / WINDOW_S
        self.burst = max(0.0, capacity - self.rate_per_s * self.headroom_s)
        self.level = min(self.level, self.burst)

    def refill(self, now: float) -> None:
        if now > self.stamp:
            self.level = min(self.burst, self.level + (now - self.stamp) * self.rate_per_s)
            self.stamp = now

    def take(self, amount: float) -> float:
        """Take ``amount`` now; the seconds until the bucket has paid it back (0 if it had it)."""
        self.level -= amount
        return 0.0 if self.level >= 0 else -self.level / self.rate_per_s

    def describe(self, unit: str) -> str:
        return f"{unit} {self.level:,.1f}/{self.capacity:,} per min (+{self.rate_per_s:,.2f}/s)"


def _check_limit(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(
            f"{name} must be a whole number > 0 (per minute), or None for 'unknown: learn it from "
            f"the x-ratelimit-* headers', got {value!r}"
        )
    return value


def _check_tokens(tokens: object) -> int:
    if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0:
        raise ValueError(
            f"tokens must be a whole number >= 0 (the request's input + output cap), got {tokens!r}"
        )
    return tokens


class RateLimiter:
    """Client-side RPM + TPM limiter: ``acquire(tokens)`` returns once the request may go.

    ``rpm``/``tpm`` None means "not known yet": nothing is held back for that limit until
    ``update_from_headers`` learns it. A known limit is lowered (never raised) by a header that
    reports a smaller one, so a limiter set a little below the account's limit leaves room for
    other clients.
    """

    def __init__(
        self,
        rpm: int | None = None,
        tpm: int | None = None,
        *,
        headroom_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = time.sleep,
        async_sleep: Callable[[float], Awaitable[Any]] | None = None,
    ) -> None:
        rpm, tpm = _check_limit("rpm", rpm), _check_limit("tpm", tpm)
        ok = isinstance(headroom_s, int | float) and not isinstance(headroom_s, bool)
        if not ok or not 0 <= headroom_s <= 30:
            raise ValueError(
                f"headroom_s must be a number of seconds from 0 to 30 (how much later than "
                f"another a request may reach the server), got {headroom_s!r}"
            )
        self.headroom_s = float(headroom_s)
        self._clock, self._sleep = clock, sleep
        if async_sleep is None:
            async_sleep = asyncio.sleep if sleep is time.sleep else _async_from(sleep)
        self._async_sleep = async_sleep
        self._lock = threading.Lock()
        now = clock()
        self._requests = _Bucket(rpm, now, self.headroom_s) if rpm is not None else None
        self._tokens = _Bucket(tpm, now, self.headroom_s) if tpm is not None else None
        self._paused_until = -math.inf
        self._shift = 0.0  # total time every queued caller has been pushed back by pause()
        self._waiting = 0
        self.admitted = 0
        self.waited_s = 0.0
        self.pauses = 0

    # --- what it knows ------------------------------------------------------------------------

    @property
    def rpm(self) -> int | None:
        """The requests-per-minute limit in force (None: unknown)."""
        return self._requests.capacity if self._requests else None

    @property
    def tpm(self) -> int | None:
        """The tokens-per-minute limit in force (None: unknown)."""
        return self._tokens.capacity if self._tokens else None

    @property
    def waiting(self) -> int:
        """Callers asleep in ``acquire`` right now."""
        return self._waiting

    def __repr__(self) -> str:
        with self._lock:
            now = self._clock()
            parts = []
            for bucket, unit in ((self._requests, "requests"), (self._tokens, "tokens")):
                if bucket is None:
                    parts.append(f"{unit} unknown")
                else:
                    bucket.refill(now)
                    parts.append(bucket.describe(unit))
            paused = self._paused_until - now
        pause = f", paused {paused:.2f} s more" if paused > 0 else ""
        return (
            f"<RateLimiter {', '.join(parts)}; {self._waiting} waiting{pause}; "
            f"{self.admitted} admitted, {self.waited_s:.2f} s waited in all>"
        )

    # --- taking a slot ------------------------------------------------------------------------

    def _reserve(self, tokens: int) -> tuple[float, float]:
        """Take the request's share now; return (the time it may go, the pause shift so far)."""
        tokens = _check_tokens(tokens)
        with self._lock:
            if self._tokens is not None and tokens > self._tokens.capacity:
                raise ValueError(
                    f"this request needs {tokens:,} tokens but the limit is "
                    f"{self._tokens.capacity:,} tokens per minute, so it can never pass. A "
                    "request reserves its input plus its output cap: shorten or chunk the "
                    "input, or lower max_output_tokens."
                )
            now = self._clock()
            wait = max(0.0, self._paused_until - now)
            if self._requests is not None:
                self._requests.refill(now)
                wait = max(wait, self._requests.take(1))
            if self._tokens is not None:
                self._tokens.refill(now)
                wait = max(wait, self._tokens.take(tokens))
            self.admitted += 1
            return now + wait, self._shift

    def _count_waiter(self, step: int) -> None:
        with self._lock:
            self._waiting += step

    def _done(self, started: float) -> float:
        waited = max(0.0, self._clock() - started)
        with self._lock:
            self.waited_s += waited
        return waited

    def _remaining(self, target: float, shift: float) -> float:
        return target + (self._shift - shift) - self._clock()

    def acquire(self, tokens: int = 0) -> float:
        """Block until one request of ``tokens`` tokens may go; the seconds waited."""
        target, shift = self._reserve(tokens)
        started = self._clock()
        left = self._remaining(target, shift)
        if left > 0:
            self._count_waiter(+1)
            try:
                while left > 0:
                    self._sleep(left)
                    left = self._remaining(target, shift)
            finally:
                self._count_waiter(-1)
        return self._done(started)

    async def acquire_async(self, tokens: int = 0) -> float:
        """``acquire`` for asyncio: awaits instead of blocking the event loop."""
        target, shift = self._reserve(tokens)
        started = self._clock()
        left = self._remaining(target, shift)
        if left > 0:
            self._count_waiter(+1)
            try:
                while left > 0:
                    await self._async_sleep(left)
                    left = self._remaining(target, shift)
            finally:
                self._count_waiter(-1)
        return self._done(started)

    @contextlib.contextmanager
    def slot(self, tokens: int = 0) -> Iterator[RateLimiter]:
        """``with limiter.slot(tokens): send()``: acquire first; a 429 inside pauses everyone.

        A ``rate_limit`` 429 raised in the block updates the buckets from its headers and
        pauses every caller for its ``retry-after``, then propagates (retrying is the retry
        policy's job). A quota 429 pauses nothing: waiting does not bring credit back.
        """
        self.acquire(tokens)
        try:
            yield self
        except Exception as exc:
            self.note_error(exc)
            raise

    @contextlib.asynccontextmanager
    async def slot_async(self, tokens: int = 0) -> Any:
        """``async with limiter.slot_async(tokens):`` the asyncio form of ``slot``."""
        await self.acquire_async(tokens)
        try:
            yield self
        except Exception as exc:
            self.note_error(exc)
            raise

    def note_error(self, exc: BaseException) -> float:
        """Learn from a failed request: a rate-limit 429's headers and retry-after (pausing all).

        Returns the pause in seconds (0 for anything that is not a transient 429).
        """
        headers = getattr(getattr(exc, "response", None), "headers", None)
        if headers is None or classify(exc).category != "rate_limit":
            return 0.0
        self.update_from_headers(headers)
        hint = parse_retry_after(headers)
        if hint:
            self.pause(hint)
        return hint or 0.0

    # --- what the server says -----------------------------------------------------------------

    def pause(self, seconds: float) -> None:
        """Hold every caller for ``seconds`` from now (queued ones keep their order after it).

        Overlapping pauses do not add up: a second 429 told "wait 1 s" half a second into a
        1 s pause extends it by half a second, not by one.
        """
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise TypeError(f"seconds must be a number, got {seconds!r}")
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
        with self._lock:
            now = self._clock()
            end = now + seconds
            start = max(now, self._paused_until)
            if end <= start:
                return
            delta = end - start
            self._paused_until = end
            self._shift += delta
            self.pauses += 1
            for bucket in (self._requests, self._tokens):
                if bucket is not None:
                    bucket.refill(now)
                    if bucket.level < 0:  # callers are queued: move the whole queue back
                        bucket.level -= delta * bucket.rate_per_s

    def update_from_headers(self, headers: Any) -> RateLimitHeaders:
        """Learn from a response's ``x-ratelimit-*`` headers; missing ones change nothing.

        An unknown limit is learned (starting from what the server says is left); a smaller
        limit than ours is adopted; and what is left is never more than the server reports,
        which is how other clients on the same key become visible.
        """
        info = read_rate_limit_headers(headers)
        with self._lock:
            now = self._clock()
            self._requests = self._learn(
                self._requests, info.limit_requests, info.remaining_requests, now
            )
            self._tokens = self._learn(self._tokens, info.limit_tokens, info.remaining_tokens, now)
        return info

    def _learn(
        self, bucket: _Bucket | None, limit: int | None, remaining: int | None, now: float
    ) -> _Bucket | None:
        if limit is not None and limit > 0:
            if bucket is None:
                return _Bucket(limit, now, self.headroom_s, remaining)
            if limit < bucket.capacity:
                bucket.refill(now)
                bucket.resize(limit)
        if bucket is not None and remaining is not None:
            bucket.refill(now)
            bucket.level = min(bucket.level, float(remaining))
        return bucket


def _async_from(sleep: Callable[[float], Any]) -> Callable[[float], Awaitable[None]]:
    """An awaitable sleep that calls an injected one (a fake clock's) and yields to the loop."""

    async def async_sleep(seconds: float) -> None:
        sleep(seconds)
        await asyncio.sleep(0)

    return async_sleep


TokensArg = int | Callable[..., int] | None


def _default_tokens(*args: Any, **kwargs: Any) -> int:
    """The request's reservation from its keyword arguments (a Responses or Chat body)."""
    from .tokens import estimate_request_tokens

    endpoint = "chat" if "messages" in kwargs else "responses"
    return estimate_request_tokens(kwargs, endpoint=endpoint)


def rate_limited(
    rpm: int | None = None,
    tpm: int | None = None,
    *,
    tokens: TokensArg = None,
    limiter: RateLimiter | None = None,
) -> Callable[[F], F]:
    """Decorator: every call waits for a slot of one shared ``RateLimiter`` first.

    ``tokens`` is what one call reserves: a number, a function of the call's arguments, or
    None to estimate it from the keyword arguments as a request body (input + output cap, the
    same count the server reserves), e.g. ``create = rate_limited(rpm=60, tpm=10_000)(
    client.responses.create)``. The limiter is ``wrapped.limiter``; async functions are paced
    with ``acquire_async``.
    """
    if limiter is not None and (rpm is not None or tpm is not None):
        raise ValueError("give either limiter= or rpm=/tpm=, not both")
    shared = limiter if limiter is not None else RateLimiter(rpm, tpm)
    if tokens is not None and not callable(tokens):
        _check_tokens(tokens)

    def count(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
        if tokens is None:
            return _default_tokens(*args, **kwargs) if shared.tpm is not None else 0
        if callable(tokens):
            return _check_tokens(tokens(*args, **kwargs))
        return tokens

    def decorate(fn: F) -> F:
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with shared.slot_async(count(args, kwargs)):
                    return await fn(*args, **kwargs)

            async_wrapper.limiter = shared  # type: ignore[attr-defined]
            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with shared.slot(count(args, kwargs)):
                return fn(*args, **kwargs)

        wrapper.limiter = shared  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
