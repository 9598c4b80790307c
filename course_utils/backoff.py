"""The retry loop lesson 03 teaches: how long to wait, when to stop, and the loop itself.

A *schedule* answers "how long before retry ``attempt``?" (1 = the first), given a seeded
``random.Random`` so runs repeat. ``exponential(1, 2, 60)`` waits 1, 2, 4 … 60 s; a jitter
(``full_jitter``, ``equal_jitter``) makes each wait random so clients that failed together do
not return together. ``RetryPolicy`` decides, for one caught error, whether to retry and how
long to wait; ``retry_call`` is the loop. The SDK's own rules, decorrelated jitter and the
jitter menu are built from these pieces in ``backoff_extras``.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from course_utils.errors import classify
from course_utils.validate import number, whole

__all__ = [
    "RETRY_AFTER_CEILING_S",
    "Backoff",
    "RetryPolicy",
    "delays",
    "equal_jitter",
    "exponential",
    "fixed",
    "full_jitter",
    "no_jitter",
    "parse_retry_after",
    "retry_call",
]

T = TypeVar("T")
RETRY_AFTER_CEILING_S = 86_400.0  # a retry-after above a day (or an overflow) reads as a day
MAX_RETRY_AFTER_S = 120.0  # above this the openai SDK raises instead of waiting; we do too


class Backoff:
    """A named schedule: ``schedule(attempt, rng)`` is the wait in seconds; ``+`` adds two."""

    def __init__(self, delay: Callable[[int, random.Random], float], name: str) -> None:
        self.delay, self.name = delay, name

    def __call__(self, attempt: int, rng: random.Random) -> float:
        if attempt < 1:
            raise ValueError(f"attempt counts retries from 1 (the first retry), got {attempt!r}")
        return self.delay(attempt, rng)

    def fresh(self) -> Backoff:
        """A copy that remembers no earlier retry (schedules with memory override this)."""
        return self

    def __add__(self, other: Backoff | float) -> Backoff:
        b = other.fresh() if isinstance(other, Backoff) else fixed(other)
        a = self.fresh()
        return Backoff(lambda n, rng: a(n, rng) + b(n, rng), f"{a.name} + {b.name}")

    def __repr__(self) -> str:
        return self.name


def fixed(seconds: float) -> Backoff:
    """The same wait before every retry."""
    s = number("seconds", seconds)
    return Backoff(lambda n, rng: s, f"fixed({s:g} s)")


def exponential(base_s: float = 1.0, factor: float = 2.0, cap_s: float = 60.0) -> Backoff:
    """``min(base_s * factor ** (attempt - 1), cap_s)``: 1, 2, 4, 8 … 60 s with the defaults."""
    base, cap = number("base_s", base_s, above=True), number("cap_s", cap_s, above=True)
    f = number("factor", factor, low=1, high=100, unit="(1 keeps the wait constant)")
    top = 0 if f == 1 or base >= cap else math.ceil(math.log(cap / base, f))  # no overflow
    return Backoff(
        lambda n, rng: min(cap, base * f ** min(n - 1, top)),
        f"exponential(base_s={base:g}, factor={f:g}, cap_s={cap:g})",
    )


def _jitter(
    label: str, schedule: Backoff, spread: Callable[[float, random.Random], float]
) -> Backoff:
    if not isinstance(schedule, Backoff):
        raise TypeError(
            f"{label} wraps a schedule: write {label}(exponential(...)), not {schedule!r}"
        )
    inner = schedule.fresh()
    return Backoff(lambda n, rng: spread(inner(n, rng), rng), f"{label}({inner.name})")


def no_jitter(schedule: Backoff) -> Backoff:
    """The schedule as it is: clients that failed together retry together."""
    return _jitter("no_jitter", schedule, lambda d, rng: d)


def full_jitter(schedule: Backoff) -> Backoff:
    """Anywhere from 0 to the schedule's wait (AWS's "full jitter")."""
    return _jitter("full_jitter", schedule, lambda d, rng: rng.uniform(0.0, d))


def equal_jitter(schedule: Backoff) -> Backoff:
    """Half the wait for sure, the other half at random."""
    return _jitter("equal_jitter", schedule, lambda d, rng: d / 2 + rng.uniform(0.0, d / 2))


def delays(schedule: Backoff, retries: int, rng: random.Random | int | None = None) -> list[float]:
    """The waits before retries 1..``retries`` of one call (``rng``: a Random or a seed)."""
    whole("retries", retries)
    r = rng if isinstance(rng, random.Random) else random.Random(rng)
    chain = schedule.fresh()
    return [chain(n, r) for n in range(1, retries + 1)]


def parse_retry_after(headers: Any, *, now: float | None = None) -> float | None:
    """Seconds the server asks us to wait, or None when it gives no usable hint.

    The SDK's order: ``retry-after-ms``, then ``retry-after`` as seconds (the first that reads
    as a number decides), then ``retry-after`` as an HTTP date. Negative, ``nan`` and ``inf``
    are no hint; a date already past is 0; more than a day (an overflow too) reads as a day.
    """
    if headers is None:
        return None
    if not hasattr(headers, "items"):
        raise TypeError(f"headers must be a mapping such as err.response.headers, got {headers!r}")
    h = {str(k).lower(): str(v).strip() for k, v in headers.items()}
    for name, per_second in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            value = float(h[name])
        except (KeyError, ValueError):
            continue  # missing or junk: the next header decides, as in the SDK
        if value == math.inf and h[name].lower().lstrip("+") not in ("inf", "infinity"):
            return RETRY_AFTER_CEILING_S  # "1e400" overflowed: a very long wait, not junk
        if not math.isfinite(value) or value < 0:
            return None
        return min(value / per_second, RETRY_AFTER_CEILING_S)
    date = email.utils.parsedate_tz(h.get("retry-after", ""))
    if date is None:
        return None
    try:
        wait = email.utils.mktime_tz(date) - (time.time() if now is None else now)
    except (ValueError, OverflowError):
        return None
    return min(max(0.0, float(wait)), RETRY_AFTER_CEILING_S)


def should_retry_header(headers: Any) -> bool | None:
    """The server's own verdict in ``x-should-retry: true|false``, or None when it gives none."""
    h = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
    return {"true": True, "false": False}.get(h.get("x-should-retry", ""))


