"""The limiter lesson 03 teaches: pace requests on our side so the server never says 429.

The service counts two budgets per minute: requests (RPM) and tokens (TPM). ``RateLimiter``
keeps its own copy of each as a *token bucket*: full at the start, refilled evenly over a
minute. A request takes 1 from the request bucket and its input plus output cap from the token
bucket; when a bucket is short, the caller is given the moment it will have refilled and sleeps
until then, so waiting callers leave one by one at the limited rate instead of all at once.

Two things only the server knows reach the limiter from its answers: ``update_from_headers``
reads the ``x-ratelimit-*`` headers (limits not given, and less left when other programs share
the key), and ``pause(seconds)`` holds every caller after a 429. The ``@rate_limited``
decorator and the fast lesson clock (``ScaledClock``) live beside this in ``ratelimit_extras``.
In the spirit of aiolimiter's ``AsyncLimiter``: one small class, an injected clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from course_utils.backoff import parse_retry_after
from course_utils.errors import classify
from course_utils.ratelimit_headers import RateLimitHeaders, read_rate_limit_headers
from course_utils.validate import number, whole

__all__ = ["RateLimiter"]

WINDOW_S = 60.0  # the service's limits are per minute


class _Bucket:
    """One limit: ``capacity`` per minute, refilled evenly; the level goes below 0 when owed.

    It holds at most ``burst``: the capacity less ``headroom_s`` of refill, because the server
    starts counting a request when it *arrives*, a little after we let it go.
    """

    def __init__(self, capacity: int, now: float, headroom_s: float, level: float | None) -> None:
        self.capacity, self.rate_per_s = capacity, capacity / WINDOW_S
        self.burst = max(0.0, capacity - self.rate_per_s * headroom_s)
        self.level = self.burst if level is None else min(level, self.burst)
        self.stamp = now

    def refill(self, now: float) -> None:
        self.level = min(self.burst, self.level + max(0.0, now - self.stamp) * self.rate_per_s)
        self.stamp = max(self.stamp, now)

    def take(self, amount: float) -> float:
        """Take ``amount`` now; the seconds until the bucket has paid it back (0: it had it)."""
        self.level -= amount
        return max(0.0, -self.level / self.rate_per_s)

    def __str__(self) -> str:
        return f"{self.level:,.1f}/{self.capacity:,} per min (+{self.rate_per_s:,.2f}/s)"


class RateLimiter:
    """Client-side RPM + TPM limiter: ``acquire(tokens)`` returns once the request may go.

    ``rpm`` or ``tpm`` None means "not known yet": that limit holds nothing back until
    ``update_from_headers`` learns it from an answer.
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
        meaning = "per minute, or None: learn it from the headers"
        for name, value in (("rpm", rpm), ("tpm", tpm)):
            if value is not None:
                whole(name, value, low=1, meaning=meaning)
        self.headroom_s = number("headroom_s", headroom_s, high=30)
        self._clock, self._sleep = clock, sleep
        self._async_sleep = async_sleep or (
            asyncio.sleep if sleep is time.sleep else _yielding(sleep)
        )
        self._lock = threading.Lock()
        now = clock()
        self._buckets = {
            unit: _Bucket(limit, now, self.headroom_s, None) if limit else None
            for unit, limit in (("requests", rpm), ("tokens", tpm))
        }
        self._paused_until = now
        self._shift = 0.0  # how far pause() has pushed back every caller already queued
        self.admitted, self.waited_s, self.waiting, self.pauses = 0, 0.0, 0, 0

    @property
    def rpm(self) -> int | None:
        """The requests-per-minute limit in force (None: unknown)."""
        return b.capacity if (b := self._buckets["requests"]) else None

    @property
    def tpm(self) -> int | None:
        """The tokens-per-minute limit in force (None: unknown)."""
        return b.capacity if (b := self._buckets["tokens"]) else None

    def __repr__(self) -> str:
        with self._lock:
            now = self._clock()
            parts = []
            for unit, bucket in self._buckets.items():
                if bucket is not None:
                    bucket.refill(now)
                parts.append(f"{unit} {bucket}" if bucket else f"{unit} unknown")
            paused = self._paused_until - now
        pause = f", paused {paused:.2f} s more" if paused > 0 else ""
        return (
            f"<RateLimiter {', '.join(parts)}; {self.waiting} waiting{pause}; "
            f"{self.admitted} admitted, {self.waited_s:.2f} s waited in all>"
        )

    def _reserve(self, tokens: int) -> tuple[float, float, float]:
        """Take this request's share now: (when it may go, the pause shift so far, now)."""
        whole("tokens", tokens, meaning="the request's input + output cap")
        with self._lock:
            now, bucket = self._clock(), self._buckets["tokens"]
            if bucket is not None and tokens > bucket.capacity:
                raise ValueError(
                    f"this request needs {tokens:,} tokens but the limit is "
                    f"{bucket.capacity:,} tokens per minute, so it can never pass: shorten "
                    "or chunk the input, or lower max_output_tokens"
                )
            wait = max(0.0, self._paused_until - now)
            for unit, amount in (("requests", 1), ("tokens", tokens)):
                if (b := self._buckets[unit]) is not None:
                    b.refill(now)
                    wait = max(wait, b.take(amount))
            self.admitted, self.waiting = self.admitted + 1, self.waiting + 1
            return now + wait, self._shift, now

    def _left(self, ticket: tuple[float, float, float]) -> float:
        """Seconds this caller still waits; a pause() since it queued pushes it back."""
        target, shift, _ = ticket
        return target + (self._shift - shift) - self._clock()

    def _done(self, ticket: tuple[float, float, float]) -> float:
        waited = max(0.0, self._clock() - ticket[2])
        with self._lock:
            self.waiting, self.waited_s = self.waiting - 1, self.waited_s + waited
        return waited

    def acquire(self, tokens: int = 0) -> float:
        """Block until one request of ``tokens`` tokens may go; returns the seconds waited."""
        ticket = self._reserve(tokens)
        try:
            while (left := self._left(ticket)) > 0:
                self._sleep(left)
        finally:
            waited = self._done(ticket)
        return waited

    async def acquire_async(self, tokens: int = 0) -> float:
        """``acquire`` for asyncio: awaits instead of blocking the event loop."""
        ticket = self._reserve(tokens)
        try:
            while (left := self._left(ticket)) > 0:
                await self._async_sleep(left)
        finally:
            waited = self._done(ticket)
        return waited

    @contextlib.contextmanager
    def slot(self, tokens: int = 0) -> Iterator[RateLimiter]:
        """``with limiter.slot(tokens): send()``; a rate-limit 429 inside pauses every caller."""
        self.acquire(tokens)
        try:
            yield self
        except Exception as exc:
            self.note_error(exc)
            raise

    @contextlib.asynccontextmanager
    async def slot_async(self, tokens: int = 0) -> AsyncIterator[RateLimiter]:
        """``async with limiter.slot_async(tokens):``, the asyncio form of ``slot``."""
        await self.acquire_async(tokens)
        try:
            yield self
        except Exception as exc:
            self.note_error(exc)
            raise

    def note_error(self, exc: BaseException) -> float:
        """After a rate-limit 429: learn from its headers and pause everyone for its retry-after.

        A quota 429 pauses nothing (waiting brings no credit back). Returns the pause in s.
        """
        headers = getattr(getattr(exc, "response", None), "headers", None)
        if headers is None or classify(exc).category != "rate_limit":
            return 0.0
        self.update_from_headers(headers)
        self.pause(hint := parse_retry_after(headers) or 0.0)
        return hint

    def pause(self, seconds: float) -> None:
        """Hold every caller ``seconds`` from now; queued callers keep their order and spacing.

        Overlapping pauses do not add up: they end at the later of the two ends.
        """
        seconds = number("seconds", seconds)
        with self._lock:
            now = self._clock()
            delta = now + seconds - max(now, self._paused_until)
            if delta <= 0:
                return
            self._paused_until, self._shift = now + seconds, self._shift + delta
            self.pauses += 1
            for b in self._buckets.values():
                if b is not None:
                    b.refill(now)
                    if b.level < 0:  # callers are queued: the whole queue moves back
                        b.level -= delta * b.rate_per_s

    def update_from_headers(self, headers: Any) -> RateLimitHeaders:
        """Learn from an answer's ``x-ratelimit-*`` headers; a missing one changes nothing.

        An unknown limit is learned, a smaller limit than ours adopted, and what is left is
        never more than the server reports (other programs on the same key show up there).
        """
        info = read_rate_limit_headers(headers)
        with self._lock:
            now = self._clock()
            for unit, limit, left in (
                ("requests", info.limit_requests, info.remaining_requests),
                ("tokens", info.limit_tokens, info.remaining_tokens),
            ):
                b = self._buckets[unit]
                if limit and (b is None or limit < b.capacity):
                    level = left if b is None else b.level
                    b = self._buckets[unit] = _Bucket(limit, now, self.headroom_s, level)
                if b is not None and left is not None:
                    b.refill(now)
                    b.level = min(b.level, float(left))
        return info


def _yielding(sleep: Callable[[float], Any]) -> Callable[[float], Awaitable[None]]:
    """An awaitable form of an injected sleep (a test's fake clock) that lets others run."""

    async def async_sleep(seconds: float) -> None:
        sleep(seconds)
        await asyncio.sleep(0)

    return async_sleep
