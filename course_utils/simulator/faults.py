"""Injected faults: which kinds exist, and which one (if any) the next request gets.

A request's fault comes from, in order: its ``X-Sim-Fault`` header, the queue scripted with
``Simulator.queue_faults``, then the seeded ``fail_rate`` draw (a transient mix of 429, 500, 503
and dropped connections, the errors a retry is meant to survive). The queue and the draw are
only for generating requests (``POST /v1/responses``, ``POST /v1/chat/completions``).
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Iterable

__all__ = [
    "FAULT_HEADER",
    "FAULT_KINDS",
    "TRANSIENT_FAULTS",
    "FaultPlan",
    "check_fault",
]

FAULT_HEADER = "X-Sim-Fault"
FAULT_KINDS = (
    "rate_limit",
    "quota",
    "server_error",
    "overloaded",
    "timeout",
    "disconnect",
    "bad_request",
    "auth",
    "context_length",
)
TRANSIENT_FAULTS = ("rate_limit", "server_error", "overloaded", "disconnect")


def check_fault(kind: object, where: str = "fault") -> str | None:
    """``kind`` if it names a fault (or is None for "serve normally"); else a clear ValueError."""
    if kind is None or kind in FAULT_KINDS:
        return kind
    raise ValueError(
        f"{where} {kind!r} is not a simulator fault; use one of {', '.join(FAULT_KINDS)} "
        "(or None to serve the request normally)"
    )


class FaultPlan:
    """The scripted queue plus the seeded random draw, shared by all server threads."""

    def __init__(self, fail_rate: float = 0.0, seed: int = 0) -> None:
        if not isinstance(fail_rate, int | float) or not 0.0 <= fail_rate <= 1.0:
            raise ValueError(f"fail_rate must be a probability between 0 and 1, got {fail_rate!r}")
        self.fail_rate = float(fail_rate)
        self.seed = seed
        self._rng = random.Random(seed)
        self._queue: deque[str | None] = deque()
        self._lock = threading.Lock()

    def queue(self, kinds: Iterable[str | None], *, replace: bool = False) -> None:
        """Append faults for the next requests, in order (None serves one normally)."""
        if isinstance(kinds, str):
            raise TypeError(
                f"queue_faults takes a list, e.g. [{kinds!r}], not a bare string {kinds!r}"
            )
        checked = [check_fault(k, "queued fault") for k in kinds]
        with self._lock:
            if replace:
                self._queue.clear()
            self._queue.extend(checked)

    def clear(self) -> None:
        """Drop the faults still queued (the seeded draw goes on where it was)."""
        with self._lock:
            self._queue.clear()

    @property
    def pending(self) -> list[str | None]:
        """The faults still queued, next first."""
        with self._lock:
            return list(self._queue)

    def next_fault(self, header: str | None, *, generating: bool = True) -> str | None:
        """The fault for one arriving request (the header wins and leaves the queue alone).

        Only a generating request (``generating=True``) takes from the queue or the draw, so
        listing models or counting tokens never uses up a fault scripted for a generation.
        """
        if header:
            return check_fault(header.strip().lower(), f"{FAULT_HEADER} header value")
        if not generating:
            return None
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            if self.fail_rate and self._rng.random() < self.fail_rate:
                return self._rng.choice(TRANSIENT_FAULTS)
        return None

    def reset(self) -> None:
        """Empty the queue and restart the seeded draw."""
        with self._lock:
            self._queue.clear()
            self._rng = random.Random(self.seed)
