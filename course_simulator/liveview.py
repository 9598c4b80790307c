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

``snapshot()`` is the data (``GET /live.json``); ``render_page`` draws it as one plain HTML page
(``GET /live``) made for a 1280x720 projector: the address learners use, then a grid of every
learner (30 fit on one screen), then the room's bars; a few lines of script fetch the redrawn
panel (``GET /live/panel``) every 2 seconds (no external assets; without scripts a
``<meta http-equiv="refresh">`` reloads the page). Colours are the Okabe-Ito colour-blind-safe
palette, each with a pattern and its words beside it.

What it never holds: a full API key (a learner is labelled with their name from the keys file,
else the key masked, ``#2`` added when two masks look alike) or any prompt text (a
``RequestRecord`` carries none). Whether the page needs a token is decided in ``classroom``.
"""

from __future__ import annotations

import hashlib
import html
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
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
    "render_page",
    "render_panel",
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


# --- drawing ----------------------------------------------------------------------------------

COLOURS = {"ok": "#0072B2", "rate_limited": "#E69F00", "errors": "#D55E00", "tokens": "#009E73"}
FILLS = {name: f"url(#lv-{name})" for name in OUTCOMES}

# One set of patterns per page (outside the panel that is swapped every refresh).
_DEFS = f"""<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>
<pattern id="lv-ok" width="8" height="8" patternUnits="userSpaceOnUse">
<rect width="8" height="8" fill="{COLOURS["ok"]}"/></pattern>
<pattern id="lv-rate_limited" width="10" height="10" patternUnits="userSpaceOnUse"
 patternTransform="rotate(45)"><rect width="10" height="10" fill="{COLOURS["rate_limited"]}"/>
