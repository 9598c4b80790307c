"""The class server's live view: the room's traffic per key over the last minutes, to project.

``LiveStats`` is fed every request the simulator logs (it is one of ``Simulator.observers``) and
counts them per key and for the whole room into 10-second bins, forgetting bins older than the
window (5 minutes by default), so memory stays bounded however long the class runs.
``snapshot()`` is the data (``GET /live.json``); ``render_page`` draws it as one plain HTML page
(``GET /live``) with inline SVG bars and inline CSS, and a few lines of script that fetch the
redrawn panel (``GET /live/panel``) every 2 seconds (no external assets, no CDN; without
scripts, a ``<meta http-equiv="refresh">`` reloads the page instead).

Made for a projector: large type, high contrast, and the Okabe-Ito colour-blind-safe palette
with a pattern per outcome (solid, striped, dotted) and a text label beside every colour.

What it never holds: a full API key (a row is labelled with the name given in the keys file,
else the key masked, ``#2`` added when two masks look alike) or any prompt text (a
``RequestRecord`` carries none). Whether the page needs a token is decided in ``classroom``.
"""

from __future__ import annotations

import hashlib
import html
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from .error_replies import mask_key
from .protocol import RequestRecord

__all__ = [
    "OUTCOMES",
    "OUTCOME_LABELS",
    "Counts",
    "LiveStats",
    "outcome_of",
    "render_page",
    "render_panel",
]

OUTCOMES = ("ok", "rate_limited", "errors")
OUTCOME_LABELS = {
    "ok": "OK (solid blue)",
    "rate_limited": "429 rate limited (orange, striped)",
    "errors": "other errors (red, dotted)",
}
MAX_BINS = 360  # a window of at most 360 bins keeps the page and the JSON small
Label = Callable[[str | None], str]


def outcome_of(record: RequestRecord) -> str:
    """``ok`` (a 2xx), ``rate_limited`` (a 429, as the SDK's RateLimitError sees it: the limiter's
    and injected ones, quota included) or ``errors`` (any other status, or no response at all)."""
    if record.status is not None and 200 <= record.status < 300:
        return "ok"
    if record.status == 429:
        return "rate_limited"
    return "errors"


def _default_label(key: str | None) -> str:
    return "(no key sent)" if not key else mask_key(key)


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


class _Row:
    """One key's bins (bin index -> counts) and the label it is shown under."""

    def __init__(self, label: str, seen: float) -> None:
        self.label = label
        self.bins: dict[int, Counts] = {}
        self.last_seen = seen


