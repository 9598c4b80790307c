"""Retry delays as small composable schedules, the server's ``retry-after``, and a retry loop.

A *schedule* is a callable ``(attempt, rng) -> seconds``: ``attempt`` is 1 for the first retry,
``rng`` a ``random.Random`` (seed it and the delays repeat exactly). Build one from
``exponential(base_s, factor, cap_s)`` and wrap it in a jitter: ``no_jitter``, ``full_jitter``,
``equal_jitter`` or ``sdk_jitter``; ``decorrelated(base_s, cap_s)`` is a schedule of its own.
Schedules add with ``+`` (``exponential(1) + full_jitter(fixed(0.5))`` is "exponential plus up to
half a second"), in the style of tenacity's ``wait_*`` strategies.

``RetryPolicy`` decides, for one caught exception, whether to retry and how long to wait:
transient errors only (``errors.classify``), the server's ``retry-after`` honoured as a floor,
bounded retries. ``retry_call`` runs a function under a policy with ``sleep``, ``clock`` and the
random source injected, so tests assert the exact list of delays and never wait.

``SDK_RETRY`` describes what the installed ``openai`` SDK does on its own, read from
``openai/_constants.py`` (the numbers) and ``openai/_base_client.py`` (the rules:
``_parse_retry_after_header``, ``_calculate_retry_timeout`` and ``_should_retry``).
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from openai import _constants as _sdk

from .errors import classify

__all__ = [
    "JITTERS",
    "RETRY_AFTER_CEILING_S",
    "SDK_RETRY",
    "Backoff",
    "RetryPolicy",
    "SdkRetry",
    "decorrelated",
    "delays",
    "equal_jitter",
    "exponential",
    "fixed",
    "full_jitter",
    "make_schedule",
    "no_jitter",
    "parse_retry_after",
    "retry_call",
    "sdk_jitter",
]

T = TypeVar("T")
Schedule = Callable[[int, random.Random], float]
Jitter = Callable[[float, random.Random], float]

# A retry-after above this (a day) is read as this: a huge or overflowing number still means
# "much too long to wait", without an ``inf`` reaching anyone's arithmetic.
RETRY_AFTER_CEILING_S = 86_400.0

_LOG = logging.getLogger("course.retry")


def _check_number(name: str, value: object, *, minimum: float, strict: bool = False) -> float:
    """``value`` as a float if it is a finite number above ``minimum``; else a clear ValueError."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        number = float(value)
        if number > minimum or (not strict and number == minimum):
            return number
    relation = ">" if strict else ">="
    raise ValueError(
        f"{name} must be a finite number of seconds {relation} {minimum:g}, got {value!r}"
    )


def _check_attempt(attempt: object) -> int:
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise ValueError(f"attempt counts retries from 1 (the first retry), got {attempt!r}")
    return attempt


class Backoff:
    """A named schedule: call it as ``schedule(attempt, rng)``; add two with ``+``.

    Stateless schedules return themselves from ``fresh()``; ``decorrelated`` remembers its last
    delay, so each retrying call (or simulated client) takes its own ``fresh()`` copy.
    """

    def __init__(self, fn: Schedule, name: str) -> None:
        self._fn = fn
        self.name = name

    def __call__(self, attempt: int, rng: random.Random) -> float:
        return self._fn(_check_attempt(attempt), rng)

    def fresh(self) -> Backoff:
        """A copy with no memory of earlier retries (the same object for stateless schedules)."""
        return self

    def __add__(self, other: Backoff | float) -> Backoff:
        if isinstance(other, Backoff):
            a, b = self.fresh(), other.fresh()
            return _Sum(a, b)
        constant = _check_number("a constant added to a schedule", other, minimum=0)
        return _Sum(self.fresh(), fixed(constant))

    __radd__ = __add__

    def __repr__(self) -> str:
        return self.name


class _Sum(Backoff):
    def __init__(self, a: Backoff, b: Backoff) -> None:
        super().__init__(lambda n, rng: a(n, rng) + b(n, rng), f"{a.name} + {b.name}")
        self._parts = (a, b)

    def fresh(self) -> Backoff:
        a, b = self._parts
        fa, fb = a.fresh(), b.fresh()
        return self if (fa is a and fb is b) else _Sum(fa, fb)