@dataclass(frozen=True)
class RetryPolicy:
    """When to retry one failed call, and how long to wait first.

    Retry only what is transient (``errors.classify``: a rate-limit 429, a 5xx, a dropped
    connection, a timeout), at most ``max_retries`` times. The server's ``retry-after`` is a
    floor: wait it *plus* the jittered schedule, so clients told the same wait spread out.
    A hint above ``max_retry_after_s`` means give up now rather than block for minutes.
    """

    max_retries: int
    schedule: Backoff = field(default_factory=lambda: full_jitter(exponential(1.0, 2.0, 60.0)))
    honour_retry_after: bool = True
    max_retry_after_s: float = MAX_RETRY_AFTER_S

    def __post_init__(self) -> None:
        whole("max_retries", self.max_retries, meaning="retries after the first try")
        if not isinstance(self.schedule, Backoff):
            raise TypeError(
                "schedule must be a schedule such as full_jitter(exponential(1, 2, 60)), "
                f"got {self.schedule!r}"
            )
        number("max_retry_after_s", self.max_retry_after_s)

    def fresh(self) -> RetryPolicy:
        """A copy whose schedule starts over (one per retrying call)."""
        schedule = self.schedule.fresh()
        return self if schedule is self.schedule else replace(self, schedule=schedule)

    def decide(
        self, exc: BaseException, attempt: int, rng: random.Random
    ) -> tuple[float | None, str]:
        """``(seconds to wait, reason)`` before retry ``attempt`` (1 = first); None: give up."""
        info = classify(exc)
        headers = getattr(getattr(exc, "response", None), "headers", None)
        if not info.retriable:
            return None, f"{info.category} is not transient"
        if should_retry_header(headers) is False:
            return None, "the server said x-should-retry: false"
        if attempt > self.max_retries:
            return None, f"no retries left ({self.max_retries} used)"
        hint = parse_retry_after(headers) if self.honour_retry_after else None
        if hint is not None and hint > self.max_retry_after_s:
            limit = self.max_retry_after_s
            return None, f"retry-after {hint:g} s is above {limit:g} s: schedule the work for later"
        delay = self.schedule(attempt, rng)
        if hint is None:
            return delay, info.category
        return hint + delay, f"{info.category}; retry-after {hint:g} s + {delay:.3g} s jitter"

    def delay_for(self, exc: BaseException, attempt: int, rng: random.Random) -> float | None:
        return self.decide(exc, attempt, rng)[0]  # only the wait (None: do not retry)


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
    """``fn(*args, **kwargs)``, retried under ``policy``; the last error is raised again.

    One log line per decision: each retry with its wait, and the give-up with its reason.
    ``sleep``, ``clock`` and ``rng`` are injectable, so a test records the waits instead.
    """
    if not isinstance(policy, RetryPolicy):
        raise TypeError(f"policy must be a RetryPolicy, got {policy!r}")
    log, rng = logger or logging.getLogger("course.retry"), rng or random.Random()
    policy, started, attempt = policy.fresh(), clock(), 0
    while True:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            attempt += 1
            delay, reason = policy.decide(exc, attempt, rng)
            about = {
                "operation": getattr(fn, "__qualname__", type(fn).__name__),
                "attempt": attempt,
                "error_type": classify(exc).category,
                "request_id": getattr(exc, "request_id", None),
                "elapsed_s": round(clock() - started, 3),
            }
            if delay is None:
                log.warning("giving up after attempt %d: %s", attempt, reason, extra=about)
                raise
            log.warning(
                "retry %d of %d in %.2f s: %s", attempt, policy.max_retries, delay, reason,
                extra={**about, "wait_s": round(delay, 3)},
            )  # fmt: skip
            sleep(delay)