<rect width="4" height="10" fill="#222"/></pattern>
<pattern id="lv-errors" width="10" height="10" patternUnits="userSpaceOnUse">
<rect width="10" height="10" fill="{COLOURS["errors"]}"/>
<circle cx="5" cy="5" r="2.4" fill="#fff"/></pattern>
</defs></svg>"""


def _num(n: float) -> str:
    return f"{n:,.0f}"


def _ago(seconds: float) -> str:
    """``5 min ago``, ``4 min 10 s ago``, ``30 s ago``."""
    minutes, secs = divmod(round(seconds), 60)
    if not minutes:
        return f"{secs} s ago"
    return f"{minutes} min {secs} s ago" if secs else f"{minutes} min ago"


def _bars(
    series: list[list[int]],
    bin_s: float,
    *,
    width: int,
    height: int,
    label: str,
    css: str,
    tokens: bool = False,
) -> str:
    """Inline SVG bars, one per bin: requests stacked by outcome, or tokens (``tokens=True``)."""
    n = len(series)
    slot = width / max(1, n)
    gap = min(4.0, slot * 0.2)
    if tokens:
        peak = max((s[3] for s in series), default=0)
    else:
        peak = max((s[0] + s[1] + s[2] for s in series), default=0)
    scale = (height - 2) / peak if peak else 0.0
    parts = []
    for i, (ok, limited, errors, used) in enumerate(series):
        x = i * slot + gap / 2
        ago = (n - 1 - i) * bin_s
        when = f"the last {bin_s:g} s" if ago == 0 else f"about {_ago(ago)}"
        if tokens:
            stacks = [("tokens", used)]
            tip = f"{when}: {_num(used)} tokens"
        else:
            stacks = [("ok", ok), ("rate_limited", limited), ("errors", errors)]
            tip = f"{when}: {ok} OK, {limited} rate limited (429), {errors} other errors"
        y = float(height)
        rects = []
        for name, value in stacks:
            if not value:
                continue
            h = value * scale
            y -= h
            fill = COLOURS["tokens"] if name == "tokens" else FILLS[name]
            rects.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot - gap:.1f}" height="{h:.1f}" '
                f'fill="{fill}" data-outcome="{name}"/>'
            )
        parts.append(f"<g><title>{html.escape(tip)}</title>{''.join(rects)}</g>")
    baseline = f'<line x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}" stroke="#555"/>'
    return (
        f'<svg class="{css}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{html.escape(label)}" preserveAspectRatio="none">'
        f"{''.join(parts)}{baseline}</svg>"
    )


def _swatch(name: str) -> str:
    fill = COLOURS["tokens"] if name == "tokens" else FILLS[name]
    return (
        f'<svg class="swatch" width="28" height="28" viewBox="0 0 28 28" aria-hidden="true">'
        f'<rect width="28" height="28" fill="{fill}" stroke="#222"/></svg>'
    )


def _settings_line(settings: Mapping[str, Any] | None) -> str:
    if not settings:
        return ""
    rpm, tpm = settings.get("rpm"), settings.get("tpm")
    fail = float(settings.get("fail_rate") or 0.0)
    latency = float(settings.get("latency_ms") or 0.0)
    parts = [
        f"<b>{_num(rpm)}</b> requests/min" if rpm else "requests/min: no limit",
        f"<b>{_num(tpm)}</b> tokens/min" if tpm else "tokens/min: no limit",
    ]
    chaos = f"chaos: <b>{fail:.0%}</b> of requests fail" if fail else "chaos: off"
    extra = f" · added latency <b>{latency:,.0f} ms</b>" if latency else ""
    return f'<p class="settings">Limits per key: {", ".join(parts)} · {chaos}{extra}</p>'


def _address_line(base_urls: Sequence[str], loopback_only: bool) -> str:
    """What learners type, first on the page: the address they can reach, never a loopback one
    for a server bound elsewhere (``classroom.learner_urls`` picks them)."""
    esc = html.escape
    if base_urls:
        urls = " or ".join(f"<code>OPENAI_BASE_URL={esc(url)}</code>" for url in base_urls)
    else:
        urls = (
            "<code>OPENAI_BASE_URL=http://</code><i>this machine's address</i><code>/v1</code> "
            "(unknown here: restart the server with <code>--public-url</code>)"
        )
    note = (
        ' <span class="warn">(loopback: this machine only; start the server with '
        "<code>--host 0.0.0.0</code> for the room)</span>"
        if loopback_only
        else ""
    )
    return (
        f'<p class="address" id="lv-address">Learners set {urls} and '
        f"<code>OPENAI_API_KEY=</code><i>the key on your slip</i>{note}</p>"
    )


def _seen(seconds: float | None) -> str:
    """When a learner was last seen, short enough to sit beside their name: ``now``, ``40 s``,
    ``12 min``, ``2 h``."""
    if seconds is None:
        return ""
    if seconds < 1.5:
        return "now"
    if seconds < 60:
        return f"{round(seconds)} s"
    return f"{int(seconds // 60)} min" if seconds < 3600 else f"{int(seconds // 3600)} h"


def _learner_cell(learner: Mapping[str, Any]) -> str:
    """Three short lines: the name and when last seen; the STATUS; what the status is about."""
    esc = html.escape
    status = learner["status"]
    tip = (
        f"{learner['label']}: {learner['status_label']}, {learner['detail']}; "
        f"{learner['requests']} requests in the window ({learner['ok']} OK, "
        f"{learner['rate_limited']} rate limited, {learner['errors']} other errors)"
    )
    return (
        f'<li class="learner s-{status}" data-status="{status}" title="{esc(tip)}">'
        f'<span class="line"><span class="name">{esc(learner["label"])}</span>'
        f'<span class="ago" title="last seen">{_seen(learner["last_seen_s"])}</span></span>'
        f'<span class="status">{esc(learner["status_label"])}</span>'
        f'<span class="meta">{esc(learner["detail"])}</span></li>'
    )


def _others_line(others: Mapping[str, int], window_min: float) -> str:
    parts = []
    for kind, words in NOT_LEARNER_LABELS.items():
        n = others.get(kind, 0)
        if not n:
            continue
        if kind == "unknown_key":
            distinct = others.get("unknown_keys", 0)
            words += f" ({_num(distinct)} different key{'s' if distinct != 1 else ''})"
        parts.append(f'<span id="lv-not-{kind}"><b>{_num(n)}</b> {esc_words(words)}</span>')
    if not parts:
        return (
            f'<p class="others" id="lv-others">Every request of the last {window_min:g} min '
            "came with a learner's key.</p>"
        )
    return (
        f'<p class="others" id="lv-others">Not a learner, last {window_min:g} min: '
        + " · ".join(parts)
        + "</p>"
    )


def esc_words(text: str) -> str:
    return html.escape(text).replace("--max-connections", "<code>--max-connections</code>")


def render_panel(
    snapshot: Mapping[str, Any],
    *,
    settings: Mapping[str, Any] | None = None,
    base_urls: Sequence[str] = (),
    loopback_only: bool = False,
) -> str:
    """The part of the page that is redrawn every refresh (an HTML fragment)."""
    room, minute = snapshot["room"], snapshot["last_minute"]
    window_min = snapshot["window_s"] / 60
    bin_s = snapshot["bin_s"]
    out = [_address_line(base_urls, loopback_only), _settings_line(settings)]

    learners = snapshot["learners"]
    counts = snapshot["statuses"]
    total = sum(counts.values())
    summary = " · ".join(
        f'<span class="chip s-{name}"><b id="lv-count-{name}">{counts[name]}</b> '
        f"{STATUS_LABELS[name]}</span>"
        for name in STATUSES
        if counts[name] or name in ("setup_error", "fine")
    )
    out.append(
        f'<p class="summary" id="lv-summary"><b>{total}</b> learner{"s" if total != 1 else ""}'
        f": {summary}</p>"
    )
    if learners:
        cells = "".join(_learner_cell(learner) for learner in learners)
        out.append(f'<ol class="grid" id="lv-learners" aria-label="learners">{cells}</ol>')
        hidden = snapshot.get("hidden_learners", 0)
        if hidden:
            out.append(f'<p class="sub">… and {hidden} more learners (see /live.json)</p>')
    else:
        out.append(
            '<p class="empty">No learner yet: start the server with <code>--keys-file</code> '
            "to list every learner before they connect.</p>"
        )
    out.append(_others_line(snapshot["not_learners"], window_min))

    totals = [
        ("requests", None, "requests", room["requests"]),
        ("ok", "ok", "OK", room["ok"]),
        ("429", "rate_limited", "rate limited (429)", room["rate_limited"]),
        ("errors", "errors", "other errors", room["errors"]),
        ("tokens", "tokens", "tokens", room["tokens"]),
    ]
    cells = "".join(
        f'<div>{_swatch(fill) if fill else ""}<span class="big" id="lv-room-{ident}">'
        f"{_num(value)}</span> {text}</div>"
        for ident, fill, text, value in totals
    )
    peak = max((s[0] + s[1] + s[2] for s in room["series"]), default=0)
    chart = _bars(
        room["series"], bin_s, width=1200, height=160, css="chart",
        label=(
            f"Requests per {bin_s:g} seconds over the last {window_min:g} minutes: "
            f"{room['ok']} OK, {room['rate_limited']} rate limited, {room['errors']} errors"
        ),
    )  # fmt: skip
    tok_peak = max((s[3] for s in room["series"]), default=0)
    tok_chart = _bars(
        room["series"], bin_s, width=1200, height=60, css="chart tokens", tokens=True,
        label=f"Tokens per {bin_s:g} seconds: {room['tokens']} in the window",
    )  # fmt: skip
    legend = (
        "".join(f"<li>{_swatch(n)} {html.escape(OUTCOME_LABELS[n])}</li>" for n in OUTCOMES)
        + f"<li>{_swatch('tokens')} tokens (green)</li>"
    )
    out.append(
        f'<section class="room"><h2>The room, last {window_min:g} min</h2>'
        f'<div class="totals">{cells}</div>'
        f'<p class="sub">last minute: {_num(minute["requests"])} requests, '
        f"{_num(minute['rate_limited'])} rate limited, {_num(minute['errors'])} other errors, "
        f"{_num(minute['tokens'])} tokens</p>"
        f'<h2>Requests per {bin_s:g} s <span class="sub">(tallest bar: {_num(peak)})</span></h2>'
        f"{chart}"
        f'<div class="axis"><span>{_ago(snapshot["window_s"])}</span><span>now</span></div>'
        f'<h2>Tokens per {bin_s:g} s <span class="sub">(tallest bar: {_num(tok_peak)} tokens)'
        f"</span></h2>{tok_chart}"
        f'<ul class="legend" aria-label="legend">{legend}</ul></section>'
    )
    return "\n".join(out)


# Status colours (Okabe-Ito), each with a pattern and its word, so no colour carries meaning alone.
_STYLE = """
html { font-size: 18px; }
body { font-family: system-ui, "DejaVu Sans", sans-serif; margin: .5rem 1rem; color: #111;
       background: #fff; line-height: 1.25; }
h1 { font-size: 1.3rem; margin: 0; }
h2 { font-size: 1rem; margin: .8rem 0 .2rem; }
.sub { font-weight: normal; color: #333; font-size: .85rem; }
p { margin: .25rem 0; }
.address { font-size: 1.15rem; }
.address code { font-size: 1.1em; font-weight: bold; }
.warn { background: #E69F00; padding: 0 .3rem; }
code { background: #eee; padding: 0 .2em; }
.summary { font-size: 1rem; }
.chip { white-space: nowrap; padding: 0 .3rem; border-left: 6px solid; }
.grid { list-style: none; padding: 0; margin: .3rem 0; display: grid; gap: 6px;
        grid-template-columns: repeat(auto-fill, minmax(156px, 1fr)); }
.learner { display: flex; flex-direction: column; padding: 3px 6px 3px 8px; min-width: 0;
           border: 2px solid #999; border-left-width: 8px; border-radius: 3px; }
.learner span { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.learner .line { display: flex; justify-content: space-between; align-items: baseline;
                 gap: .4rem; }
.learner .name { font-weight: bold; }
.learner .ago { flex: none; color: #222; font-size: .75rem; font-variant-numeric: tabular-nums; }
.learner .status { font-weight: bold; font-size: .9rem; }
.learner .meta { font-size: .8rem; color: #222; }
.s-fine { border-color: #009E73; background: #e3f4ee; }
.s-rate_limited { border-color: #E69F00;
  background: repeating-linear-gradient(45deg, #fbe6bb 0 7px, #fff 7px 12px); }
.s-failing { border-color: #CC79A7;
  background: radial-gradient(#efc3dc 2px, #fff 2.5px) 0 0 / 9px 9px; }
.s-setup_error { border-color: #D55E00; background: #f8cfb4; border-width: 3px 3px 3px 8px; }
.s-not_connected { border-style: dashed; border-color: #777; background: #f4f4f4; color: #444; }
.chip.s-setup_error, .chip.s-fine, .chip.s-rate_limited, .chip.s-failing,
.chip.s-not_connected { border-width: 0 0 0 6px; }
.others { font-size: .85rem; color: #222; }
.totals { display: flex; flex-wrap: wrap; gap: 1.2rem; align-items: center; }
.totals > div { display: flex; align-items: center; gap: .3rem; }
.big { font-size: 1.5rem; font-weight: bold; font-variant-numeric: tabular-nums; }
svg.chart { width: 100%; height: auto; max-height: 170px; display: block;
            border-left: 2px solid #555; }
svg.chart.tokens { max-height: 64px; }
.axis { display: flex; justify-content: space-between; font-size: .8rem; color: #333; }
.legend { display: flex; flex-wrap: wrap; gap: 1.2rem; list-style: none; padding: 0;
          margin: .4rem 0; }
.legend li { display: flex; align-items: center; gap: .3rem; }
.swatch { vertical-align: middle; flex: none; }
.empty { font-size: 1.1rem; margin: .6rem 0; }
#status { color: #333; font-size: .8rem; font-weight: normal; margin-left: .6rem; }
#status.stale { color: #000; background: #E69F00; padding: 0 .3rem; font-weight: bold; }
"""

_SCRIPT = """
(() => {
  const every = %d;
  const live = document.getElementById("live");
  const status = document.getElementById("status");
  async function tick() {
    try {
      const reply = await fetch("/live/panel", {cache: "no-store"});
      if (!reply.ok) throw new Error("HTTP " + reply.status);
      live.innerHTML = await reply.text();
      status.textContent = "Updated " + new Date().toLocaleTimeString() +
        " (refreshes every " + every / 1000 + " s)";
      status.className = "";
    } catch (err) {
      status.textContent = "Cannot reach the class server (" + err.message + "): retrying";
      status.className = "stale";
    }
    setTimeout(tick, every);
  }
  setTimeout(tick, every);
})();
"""


def render_page(
    snapshot: Mapping[str, Any],
    *,
    settings: Mapping[str, Any] | None = None,
    base_urls: Sequence[str] = (),
    loopback_only: bool = False,
    refresh_s: float = 2.0,
) -> str:
    """The whole page: the panel, the patterns it draws with, and the refresh loop."""
    panel = render_panel(
        snapshot, settings=settings, base_urls=base_urls, loopback_only=loopback_only
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Class server: live view</title>
<link rel="icon" href="data:,">
<noscript><meta http-equiv="refresh" content="{max(1, round(refresh_s))}"></noscript>
<style>{_STYLE}</style></head>
<body>{_DEFS}
<h1>Class server: who is stuck?
<span class="sub" id="status">refreshes every {refresh_s:g} s</span></h1>
<main id="live" aria-live="off">{panel}</main>
<script>{_SCRIPT % round(refresh_s * 1000)}</script>
</body></html>
"""
