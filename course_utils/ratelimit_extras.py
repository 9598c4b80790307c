"""Beyond the limiter: listening to the server, a decorator, and the lessons' fast clock.

All build on ``ratelimit.RateLimiter``. ``AdaptiveRateLimiter`` adds what only the server
knows: it learns limits from the ``x-ratelimit-*`` headers (and sees other programs on the
same key in what is left), and after a rate-limit 429 it pauses every caller once, for the
server's ``retry-after``. ``rate_limited`` paces any function, the SDK's own ``create`` or a
learner's ``def ask(prompt)``. ``ScaledClock`` makes a simulated minute pass in a few real
seconds, shared by a ``Simulator`` and a limiter so the two agree on the time.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

from course_utils.backoff import parse_retry_after
from course_utils.errors import classify
from course_utils.ratelimit import Bucket, RateLimiter
from course_utils.ratelimit_headers import RateLimitHeaders, read_rate_limit_headers
from course_utils.tokens import count_tokens, estimate_request_tokens
from course_utils.validate import number, whole

__all__ = [
    "OUTPUT_RESERVE_TOKENS",
    "AdaptiveRateLimiter",
    "ScaledClock",
    "estimate_call_tokens",
    "rate_limited",
]

F = TypeVar("F", bound=Callable[..., Any])

# What a call of a learner's own function reserves for the answer, when nothing says: the same
# order as a short answer's max_output_tokens. Pass tokens= for an exact number.
OUTPUT_RESERVE_TOKENS = 500


class ScaledClock:
    """A clock that runs ``speed`` times faster than real time, with the matching ``sleep``.

    Give the same one to a ``Simulator(clock=...)`` and a ``RateLimiter(clock=..., sleep=...)``
    and a minute of rate limiting passes in ``60 / speed`` real seconds; every time either
    reports (headers, retry-after, the request log) is in simulated seconds. Real network time
    is stretched by the same factor, so the pacing shown is, if anything, harder than live.
    """

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = number("speed", speed, above=True, high=1e6, unit="(30 = 30x real time)")
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


class AdaptiveRateLimiter(RateLimiter):
    """A ``RateLimiter`` that also listens to the server's answers.

    ``update_from_headers(raw.headers)`` learns a limit not given, adopts a smaller one, and
    never believes more is left than the server says. ``pause(seconds)`` holds every caller;
    a rate-limit 429 raised inside ``slot`` does it for its ``retry-after`` (a quota 429 does
    not: waiting brings no credit back).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._paused_until = self._clock()
        self._shift = 0.0  # how far pauses have pushed back every caller already queued
        self.pauses = 0

    def _reserve(self, tokens: int) -> tuple[float, ...]:
        with self._lock:
            ready, asked = super()._reserve(tokens)
            return max(ready, self._paused_until), asked, self._shift

    def _left(self, ticket: tuple[float, ...]) -> float:
        return ticket[0] + (self._shift - ticket[2]) - self._clock()

    def __repr__(self) -> str:
        paused = self._paused_until - self._clock()
        text = super().__repr__()
        return text[:-1] + f"; paused {paused:.2f} s more>" if paused > 0 else text

    def pause(self, seconds: float) -> None:
        """Hold every caller ``seconds`` from now; queued ones keep their order and spacing.

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

    def note_error(self, exc: BaseException) -> float:
        """After a rate-limit 429: learn from its headers, pause all for its retry-after."""
        headers = getattr(getattr(exc, "response", None), "headers", None)
        if headers is None or classify(exc).category != "rate_limit":
            return 0.0
        self.update_from_headers(headers)
        self.pause(hint := parse_retry_after(headers) or 0.0)
        return hint

    @contextlib.contextmanager
    def slot(self, tokens: int = 0) -> Iterator[AdaptiveRateLimiter]:
        """``with limiter.slot(tokens): send()``; a rate-limit 429 inside pauses everyone."""
        self.acquire(tokens)
        try:
            yield self
        except Exception as exc:
            self.note_error(exc)
            raise

    @contextlib.asynccontextmanager
    async def slot_async(self, tokens: int = 0) -> AsyncIterator[AdaptiveRateLimiter]:
        """``async with limiter.slot_async(tokens):``, the asyncio form of ``slot``."""
        await self.acquire_async(tokens)
        try:
            yield self
        except Exception as exc:
            self.note_error(exc)
            raise

    def update_from_headers(self, headers: Any) -> RateLimitHeaders:
        """Learn from an answer's ``x-ratelimit-*`` headers; a missing one changes nothing."""
        info = read_rate_limit_headers(headers)
        with self._lock:
            now = self._clock()
            for unit, limit, left in (
                ("requests", info.limit_requests, info.remaining_requests),
                ("tokens", info.limit_tokens, info.remaining_tokens),
            ):
                if (b := self._buckets[unit]) is not None:
                    b.refill(now)
                if limit and (b is None or limit < b.capacity):
                    level = left if b is None else b.level
                    b = self._buckets[unit] = Bucket(limit, now, self.headroom_s, level)
                if b is not None and left is not None:
                    b.level = min(b.level, float(left))
        return info


def estimate_call_tokens(
    args: tuple[Any, ...], kwargs: dict[str, Any], output_reserve: int = OUTPUT_RESERVE_TOKENS
) -> int:
    """What one call reserves from a TPM budget when ``tokens=`` is not given.

    An SDK request body (``model=`` with ``input=`` or ``messages=``) is counted exactly as the
    server reserves it: input plus output cap. Any other call, such as a learner's
    ``ask(prompt)``, is the tokens of its string arguments plus ``output_reserve``.
    """
    if "model" in kwargs and ("input" in kwargs or "messages" in kwargs):
        return estimate_request_tokens(kwargs, "chat" if "messages" in kwargs else "responses")
    texts = [a for a in (*args, *kwargs.values()) if isinstance(a, str)]
    return sum(count_tokens(t) for t in texts) + output_reserve


def rate_limited(
    rpm: int | None = None,
    tpm: int | None = None,
    *,
    tokens: int | Callable[..., int] | None = None,
    output_reserve: int = OUTPUT_RESERVE_TOKENS,
    limiter: RateLimiter | None = None,
) -> Callable[[F], F]:
    """Decorator: every call waits for a slot of one shared ``RateLimiter`` first.

    ``tokens`` is what one call reserves: a number, a function of the call's arguments, or None
    for ``estimate_call_tokens`` (string arguments + ``output_reserve``, or an SDK body's own
    reservation). ``@rate_limited(rpm=60, tpm=10_000)`` on ``def ask(prompt)`` works as it is;
    the limiter is ``ask.limiter``; ``async def`` functions are paced with ``acquire_async``.
    """
    if limiter is not None and (rpm is not None or tpm is not None):
        raise ValueError("give either limiter= or rpm=/tpm=, not both")
    if tokens is not None and not callable(tokens):
        whole("tokens", tokens, meaning="what one call reserves")
    whole("output_reserve", output_reserve, meaning="tokens kept for each answer")
    shared = limiter if limiter is not None else AdaptiveRateLimiter(rpm, tpm)

    def count(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
        if tokens is None:
            return estimate_call_tokens(args, kwargs, output_reserve) if shared.tpm else 0
        return tokens(*args, **kwargs) if callable(tokens) else tokens

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