def fixed(seconds: float) -> Backoff:
    """The same wait before every retry."""
    s = _check_number("seconds", seconds, minimum=0)
    return Backoff(lambda n, rng: s, f"fixed({s:g} s)")


def exponential(base_s: float = 1.0, factor: float = 2.0, cap_s: float = 60.0) -> Backoff:
    """``min(base_s * factor**(attempt - 1), cap_s)``: 1, 2, 4, 8 … s with the defaults."""
    base = _check_number("base_s", base_s, minimum=0, strict=True)
    cap = _check_number("cap_s", cap_s, minimum=0, strict=True)
    if not isinstance(factor, int | float) or isinstance(factor, bool) or not 1 <= factor < 100:
        raise ValueError(f"factor must be a number from 1 (constant) to 100, got {factor!r}")
    f = float(factor)
    # The first exponent whose delay reaches the cap: no need to raise f any higher (and a
    # large attempt number would overflow the power).
    top = 0 if f == 1 or base >= cap else math.ceil(math.log(cap / base, f))

    def delay(n: int, rng: random.Random) -> float:
        return min(cap, base * f ** min(n - 1, top))

    return Backoff(delay, f"exponential(base_s={base:g}, factor={f:g}, cap_s={cap:g})")


def no_jitter(schedule: Backoff) -> Backoff:
    """The schedule as it is: every client that failed together retries together."""
    return _wrap(schedule, "no_jitter", lambda d, rng: d)


def full_jitter(schedule: Backoff) -> Backoff:
    """A uniform wait between 0 and the schedule's delay (AWS's "full jitter")."""
    return _wrap(schedule, "full_jitter", lambda d, rng: rng.uniform(0.0, d))


def equal_jitter(schedule: Backoff) -> Backoff:
    """Half the delay for sure, the other half at random: never shorter than ``d / 2``."""
    return _wrap(schedule, "equal_jitter", lambda d, rng: d / 2 + rng.uniform(0.0, d / 2))


def sdk_jitter(schedule: Backoff, fraction: float = 0.25) -> Backoff:
    """The openai SDK's jitter: the delay *shortened* by a random 0 to ``fraction`` (25%).

    Source: ``openai/_base_client.py``, ``_calculate_retry_timeout``:
    ``jitter = 1 - 0.25 * random(); timeout = sleep_seconds * jitter``.
    """
    if not isinstance(fraction, int | float) or not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction!r}")
    return _wrap(
        schedule, f"sdk_jitter(-{fraction:.0%})", lambda d, rng: d * (1 - fraction * rng.random())
    )


class _Wrapped(Backoff):
    def __init__(self, inner: Backoff, label: str, jitter: Jitter) -> None:
        super().__init__(lambda n, rng: jitter(inner(n, rng), rng), f"{label}({inner.name})")
        self._inner, self._label, self._jitter = inner, label, jitter

    def fresh(self) -> Backoff:
        inner = self._inner.fresh()
        return self if inner is self._inner else _Wrapped(inner, self._label, self._jitter)


def _wrap(schedule: Backoff, label: str, jitter: Jitter) -> Backoff:
    if not isinstance(schedule, Backoff):
        raise TypeError(
            f"{label} wraps a schedule such as exponential(1, 2, 60), got {schedule!r}; "
            f"write {label}(exponential(...))"
        )
    return _Wrapped(schedule, label, jitter)


class _Decorrelated(Backoff):
    """AWS's decorrelated jitter: ``min(cap, uniform(base, 3 * previous))``, first from base."""

    def __init__(self, base: float, cap: float, factor: float) -> None:
        super().__init__(self._delay, f"decorrelated(base_s={base:g}, cap_s={cap:g})")
        self._base, self._cap, self._factor = base, cap, factor
        self._local = threading.local()  # one chain per thread if a shared copy is used

    def _delay(self, n: int, rng: random.Random) -> float:
        previous = self._base if n == 1 else getattr(self._local, "previous", self._base)
        delay = min(self._cap, rng.uniform(self._base, previous * self._factor))
        self._local.previous = delay
        return delay

    def fresh(self) -> Backoff:
        return _Decorrelated(self._base, self._cap, self._factor)


