"""Beyond the retry loop: the openai SDK's own retry rules, decorrelated jitter, a jitter menu.

Built from ``backoff``'s pieces. ``SDK_RETRY`` is what the installed SDK does when left alone,
read from ``openai/_constants.py`` (the numbers) and ``openai/_base_client.py`` (the rules:
``_calculate_retry_timeout`` and ``_should_retry``), so lesson 03's numbers match the package.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any

from openai import _constants as _sdk

from course_utils.backoff import (
    Backoff,
    delays,
    equal_jitter,
    exponential,
    full_jitter,
    no_jitter,
    parse_retry_after,
    should_retry_header,
)
from course_utils.validate import number

__all__ = ["JITTERS", "SDK_RETRY", "SdkRetry", "decorrelated", "make_schedule", "sdk_jitter"]


def sdk_jitter(schedule: Backoff, fraction: float = 0.25) -> Backoff:
    """The SDK's jitter: each wait *shortened* by a random 0 to ``fraction`` (25%).

    ``openai/_base_client.py``, ``_calculate_retry_timeout``: ``timeout = sleep_seconds *
    (1 - 0.25 * random())``.
    """
    f = number("fraction", fraction, high=1, unit="(a share of the wait)")
    inner = schedule.fresh()
    return Backoff(lambda n, rng: inner(n, rng) * (1 - f * rng.random()), f"sdk_jitter({inner})")


class _Decorrelated(Backoff):
    """Each wait random between the base and ``factor`` times the previous one, capped."""

    def __init__(self, base: float, cap: float, factor: float) -> None:
        super().__init__(self._next, f"decorrelated(base_s={base:g}, cap_s={cap:g})")
        self.base, self.cap, self.factor = base, cap, factor
        self._last = threading.local()  # one chain per thread if a shared copy is used

    def _next(self, n: int, rng: random.Random) -> float:
        previous = self.base if n == 1 else getattr(self._last, "delay", self.base)
        self._last.delay = min(self.cap, rng.uniform(self.base, previous * self.factor))
        return float(self._last.delay)

    def fresh(self) -> Backoff:
        return _Decorrelated(self.base, self.cap, self.factor)


def decorrelated(
    base_s: float | Backoff = 1.0, cap_s: float | None = None, factor: float = 3.0
) -> Backoff:
    """AWS's decorrelated jitter ("Exponential Backoff And Jitter", 2015).

    ``decorrelated(exponential(1, 2, 60))`` takes the schedule's first wait as the base and its
    largest as the cap. It remembers its last wait: each call takes a ``fresh()`` copy.
    """
    if isinstance(base_s, Backoff):
        schedule, probe = base_s, random.Random(0)
        base_s, cap_s = schedule(1, probe), cap_s if cap_s is not None else schedule(64, probe)
    base = number("base_s", base_s, above=True)
    cap = number("cap_s", 60.0 if cap_s is None else cap_s, low=base)
    return _Decorrelated(base, cap, number("factor", factor, low=1, high=100, unit="times"))


JITTERS = ("none", "full", "equal", "decorrelated", "sdk")  # the RetryTimeline's menu order


def make_schedule(
    jitter: str = "full", base_s: float = 1.0, factor: float = 2.0, cap_s: float = 60.0
) -> Backoff:
    """An exponential schedule with the named jitter (``decorrelated`` uses base and cap)."""
    if jitter == "decorrelated":
        return decorrelated(base_s, cap_s)
    wrappers = {"none": no_jitter, "full": full_jitter, "equal": equal_jitter, "sdk": sdk_jitter}
    if jitter not in wrappers:
        raise ValueError(f"jitter {jitter!r} is not one of {', '.join(JITTERS)}")
    return wrappers[jitter](exponential(base_s, factor, cap_s))


@dataclass(frozen=True)
class SdkRetry:
    """The installed SDK's built-in retries: numbers from the package, rules copied from it."""

    max_retries: int = _sdk.DEFAULT_MAX_RETRIES
    initial_delay_s: float = float(_sdk.INITIAL_RETRY_DELAY)
    max_delay_s: float = float(_sdk.MAX_RETRY_DELAY)
    max_retry_after_s: float = float(_sdk.MAX_RETRY_AFTER_DELAY)
    jitter_fraction: float = 0.25  # written into _calculate_retry_timeout

    @property
    def schedule(self) -> Backoff:
        """0.5, 1, 2, 4, 8, 8 … s, each shortened by up to 25%."""
        base = exponential(self.initial_delay_s, 2.0, self.max_delay_s)
        return sdk_jitter(base, self.jitter_fraction)

    def would_retry(self, status: int, headers: Any = None) -> bool:
        """``_should_retry``: a long retry-after raises; ``x-should-retry``; 408/409/429/5xx."""
        hint = parse_retry_after(headers)
        if hint is not None and hint > self.max_retry_after_s:
            return False
        override = should_retry_header(headers)
        return override if override is not None else status in (408, 409, 429) or status >= 500

    def delay(self, retry: int, headers: Any = None, rng: random.Random | None = None) -> float:
        """The wait before retry ``retry``: the server's hint exactly (0-120 s), else backoff."""
        hint = parse_retry_after(headers)
        if hint is not None and 0 < hint <= self.max_retry_after_s:
            return hint  # slept exactly, no jitter: the cause of lesson 03's second herd
        return self.schedule(retry, rng or random.Random())

    def describe(self) -> str:
        """One sentence for a notebook."""
        waits = ", ".join(f"{d:g}" for d in delays(exponential(self.initial_delay_s, 2, 8), 5))
        return (
            f"openai SDK: {self.max_retries} retries by default; waits {waits} s … "
            f"(at most {self.max_delay_s:g} s), each shortened by up to "
            f"{self.jitter_fraction:.0%}; a retry-after of 0-{self.max_retry_after_s:g} s is "
            f"slept exactly, a longer one is raised at once."
        )


SDK_RETRY = SdkRetry()
