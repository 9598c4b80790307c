"""A fair share of the server per API key: one learner's flood waits behind their own requests.

A class server runs every learner's requests on one machine. ``FairShare`` lets at most
``slots`` requests run the pipeline at once; a request that finds them all busy waits in its
key's own queue, and a freed slot goes to the key whose turn it is (round robin over the keys
that wait), never simply to the longest queue. So a learner who sends 300 requests at once is
served one at a time beside everyone else, and the rest of the room still gets its turn.

Only the pipeline's own work (parse, generate, serialise) holds a slot: a reply's simulated
latency and a stream's pacing are waited out by the sender after the slot is given back.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["DEFAULT_SLOTS", "FairShare"]

DEFAULT_SLOTS = 4  # requests in the pipeline at once: a few per core keeps both cores busy


class FairShare:
    """``with share.turn(key): ...`` runs when ``key``'s turn comes (at once if a slot is free)."""

    def __init__(self, slots: int = DEFAULT_SLOTS) -> None:
        if isinstance(slots, bool) or not isinstance(slots, int) or slots < 1:
            raise ValueError(f"slots must be a whole number >= 1, got {slots!r}")
        self.slots = slots
        self._free = slots
        self._waiting: OrderedDict[str, deque[threading.Lock]] = OrderedDict()
        self._lock = threading.Lock()

    @contextmanager
    def turn(self, key: str) -> Iterator[None]:
        """Hold one slot for the block; wait in ``key``'s queue while none is free."""
        with self._lock:
            ticket = None
            if self._free and not self._waiting:
                self._free -= 1
            else:
                # A plain lock, taken now and released by whoever hands this request a slot:
                # the cheapest wait there is (an Event costs a Condition and a second lock).
                ticket = threading.Lock()
                ticket.acquire()
                self._waiting.setdefault(key, deque()).append(ticket)
        if ticket is not None:
            ticket.acquire()
        try:
            yield
        finally:
            with self._lock:
                self._free += 1
                self._hand_on()

    def _hand_on(self) -> None:
        """Give free slots to the waiting keys in turn (lock held)."""
        while self._free and self._waiting:
            key, queue = next(iter(self._waiting.items()))
            ticket = queue.popleft()
            if queue:
                self._waiting.move_to_end(key)  # its next request waits for everyone else's turn
            else:
                del self._waiting[key]
            self._free -= 1
            ticket.release()

    @property
    def waiting(self) -> dict[str, int]:
        """How many requests wait, per key (a snapshot)."""
        with self._lock:
            return {key: len(queue) for key, queue in self._waiting.items()}