def decorrelated(
    base_s: float | Backoff = 1.0, cap_s: float | None = None, factor: float = 3.0
) -> Backoff:
    """Each wait random between ``base_s`` and ``factor`` x the previous wait, capped.

    Source: the AWS Architecture Blog, "Exponential Backoff And Jitter" (2015). Like the other
    jitters it can wrap a schedule, ``decorrelated(exponential(1, 2, 60))``: the schedule's first
    delay is the base and its largest the cap. It remembers the previous wait, so take a
    ``fresh()`` copy per retrying call (``retry_call`` and ``delays`` do).
    """
    if isinstance(base_s, Backoff):
        inner, probe = base_s, random.Random(0)
        base_s = inner(1, probe)
        cap_s = cap_s if cap_s is not None else inner(64, probe)
    base = _check_number("base_s", base_s, minimum=0, strict=True)
    cap = _check_number("cap_s", 60.0 if cap_s is None else cap_s, minimum=base)
    if not isinstance(factor, int | float) or not 1 <= factor < 100:
        raise ValueError(f"factor must be a number from 1 to 100, got {factor!r}")
    return _Decorrelated(base, cap, float(factor))


# The jitter kinds ``make_schedule`` knows, in the RetryTimeline's menu order.
JITTERS = ("none", "full", "equal", "decorrelated", "sdk")


def make_schedule(
    jitter: str = "full", base_s: float = 1.0, factor: float = 2.0, cap_s: float = 60.0
) -> Backoff:
    """An exponential schedule with the named jitter (``decorrelated`` uses base and cap only)."""
    if jitter == "decorrelated":
        return decorrelated(base_s, cap_s)
    wrappers = {"none": no_jitter, "full": full_jitter, "equal": equal_jitter, "sdk": sdk_jitter}
    if jitter not in wrappers:
        raise ValueError(f"jitter {jitter!r} is not one of {', '.join(JITTERS)}")
    return wrappers[jitter](exponential(base_s, factor, cap_s))


def delays(schedule: Backoff, retries: int, rng: random.Random | int | None = None) -> list[float]:
    """The waits before retries 1..``retries`` of one call (``rng`` a Random or a seed)."""
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be a whole number >= 0, got {retries!r}")
    r = rng if isinstance(rng, random.Random) else random.Random(rng)
    chain = schedule.fresh()
    return [chain(n, r) for n in range(1, retries + 1)]


# --- the server's hint -------------------------------------------------------------------------


def _lowered(headers: Any) -> dict[str, str]:
    if headers is None:
        return {}
    items = getattr(headers, "items", None)
    if items is None:
        raise TypeError(
            f"headers must be a mapping such as response.headers or err.response.headers, "
            f"got {type(headers).__name__}"
        )
    return {str(k).lower(): str(v) for k, v in items()}


def parse_retry_after(headers: Any, *, now: float | None = None) -> float | None:
    """Seconds the server asks us to wait, or None when it gives no usable hint.

    The SDK's order (``openai/_base_client.py``, ``_parse_retry_after_header``): the first of
    ``retry-after-ms`` (milliseconds) and ``retry-after`` (seconds) that reads as a number
    decides; then ``retry-after`` as an HTTP date. Negative, ``nan`` and ``inf`` are not a hint
    (None); a junk value is skipped; a date already past is 0; anything above a day (an overflow
    included) reads as ``RETRY_AFTER_CEILING_S``. ``now`` is the wall-clock time for dates
    (``time.time()`` by default).
    """
    h = _lowered(headers)
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = h.get(name)
        if raw is None:
            continue
        try:
            value = float(raw.strip())
        except ValueError:
            continue  # junk: try the next header, as the SDK does
        word = raw.strip().lower().lstrip("+")
        if value == math.inf and word not in ("inf", "infinity"):
            return RETRY_AFTER_CEILING_S  # a numeric overflow: a very long wait, not junk
        if not math.isfinite(value) or value < 0:
            return None
        return min(value / divisor, RETRY_AFTER_CEILING_S)
    raw = h.get("retry-after")
    if raw is None:
        return None
    try:
        parsed = email.utils.parsedate_tz(raw)
        if parsed is None:
            return None
        when = email.utils.mktime_tz(parsed)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    wait = when - (time.time() if now is None else now)
    return min(max(0.0, float(wait)), RETRY_AFTER_CEILING_S)


