"""The limiter lesson 03 teaches: pace requests on our side so the server never says 429.

The service counts two budgets per minute: requests (RPM) and tokens (TPM). ``RateLimiter``
keeps its own copy of each as a *token bucket*: full at the start, refilled evenly over a
minute. A request takes 1 from the request bucket and its input plus output cap from the token
bucket; when a bucket is short, the caller is given the moment it will have refilled and sleeps
until then, so waiting callers leave one by one at the limited rate instead of all at once.

``acquire`` blocks a thread, ``acquire_async`` awaits, ``with limiter.slot(tokens):`` wraps a
request. ``AdaptiveRateLimiter`` in ``ratelimit_extras`` builds on this class with what only
the server knows: limits learned from the ``x-ratelimit-*`` headers, and one pause for every
caller after a 429; the ``@rate_limited`` decorator and the lessons' fast clock live there too.
In the spirit of aiolimiter's ``AsyncLimiter``: one small class, an injected clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from course_utils.validate import number, whole

__all__ = ["Bucket", "RateLimiter"]

WINDOW_S = 60.0  # the service's limits are per minute


class Bucket:
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

    ``rpm`` or ``tpm`` None means "not known": that limit holds nothing back.
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
        meaning = "per minute, or None: not known"
        for name, value in (("rpm", rpm), ("tpm", tpm)):
            if value is not None:
                whole(name, value, low=1, meaning=meaning)
        self.headroom_s = number("headroom_s", headroom_s, high=30)
        self._clock, self._sleep = clock, sleep
        self._async_sleep = async_sleep or (
            asyncio.sleep if sleep is time.sleep else _yielding(sleep)
        )
        self._lock = threading.RLock()
        now = clock()
        self._buckets = {
            unit: Bucket(limit, now, self.headroom_s, None) if limit else None
            for unit, limit in (("requests", rpm), ("tokens", tpm))
        }
        self.admitted, self.waited_s, self.waiting = 0, 0.0, 0

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
        return (
            f"<{type(self).__name__} {', '.join(parts)}; {self.waiting} waiting; "
            f"{self.admitted} admitted, {self.waited_s:.2f} s waited in all>"
        )

    def _reserve(self, tokens: int) -> tuple[float, ...]:
        """Take this request's share now; its ticket: (when it may go, when it asked)."""
        whole("tokens", tokens, meaning="the request's input + output cap")
        with self._lock:
            now, bucket = self._clock(), self._buckets["tokens"]
            if bucket is not None and tokens > bucket.capacity:
                raise ValueError(
                    f"this request needs {tokens:,} tokens but the limit is "
                    f"{bucket.capacity:,} tokens per minute, so it can never pass: shorten "
                    "or chunk the input, or lower max_output_tokens"
                )
            wait = 0.0
            for unit, amount in (("requests", 1), ("tokens", tokens)):
                if (b := self._buckets[unit]) is not None:
                    b.refill(now)
                    wait = max(wait, b.take(amount))
            self.admitted, self.waiting = self.admitted + 1, self.waiting + 1
            return now + wait, now

    def _left(self, ticket: tuple[float, ...]) -> float:
        """Seconds this caller still has to wait."""
        return ticket[0] - self._clock()

    def _done(self, ticket: tuple[float, ...]) -> float:
        waited = max(0.0, self._clock() - ticket[1])
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
        """``with limiter.slot(tokens): send()``: wait for the slot, then run the block."""
        self.acquire(tokens)
        yield self

    @contextlib.asynccontextmanager
    async def slot_async(self, tokens: int = 0) -> AsyncIterator[RateLimiter]:
        """``async with limiter.slot_async(tokens):``, the asyncio form of ``slot``."""
        await self.acquire_async(tokens)
        yield self


def _yielding(sleep: Callable[[float], Any]) -> Callable[[float], Awaitable[None]]:
    """An awaitable form of an injected sleep (a test's fake clock) that lets others run."""

    async def async_sleep(seconds: float) -> None:
        sleep(seconds)
        await asyncio.sleep(0)

    return async_sleep
