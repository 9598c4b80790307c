"""The live view drawn: the panel redrawn every refresh, and the page around it.

``render_panel`` turns a ``LiveStats.snapshot()`` into an HTML fragment (the address learners
use, the grid of learners, the room's bars as inline SVG); ``render_page`` puts it in the page
shell, ``data/liveview.html`` (its style and the few lines of script that fetch the panel
again), kept as a file so the HTML, CSS and JavaScript read as themselves. Colours are the
Okabe-Ito colour-blind-safe palette, each with a pattern and its word, so no colour carries
meaning alone. The statuses and counts themselves live in ``liveview``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from importlib.resources import files
from string import Template
from typing import Any

from .liveview import NOT_LEARNER_LABELS, OUTCOME_LABELS, OUTCOMES, STATUS_LABELS, STATUSES

__all__ = ["render_page", "render_panel"]

# The page shell, a ``string.Template``: ``$panel``, ``$patterns`` (the SVG fills), ``$refresh_s``,
# ``$refresh_ms`` (the script's period) and ``$refresh_whole_s`` (the no-script reload).
_PAGE = Template(files("course_simulator").joinpath("data/liveview.html").read_text("utf-8"))

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
    for a server bound elsewhere (``class_address.learner_urls`` picks them)."""
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
    return _PAGE.substitute(
        panel=panel,
        patterns=_DEFS,
        refresh_s=f"{refresh_s:g}",
        refresh_ms=round(refresh_s * 1000),
        refresh_whole_s=max(1, round(refresh_s)),
    )