def _should_retry_header(headers: Any) -> bool | None:
    value = _lowered(headers).get("x-should-retry")
    return {"true": True, "false": False}.get(value) if value is not None else None


# --- what the installed SDK does ---------------------------------------------------------------


@dataclass(frozen=True)
class SdkRetry:
    """The installed ``openai`` SDK's built-in retry behaviour, read from the package.

    Numbers: ``openai/_constants.py`` (``DEFAULT_MAX_RETRIES``, ``INITIAL_RETRY_DELAY``,
    ``MAX_RETRY_DELAY``, ``MAX_RETRY_AFTER_DELAY``). Rules: ``openai/_base_client.py``:
    ``_calculate_retry_timeout`` (retry-after honoured when ``0 < v <= 120`` s, else
    ``min(0.5 * 2**n, 8)`` shortened by up to 25%) and ``_should_retry`` (a retry-after above
    120 s is raised at once; ``x-should-retry`` decides next; then 408, 409, 429 and >= 500;
    timeouts and connection errors are retried in ``request``).
    """

    max_retries: int = _sdk.DEFAULT_MAX_RETRIES
    initial_delay_s: float = float(_sdk.INITIAL_RETRY_DELAY)
    max_delay_s: float = float(_sdk.MAX_RETRY_DELAY)
    max_retry_after_s: float = float(_sdk.MAX_RETRY_AFTER_DELAY)
    jitter_fraction: float = 0.25  # hard-coded in _calculate_retry_timeout
    retried_statuses: tuple[str, ...] = ("408", "409", "429", ">=500")

    @property
    def schedule(self) -> Backoff:
        """The SDK's backoff when no usable retry-after came: 0.5, 1, 2, 4, 8, 8 … s, -25%."""
        base = exponential(self.initial_delay_s, 2.0, self.max_delay_s)
        return sdk_jitter(base, self.jitter_fraction)

    def would_retry(self, status: int, headers: Any = None) -> bool:
        """Whether the SDK retries a response with this status and these headers."""
        hint = parse_retry_after(headers)
        if hint is not None and hint > self.max_retry_after_s:
            return False
        override = _should_retry_header(headers)
        if override is not None:
            return override
        return status in (408, 409, 429) or status >= 500

    def delay(self, retry: int, headers: Any = None, rng: random.Random | None = None) -> float:
        """The SDK's wait before retry number ``retry`` (1 = first): the hint, or its backoff."""
        hint = parse_retry_after(headers)
        if hint is not None and 0 < hint <= self.max_retry_after_s:
            return hint  # exactly the server's number: no jitter (the second herd's cause)
        return self.schedule(retry, rng or random.Random())

    def describe(self) -> str:
        """One sentence for a notebook."""
        waits = ", ".join(f"{d:g}" for d in delays(exponential(0.5, 2, 8), 5))
        return (
            f"openai SDK: {self.max_retries} retries by default; waits {waits} s … "
            f"(at most {self.max_delay_s:g} s), each shortened by up to "
            f"{self.jitter_fraction:.0%}; a retry-after of 0-{self.max_retry_after_s:g} s is "
            f"slept exactly, a longer one is raised at once."
        )


SDK_RETRY = SdkRetry()


# --- the policy and the loop -------------------------------------------------------------------


def _response_headers(exc: BaseException) -> Any:
    response = getattr(exc, "response", None)
    return getattr(response, "headers", None)


