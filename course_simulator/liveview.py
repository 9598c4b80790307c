"""The class server's live view: who in the room is stuck, and the room's traffic, to project.

``LiveStats`` is fed every request the simulator logs (it is one of ``Simulator.observers``).
It keeps one **learner** per key of the keys file, in the file's order, from the start (a key
that never sent anything is "not connected"), plus one per other accepted key (``--key-prefix``)
in the order they first appeared. Each learner has a **status**, from their latest request:

- *setup error*: a 401 (their key is mistyped: a key one group away from theirs counts as
  theirs, see ``ClassKeys.owner``) or a 404/405 (``OPENAI_BASE_URL`` without ``/v1``);
- *rate limited*: a 429 from their own buckets;
- *failing*: an injected fault (chaos) or a server error, or no answer at all;
- *fine*: an answer (or a 4xx the request itself earned, such as a lesson's deliberate 400).

A request that belongs to no learner (an unknown key, no key, a connection refused at the
server's connection limit) is only counted, never a row: nobody can fill the projected page by
making up keys. Counts go into 10-second bins forgotten after the window (5 minutes), so memory
stays bounded however long the class runs.

``snapshot()`` is the data (``GET /live.json``); ``liveview_page.render_page`` draws it as one
plain HTML page (``GET /live``) made for a 1280x720 projector: the address learners use, then a
grid of every learner (30 fit on one screen), then the room's bars; a few lines of script fetch
the redrawn panel (``GET /live/panel``) every 2 seconds (no external assets; without scripts a
``<meta http-equiv="refresh">`` reloads the page).

What it never holds: a full API key (a learner is labelled with their name from the keys file,
else the key masked, ``#2`` added when two masks look alike) or any prompt text (a
``RequestRecord`` carries none). Whether the page needs a token is decided in ``classroom``.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from .error_replies import mask_key
from .protocol import RequestRecord

__all__ = [
    "NOT_LEARNER_LABELS",
    "OUTCOMES",
    "OUTCOME_LABELS",
    "STATUSES",
    "STATUS_LABELS",
    "Counts",
    "LiveStats",
    "outcome_of",
    "status_of",
]

OUTCOMES = ("ok", "rate_limited", "errors")
OUTCOME_LABELS = {
    "ok": "OK (solid blue)",
    "rate_limited": "429 rate limited (orange, striped)",
    "errors": "other errors (red, dotted)",
}
STATUSES = ("setup_error", "failing", "rate_limited", "fine", "not_connected")
STATUS_LABELS = {
    "setup_error": "setup error",
    "failing": "failing",
    "rate_limited": "rate limited",
    "fine": "fine",
    "not_connected": "not connected",
}
NOT_LEARNER_LABELS = {
    "unknown_key": "with a key nobody was given",
    "no_key": "without a key",
    "connection_limit": "refused at the connection limit (--max-connections)",
    "cut_off": "cut off before a key was read (too slow, or not HTTP)",
}
MAX_BINS = 360  # a window of at most 360 bins keeps the page and the JSON small
MAX_UNKNOWN_KEYS = 10_000  # distinct unknown keys remembered (as digests) for the count
Label = Callable[[str | None], str]


def outcome_of(record: RequestRecord) -> str:
    """``ok`` (a 2xx), ``rate_limited`` (a 429, as the SDK's RateLimitError sees it: the limiter's
    and injected ones, quota included) or ``errors`` (any other status, or no response at all)."""
    if record.status is not None and 200 <= record.status < 300:
        return "ok"
    if record.status == 429:
        return "rate_limited"
    return "errors"


def status_of(record: RequestRecord) -> tuple[str, str]:
    """(status, the detail shown under it) that a learner's latest request puts them in."""
    status = record.status
    if record.fault is not None:
        kind = record.fault.replace("_", " ")  # chaos, or a lesson's X-Sim-Fault header
        return "failing", f"fault: {kind}"
    if status is None:
        return "failing", "no answer"
    if 200 <= status < 300:
        return "fine", "answered"
    if status == 401:
        return "setup_error", "wrong key (401)"
    if status in (404, 405):
        if not record.path.startswith("/v1/"):
            return "setup_error", f"missing /v1 ({status})"
        return "setup_error", f"wrong path ({status})"
    if status == 429:
        return "rate_limited", "own limit (429)"
    if status >= 500:
        return "failing", f"server error ({status})"
    return "fine", f"refused ({status})"  # e.g. a lesson's deliberate 400: the set-up works