class LiveStats:
    """Per-key and room-wide counts in ``bin_s`` bins over the last ``window_s`` seconds.

    ``label(key)`` names a key's row (never the full key: the default masks it). ``clock`` is
    the simulator's clock, so a test drives time by hand. Thread-safe: ``observe`` runs on the
    server's request threads while ``snapshot`` runs for the page.
    """

    def __init__(
        self,
        *,
        window_s: float = 300.0,
        bin_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        label: Label | None = None,
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
        self._clock, self._label = clock, label or _default_label
        self._rows: dict[str, _Row] = {}  # digest of the key -> row; the key itself is not kept
        self._room: dict[int, Counts] = {}
        self._pruned_for: int | None = None  # the bin the last prune was for
        self._lock = threading.Lock()

    def _bin(self, now: float) -> int:
        return math.floor(now / self.bin_s)

    def observe(self, record: RequestRecord, key: str | None) -> None:
        """Count one logged request (the ``Simulator.observers`` signature)."""
        now = self._clock()
        index = self._bin(now)
        outcome = outcome_of(record)
        tokens = (record.input_tokens or 0) + (record.output_tokens or 0)
        digest = hashlib.sha256((key or "").encode()).hexdigest()
        with self._lock:
            if index != self._pruned_for:  # once per bin, not on every request
                self._prune(index)
            row = self._rows.get(digest)
            if row is None:
                row = self._rows[digest] = _Row(self._unique_label(self._label(key)), now)
                self._evict()
            row.last_seen = now
            row.bins.setdefault(index, Counts()).add(outcome, tokens)
            self._room.setdefault(index, Counts()).add(outcome, tokens)

    def _unique_label(self, label: str) -> str:
        taken = {row.label for row in self._rows.values()}
        if label not in taken:
            return label
        n = 2
        while f"{label} #{n}" in taken:
            n += 1
        return f"{label} #{n}"

    def _evict(self) -> None:
        """Past ``max_keys`` rows (many made-up keys), forget the one silent the longest."""
        while len(self._rows) > self.max_keys:
            oldest = min(self._rows, key=lambda d: self._rows[d].last_seen)
            del self._rows[oldest]

    def _prune(self, current: int) -> None:
        self._pruned_for = current
        first = current - self.bins + 1
        for bins in (self._room, *(row.bins for row in self._rows.values())):
            for index in [i for i in bins if i < first]:
                del bins[index]
        for digest in [d for d, row in self._rows.items() if not row.bins]:
            del self._rows[digest]

    def reset(self) -> None:
        """Forget everything counted so far."""
        with self._lock:
            self._rows.clear()
            self._room.clear()

    def _series(self, bins: Mapping[int, Counts], first: int) -> tuple[Counts, list[list[int]]]:
        total = Counts()
        series = []
        for index in range(first, first + self.bins):
            counts = bins.get(index, Counts())
            total.merge(counts)
            series.append([counts.ok, counts.rate_limited, counts.errors, counts.tokens])
        return total, series

    def snapshot(self, max_rows: int | None = None) -> dict[str, Any]:
        """The window as plain data, busiest key first.

        ``series`` lists one ``[ok, rate_limited, errors, tokens]`` per bin, oldest first; the
        last bin is the one filling now. ``last_minute`` sums the bins of the last 60 seconds.
        Rows past ``max_rows`` are left out and counted in ``hidden_keys``.
        """
        current = self._bin(self._clock())
        first = current - self.bins + 1
        minute_bins = max(1, min(self.bins, round(60 / self.bin_s)))
        with self._lock:
            self._prune(current)
            room_total, room_series = self._series(self._room, first)
            rows = []
            for row in self._rows.values():
                total, series = self._series(row.bins, first)
                rows.append({"label": row.label, **asdict(total), "series": series})
        rows.sort(key=lambda r: (-r["requests"], r["label"]))
        hidden = 0
        if max_rows is not None and len(rows) > max_rows:
            hidden, rows = len(rows) - max_rows, rows[:max_rows]
        last_minute = Counts()
        for ok, limited, errors, tokens in room_series[-minute_bins:]:
            last_minute.merge(Counts(ok + limited + errors, ok, limited, errors, tokens))
        return {
            "window_s": self.window_s,
            "bin_s": self.bin_s,
            "bins": self.bins,
            "room": {**asdict(room_total), "series": room_series},
            "last_minute": asdict(last_minute),
            "keys": rows,
            "hidden_keys": hidden,
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


def render_panel(
    snapshot: Mapping[str, Any],
    *,
    settings: Mapping[str, Any] | None = None,
    base_url: str | None = None,
) -> str:
    """The part of the page that is redrawn every refresh (an HTML fragment)."""
    room, minute = snapshot["room"], snapshot["last_minute"]
    window_min = snapshot["window_s"] / 60
    bin_s = snapshot["bin_s"]
    esc = html.escape
    out = [_settings_line(settings)]
    if base_url:
        out.append(
            f'<p class="hint">Learners: <code>OPENAI_BASE_URL={esc(base_url)}</code> and '
            "<code>OPENAI_API_KEY=</code><i>the key on your slip</i></p>"
        )
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
    out.append(
        f'<div class="totals">{cells}</div>'
        f'<p class="sub">over the last {window_min:g} min · last minute: '
        f"{_num(minute['requests'])} requests, {_num(minute['rate_limited'])} rate limited, "
        f"{_num(minute['errors'])} other errors, {_num(minute['tokens'])} tokens</p>"
    )
    peak = max((s[0] + s[1] + s[2] for s in room["series"]), default=0)
    chart = _bars(
        room["series"], bin_s, width=1200, height=220, css="chart",
        label=(
            f"Requests per {bin_s:g} seconds over the last {window_min:g} minutes: "
            f"{room['ok']} OK, {room['rate_limited']} rate limited, {room['errors']} errors"
        ),
    )  # fmt: skip
    out.append(
        f'<h2>The room: requests per {bin_s:g} s <span class="sub">(tallest bar: {_num(peak)})'
        f"</span></h2>{chart}"
        f'<div class="axis"><span>{_ago(snapshot["window_s"])}</span><span>now</span></div>'
    )
    tok_peak = max((s[3] for s in room["series"]), default=0)
    tok_chart = _bars(
        room["series"], bin_s, width=1200, height=70, css="chart tokens", tokens=True,
        label=f"Tokens per {bin_s:g} seconds: {room['tokens']} in the window",
    )  # fmt: skip
    out.append(
        f'<h2>Tokens per {bin_s:g} s <span class="sub">(tallest bar: {_num(tok_peak)} tokens)'
        f"</span></h2>{tok_chart}"
    )
    legend = (
        "".join(f"<li>{_swatch(name)} {esc(OUTCOME_LABELS[name])}</li>" for name in OUTCOMES)
        + f"<li>{_swatch('tokens')} tokens (green)</li>"
    )
    out.append(f'<ul class="legend" aria-label="legend">{legend}</ul>')
    rows = snapshot["keys"]
    if not rows:
        out.append('<p class="empty">No requests yet in the last '
                   f"{window_min:g} minutes. Waiting for the room…</p>")  # fmt: skip
    else:
        body = []
        for row in rows:
            spark = _bars(
                row["series"], bin_s, width=300, height=40, css="spark",
                label=f"{row['label']}: requests per {bin_s:g} seconds",
            )  # fmt: skip
            body.append(
                f'<tr><th scope="row">{esc(row["label"])}</th>'
                f'<td class="n">{_num(row["requests"])}</td><td class="n">{_num(row["ok"])}</td>'
                f'<td class="n">{_num(row["rate_limited"])}</td>'
                f'<td class="n">{_num(row["errors"])}</td><td class="n">{_num(row["tokens"])}</td>'
                f"<td>{spark}</td></tr>"
            )
        more = snapshot.get("hidden_keys", 0)
        foot = (
            f'<tfoot><tr><td colspan="7">… and {more} quieter keys not shown</td></tr></tfoot>'
            if more
            else ""
        )
        out.append(
            '<table id="lv-keys"><thead><tr><th scope="col">Key (masked) or name</th>'
            '<th scope="col">Requests</th>'
            f'<th scope="col">{_swatch("ok")} OK</th>'
            f'<th scope="col">{_swatch("rate_limited")} 429s</th>'
            f'<th scope="col">{_swatch("errors")} Errors</th>'
            f'<th scope="col">{_swatch("tokens")} Tokens</th>'
            f'<th scope="col">Last {window_min:g} min</th></tr></thead>'
            f"<tbody>{''.join(body)}</tbody>{foot}</table>"
        )
    return "\n".join(out)


_STYLE = """
html { font-size: 22px; }
body { font-family: system-ui, "DejaVu Sans", sans-serif; margin: 1rem 2rem; color: #111;
       background: #fff; line-height: 1.3; }
h1 { font-size: 1.8rem; margin: 0 0 .3rem; }
h2 { font-size: 1.15rem; margin: 1rem 0 .3rem; }
.sub { font-weight: normal; color: #333; font-size: .9rem; }
.settings { font-size: 1.1rem; margin: .2rem 0; }
.hint { margin: .2rem 0; }
code { font-size: .95em; background: #eee; padding: 0 .2em; }
.totals { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: center; margin-top: .6rem; }
.totals > div { display: flex; align-items: center; gap: .4rem; font-size: 1rem; }
.big { font-size: 2rem; font-weight: bold; font-variant-numeric: tabular-nums; }
svg.chart { width: 100%; height: auto; max-height: 240px; display: block;
            border-left: 2px solid #555; }
svg.chart.tokens { max-height: 80px; }
.axis { display: flex; justify-content: space-between; font-size: .85rem; color: #333; }
.legend { display: flex; flex-wrap: wrap; gap: 1.5rem; list-style: none; padding: 0;
          margin: .6rem 0; }
.legend li { display: flex; align-items: center; gap: .4rem; }
.swatch { vertical-align: middle; flex: none; }
table { border-collapse: collapse; font-size: 1.1rem; margin-top: .5rem; }
th, td { padding: .2rem .7rem; border-bottom: 1px solid #bbb; text-align: left; }
thead th { font-size: .9rem; white-space: nowrap; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
svg.spark { display: block; }
.empty { font-size: 1.2rem; margin-top: 1rem; }
#status { color: #333; font-size: .85rem; }
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
    base_url: str | None = None,
    refresh_s: float = 2.0,
) -> str:
    """The whole page: the panel, the patterns it draws with, and the refresh loop."""
    panel = render_panel(snapshot, settings=settings, base_url=base_url)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Class server: live view</title>
<link rel="icon" href="data:,">
<noscript><meta http-equiv="refresh" content="{max(1, round(refresh_s))}"></noscript>
<style>{_STYLE}</style></head>
<body>{_DEFS}
<h1>Class server: live view
<span class="sub" id="status">refreshes every {refresh_s:g} s</span></h1>
<main id="live" aria-live="off">{panel}</main>
<script>{_SCRIPT % round(refresh_s * 1000)}</script>
</body></html>
"""