@dataclass(frozen=True)
class RetryPolicy:
    """When to retry one failed call, and how long to wait first.

    - Only what ``errors.classify`` calls transient (429 rate limit, 5xx, connection, timeout),
      never a quota 429, a 400 or a 401; a response header ``x-should-retry: false`` also stops.
    - At most ``max_retries`` retries (``max_retries + 1`` attempts in all).
    - With ``honour_retry_after`` the server's hint is a floor: wait the hint *plus* the
      schedule's jittered delay, so clients told the same wait do not all return together. A
      hint above ``max_retry_after_s`` (120 s, as the SDK) means give up now and let the
      caller decide, rather than block a worker for minutes.
    """

    max_retries: int
    schedule: Backoff = field(default_factory=lambda: full_jitter(exponential(1.0, 2.0, 60.0)))
    honour_retry_after: bool = True
    max_retry_after_s: float = SDK_RETRY.max_retry_after_s

    def __post_init__(self) -> None:
        n = self.max_retries
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"max_retries must be a whole number >= 0, got {n!r}")
        if not isinstance(self.schedule, Backoff):
            raise TypeError(
                f"schedule must be a course schedule such as full_jitter(exponential(1, 2, 60)), "
                f"got {self.schedule!r}"
            )
        _check_number("max_retry_after_s", self.max_retry_after_s, minimum=0)

    def fresh(self) -> RetryPolicy:
        """A copy whose schedule starts over (one per retrying call)."""
        schedule = self.schedule.fresh()
        if schedule is self.schedule:
            return self
        return RetryPolicy(
            self.max_retries, schedule, self.honour_retry_after, self.max_retry_after_s
        )

    def decide(
        self, exc: BaseException, attempt: int, rng: random.Random
    ) -> tuple[float | None, str]:
        """``(delay or None, reason)`` for retry number ``attempt`` (1 = first) after ``exc``."""
        info = classify(exc)
        headers = _response_headers(exc)
        if not info.retriable:
            return None, f"{info.category} is not transient"
        if headers is not None and _should_retry_header(headers) is False:
            return None, "the server said x-should-retry: false"
        if attempt > self.max_retries:
            return None, f"no retries left ({self.max_retries} used)"
        hint = parse_retry_after(headers) if self.honour_retry_after else None
        if hint is not None and hint > self.max_retry_after_s:
            return None, (
                f"retry-after {hint:g} s is above {self.max_retry_after_s:g} s: "
                "schedule the work for later instead of holding a worker"
            )
        delay = self.schedule(attempt, rng)
        if hint is not None:
            return hint + delay, f"{info.category}; retry-after {hint:g} s + {delay:.3g} s jitter"
        return delay, info.category

    def delay_for(self, exc: BaseException, attempt: int, rng: random.Random) -> float | None:
        """Seconds to wait before retry ``attempt`` (1 = first), or None: do not retry."""
        return self.decide(exc, attempt, rng)[0]


def retry_call(
    fn: Callable[..., T],
    *args: Any,
    policy: RetryPolicy,
    sleep: Callable[[float], Any] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
    logger: logging.Logger | None = None,
    **kwargs: Any,
) -> T:
    """``fn(*args, **kwargs)``, retried under ``policy``; the last error is re-raised.

    One log line per decision (``course.retry`` unless ``logger`` is given): each retry with
    its wait, and the give-up with its reason; records carry ``operation``, ``attempt``,
    ``error_type``, ``request_id``, ``wait_s`` and ``elapsed_s`` (from ``clock``).
    """
    if not isinstance(policy, RetryPolicy):
        raise TypeError(f"policy must be a RetryPolicy, got {policy!r}")
    log = logger or _LOG
    rng = rng if rng is not None else random.Random()
    chain = policy.fresh()
    operation = getattr(fn, "__qualname__", None) or type(fn).__name__
    started = clock()
    attempt = 0
    while True:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            attempt += 1
            delay, reason = chain.decide(exc, attempt, rng)
            info = classify(exc)
            extra = {
                "operation": operation,
                "attempt": attempt,
                "error_type": info.category,
                "request_id": getattr(exc, "request_id", None),
                "elapsed_s": round(clock() - started, 3),
            }
            if delay is None:
                log.warning("giving up after attempt %d: %s", attempt, reason, extra=extra)
                raise
            log.warning(
                "retry %d of %d in %.2f s: %s",
                attempt,
                policy.max_retries,
                delay,
                reason,
                extra={**extra, "wait_s": round(delay, 3)},
            )
            sleep(delay)