@lru_cache(maxsize=1024)  # a room's keys: hashed once each, not on every request
def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass
class Counts:
    """What happened in one bin (or summed over several): requests by outcome, tokens billed."""

    requests: int = 0
    ok: int = 0
    rate_limited: int = 0
    errors: int = 0
    tokens: int = 0

    def add(self, outcome: str, tokens: int) -> None:
        self.requests += 1
        setattr(self, outcome, getattr(self, outcome) + 1)
        self.tokens += tokens

    def merge(self, other: Counts) -> None:
        for name in ("requests", "ok", "rate_limited", "errors", "tokens"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class _Learner:
    """One learner's bins (bin index -> counts), latest status and when they were last seen."""

    def __init__(self, label: str, order: int, listed: bool) -> None:
        self.label, self.order, self.listed = label, order, listed
        self.bins: dict[int, Counts] = {}
        self.last_seen: float | None = None
        self.status, self.detail = "not_connected", "never seen"


class LiveStats:
    """Per-learner status and counts, and the room's, over the last ``window_s`` seconds.

    ``roster``: the keys file's ``(key, name)`` pairs, in order (only their digests are kept).
    ``owner(key)``: the listed key a request's key belongs to (itself, or the one it is a typo
    of), else None. ``accepts(key)``: whether an unlisted key is accepted (a prefix rule); with
    neither given, every key the server did not refuse with a 401 is a learner. ``clock`` is
    the simulator's clock, so a test drives time by hand. Thread-safe: ``observe`` runs on the
    server's request threads while ``snapshot`` runs for the page.
    """

    def __init__(
        self,
        *,
        window_s: float = 300.0,
        bin_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        roster: Sequence[tuple[str, str | None]] = (),
        owner: Callable[[str], str | None] | None = None,
        accepts: Callable[[str], bool] | None = None,
        max_keys: int = 500,
    ) -> None:
        for name, value in (("window_s", window_s), ("bin_s", bin_s)):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number of seconds > 0, got {value!r}")
            if not 0 < value < math.inf:
                raise ValueError(f"{name} must be a number of seconds > 0, got {value!r}")
        bins = window_s / bin_s
        if abs(bins - round(bins)) > 1e-9 or not 1 <= round(bins) <= MAX_BINS:
            raise ValueError(
                f"window_s ({window_s:g}) must be a whole number of bins of bin_s ({bin_s:g}), "
                f"from 1 to {MAX_BINS} of them"
            )
        if isinstance(max_keys, bool) or not isinstance(max_keys, int) or max_keys < 1:
            raise ValueError(f"max_keys must be a whole number >= 1, got {max_keys!r}")
        self.window_s, self.bin_s, self.bins = float(window_s), float(bin_s), round(bins)
        self.max_keys = max_keys
        self._clock, self._owner, self._accepts = clock, owner, accepts
        # digest of the key -> learner; the key itself is not kept
        self._learners: dict[str, _Learner] = {}
        for order, (listed_key, given) in enumerate(roster):
            label = self._unique_label(given or mask_key(listed_key))
            self._learners[_digest(listed_key)] = _Learner(label, order, listed=True)
        self._next_order = len(self._learners)
        self._room: dict[int, Counts] = {}
        self._others: dict[int, Counter[str]] = {}
        self._unknown_keys: dict[str, float] = {}  # digest -> last seen, for the distinct count
        self._pruned_for: int | None = None  # the bin the last prune was for
        self._lock = threading.Lock()

    def _bin(self, now: float) -> int:
        return math.floor(now / self.bin_s)

    def _learner_for(self, record: RequestRecord, key: str | None) -> _Learner | None:
        """The learner a request counts for (made on first sight for an accepted, unlisted key),
        or None when it is nobody's. Called under the lock."""
        if not key:
            return None
        listed = self._owner(key) if self._owner is not None else None
        if listed is not None:
            found = self._learners.get(_digest(listed))
            if found is not None:
                return found
        if record.status == 401:
            return None  # refused: a made-up key never becomes a row
        if self._accepts is not None and not self._accepts(key):
            return None
        digest = _digest(key)
        learner = self._learners.get(digest)
        if learner is None:
            label = self._unique_label(mask_key(key))
            learner = self._learners[digest] = _Learner(label, self._next_order, listed=False)
            self._next_order += 1
            self._evict()
        return learner

    @staticmethod
    def _not_learner(record: RequestRecord, key: str | None) -> str:
        if key:
            return "unknown_key"
        if record.outcome == "server_busy" or record.status == 503:
            return "connection_limit"  # refused before a byte of the request was read
        if record.status is None or record.outcome in ("read_timeout", "bad_request"):
            return "cut_off"
        return "no_key"

    def observe(self, record: RequestRecord, key: str | None) -> None:
        """Count one logged request (the ``Simulator.observers`` signature)."""
        now = self._clock()
        index = self._bin(now)
        outcome = outcome_of(record)
        tokens = (record.input_tokens or 0) + (record.output_tokens or 0)
        with self._lock:
            if index != self._pruned_for:  # once per bin, not on every request
                self._prune(index)
            self._room.setdefault(index, Counts()).add(outcome, tokens)
            learner = self._learner_for(record, key)
            if learner is None:
                kind = self._not_learner(record, key)
                self._others.setdefault(index, Counter())[kind] += 1
                if key:
                    self._remember_unknown(_digest(key), now)
                return
            learner.last_seen = now
            learner.status, learner.detail = status_of(record)
            learner.bins.setdefault(index, Counts()).add(outcome, tokens)

    def _remember_unknown(self, digest: str, now: float) -> None:
        self._unknown_keys.pop(digest, None)
        self._unknown_keys[digest] = now  # oldest first, so the bound drops the stalest
        while len(self._unknown_keys) > MAX_UNKNOWN_KEYS:
            del self._unknown_keys[next(iter(self._unknown_keys))]

    def _unique_label(self, label: str) -> str:
        taken = {learner.label for learner in self._learners.values()}
        if label not in taken:
            return label
        n = 2
        while f"{label} #{n}" in taken:
            n += 1
        return f"{label} #{n}"

    def _evict(self) -> None:
        """Past ``max_keys`` unlisted learners (many made-up keys), forget the longest silent."""
        unlisted = [d for d, learner in self._learners.items() if not learner.listed]
        while len(unlisted) > self.max_keys:
            oldest = min(unlisted, key=lambda d: self._learners[d].last_seen or 0.0)
            unlisted.remove(oldest)
            del self._learners[oldest]

    def _prune(self, current: int) -> None:
        self._pruned_for = current
        first = current - self.bins + 1
        binned: list[dict[int, Any]] = [self._room, self._others]
        binned += [x.bins for x in self._learners.values()]
        for bins in binned:
            for index in [i for i in bins if i < first]:
                del bins[index]
        for digest in [d for d, x in self._learners.items() if not x.listed and not x.bins]:
            del self._learners[digest]
        oldest = first * self.bin_s
        for digest in [d for d, seen in self._unknown_keys.items() if seen < oldest]:
            del self._unknown_keys[digest]

    def reset(self) -> None:
        """Forget everything counted so far (the keys file's learners stay, not connected)."""
        with self._lock:
            for digest in [d for d, x in self._learners.items() if not x.listed]:
                del self._learners[digest]
            for learner in self._learners.values():
                learner.bins.clear()
                learner.last_seen = None
                learner.status, learner.detail = "not_connected", "never seen"
            self._room.clear()
            self._others.clear()
            self._unknown_keys.clear()

    def _series(self, bins: Mapping[int, Counts], first: int) -> tuple[Counts, list[list[int]]]:
        total = Counts()
        series = []
        for index in range(first, first + self.bins):
            counts = bins.get(index, Counts())
            total.merge(counts)
            series.append([counts.ok, counts.rate_limited, counts.errors, counts.tokens])
        return total, series

    def snapshot(self, max_rows: int | None = None) -> dict[str, Any]:
        """The window as plain data.

        ``learners``: the keys file's order, then other accepted keys in the order they first
        came; each with its status, ``last_seen_s`` (seconds ago, None: never) and counts.
        Learners past ``max_rows`` are left out and counted in ``hidden_learners``.
        ``room.series`` lists one ``[ok, rate_limited, errors, tokens]`` per bin, oldest first;
        ``last_minute`` sums the bins of the last 60 seconds. ``not_learners`` counts the
        requests that belong to no learner, by kind (``unknown_keys``: how many different keys).
        """
        now = self._clock()
        current = self._bin(now)
        first = current - self.bins + 1
        minute_bins = max(1, min(self.bins, round(60 / self.bin_s)))
        with self._lock:
            self._prune(current)
            room_total, room_series = self._series(self._room, first)
            learners = []
            for learner in sorted(self._learners.values(), key=lambda x: x.order):
                total = self._series(learner.bins, first)[0]
                seen = learner.last_seen
                learners.append(
                    {
                        "label": learner.label,
                        "status": learner.status,
                        "status_label": STATUS_LABELS[learner.status],
                        "detail": learner.detail,
                        "last_seen_s": None if seen is None else round(max(0.0, now - seen), 1),
                        **asdict(total),
                    }
                )
            others: Counter[str] = Counter()
            for counter in self._others.values():
                others.update(counter)
            unknown = len(self._unknown_keys)
        statuses = Counter(x["status"] for x in learners)
        hidden = 0
        if max_rows is not None and len(learners) > max_rows:
            hidden, learners = len(learners) - max_rows, learners[:max_rows]
        last_minute = Counts()
        for ok, limited, errors, tokens in room_series[-minute_bins:]:
            last_minute.merge(Counts(ok + limited + errors, ok, limited, errors, tokens))
        return {
            "window_s": self.window_s,
            "bin_s": self.bin_s,
            "bins": self.bins,
            "room": {**asdict(room_total), "series": room_series},
            "last_minute": asdict(last_minute),
            "statuses": {name: statuses.get(name, 0) for name in STATUSES},
            "learners": learners,
            "hidden_learners": hidden,
            "not_learners": {
                **{kind: others.get(kind, 0) for kind in NOT_LEARNER_LABELS},
                "unknown_keys": unknown,
            },
        }
