"""Requests over time: simulated retrying clients (the RetryTimeline), measured request logs,
and the figures lesson 03 draws from both.

The logic (``simulate_retries``, ``events_from_log``, ``per_slot``, ``ceiling``) returns plain
data and is unit-tested; the ``*_figure`` functions only draw that data, each returning a
titled, labelled matplotlib ``Figure`` (no pyplot state, so any backend works, Agg included)
that draws itself as an image in Jupyter even when no backend is set up (``figure.CourseFigure``).

Colours are the Okabe-Ito palette, safe for the common colour-vision deficiencies, and every
outcome also has its own marker or hatch, so the figures read in greyscale too. Figures have a
white background of their own, so they stay readable in JupyterLab's dark theme.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

# matplotlib is imported by the figure functions only: the counting above them runs where it
# cannot load (a browser tab offline, which takes matplotlib from Pyodide's CDN)
if TYPE_CHECKING:
    from matplotlib.figure import Figure

from .backoff import Backoff
from .validate import whole

__all__ = [
    "Attempt",
    "Event",
    "RetryRun",
    "ceiling",
    "events_from_log",
    "outcome_counts",
    "per_slot",
    "requests_figure",
    "retry_timeline_figure",
    "simulate_retries",
    "throughput_ratio",
]


OK_COLOUR = "#0072B2"  # Okabe-Ito blue
REJECTED_COLOUR = "#D55E00"  # Okabe-Ito vermillion
LIMIT_COLOUR = "#000000"
TRACK_COLOUR = "#999999"
GENERATING_PATHS = ("/v1/responses", "/v1/chat/completions")


# --- simulated clients -------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """One request of one simulated client: when it reached the server and whether it passed."""

    client: int
    number: int  # 1 = the first try, 2 = the first retry, ...
    time_s: float
    ok: bool


@dataclass(frozen=True)
class RetryRun:
    """What ``simulate_retries`` saw: every attempt, in the order the server received them."""

    attempts: tuple[Attempt, ...]
    clients: int
    rate_per_s: float
    burst: int
    schedule: str
    max_retries: int

    @property
    def accepted(self) -> int:
        return sum(a.ok for a in self.attempts)

    @property
    def rejected(self) -> int:
        return len(self.attempts) - self.accepted

    @property
    def gave_up(self) -> int:
        """Clients whose every attempt was refused (their work is lost)."""
        return self.clients - self.accepted

    @property
    def finished_s(self) -> float:
        """When the last client that got through did (0 if none did)."""
        return max((a.time_s for a in self.attempts if a.ok), default=0.0)

    def busiest_slot(self, slot_s: float = 0.5) -> int:
        """The most requests that reached the server within one slot of ``slot_s`` seconds."""
        _, ok, bad = per_slot([a.time_s for a in self.attempts], [a.ok for a in self.attempts],
                              slot_s)  # fmt: skip
        return max((a + b for a, b in zip(ok, bad, strict=True)), default=0)

    def summary(self) -> str:
        """One sentence with the numbers and their units."""
        sent = len(self.attempts)
        lost = f", {self.gave_up} gave up" if self.gave_up else ", none gave up"
        return (
            f"{self.clients} clients sent {sent} requests: {self.rejected} rejected (429), "
            f"{self.accepted} served, the last at {self.finished_s:.1f} s{lost}."
        )


def simulate_retries(
    clients: int,
    schedule: Backoff,
    max_retries: int,
    *,
    rate_per_s: float = 4.0,
    burst: int = 4,
    seed: int = 0,
) -> RetryRun:
    """``clients`` all send at t = 0 to a server that serves ``rate_per_s`` (bursts of
    ``burst``); each refused client waits ``schedule`` and tries again, up to ``max_retries``.

    A pure, seeded event simulation (no network, no real time): the same arguments always give
    the same run. Each client has its own copy of the schedule; all draw from one ``seed``.
    """
    whole("clients", clients, low=1, high=1000)
    whole("max_retries", max_retries, low=0, high=50)
    whole("burst", burst, low=1, high=1000)
    if not isinstance(rate_per_s, int | float) or not 0 < rate_per_s < math.inf:
        raise ValueError(f"rate_per_s must be a number > 0, got {rate_per_s!r}")
    if not isinstance(schedule, Backoff):
        raise TypeError(
            f"schedule must be a course schedule such as exponential(), got {schedule!r}"
        )
    rng = random.Random(seed)
    chains = [schedule.fresh() for _ in range(clients)]
    queue: list[tuple[float, int, int, int]] = [(0.0, c, c, 1) for c in range(clients)]
    heapq.heapify(queue)
    order = clients  # tie-breaker: first come, first served
    level, stamp = float(burst), 0.0
    attempts: list[Attempt] = []
    while queue:
        when, _, client, number = heapq.heappop(queue)
        level = min(float(burst), level + (when - stamp) * rate_per_s)
        stamp = when
        ok = level >= 1.0
        if ok:
            level -= 1.0
        attempts.append(Attempt(client, number, when, ok))
        if not ok and number <= max_retries:
            wait = chains[client](number, rng)
            heapq.heappush(queue, (when + wait, order, client, number + 1))
            order += 1
    return RetryRun(tuple(attempts), clients, float(rate_per_s), burst, schedule.name, max_retries)


# --- measured request logs ---------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One request as the server logged it, timed from the first one in the log."""

    time_s: float
    status: int | None  # None: no response was sent (the connection was dropped)
    outcome: str

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def events_from_log(records: Iterable[Any], *, since: float | None = None) -> list[Event]:
    """The generating requests of ``sim.requests``, timed from ``since`` (or the first one)."""
    rows = [r for r in records if getattr(r, "path", None) in GENERATING_PATHS]
    if not rows:
        return []
    t0 = rows[0].time if since is None else since
    return [Event(r.time - t0, r.status, r.outcome) for r in rows]


def outcome_counts(events: Sequence[Event]) -> dict[str, int]:
    """``{"ok": n, "429": n, "other": n}`` over ``events``."""
    counts = {"ok": 0, "429": 0, "other": 0}
    for e in events:
        counts["ok" if e.ok else "429" if e.status == 429 else "other"] += 1
    return counts


def ceiling(rpm: int, seconds: float) -> float:
    """The most requests an ``rpm`` limit admits in ``seconds``: a full minute's bucket, then
    the refill (the simulator's buckets, and the service's, start full)."""
    if rpm <= 0:
        raise ValueError(f"rpm must be > 0, got {rpm!r}")
    return rpm + rpm / 60.0 * max(0.0, seconds)


def throughput_ratio(events: Sequence[Event], rpm: int) -> float:
    """Requests served / the most ``rpm`` allowed between the first and the last one served.

    1.0 is the ceiling. It measures pacing only when the work is bigger than one minute's
    bucket (otherwise everything fits in the burst and the ratio is just "how much work").
    """
    served = [e.time_s for e in events if e.ok]
    if not served:
        return 0.0
    return len(served) / ceiling(rpm, max(served) - min(served))


def per_slot(
    times: Sequence[float], ok: Sequence[bool], slot_s: float
) -> tuple[list[float], list[int], list[int]]:
    """Slot start times, and how many requests per slot were accepted and rejected."""
    if not slot_s > 0:
        raise ValueError(f"slot_s must be > 0, got {slot_s!r}")
    if len(times) != len(ok):
        raise ValueError("times and ok must have the same length")
    slots = int(max(times, default=0.0) // slot_s) + 1
    accepted, rejected = [0] * slots, [0] * slots
    for t, good in zip(times, ok, strict=True):
        i = int(max(0.0, t) // slot_s)
        if good:
            accepted[i] += 1
        else:
            rejected[i] += 1
    return [i * slot_s for i in range(slots)], accepted, rejected


# --- figures (drawing only) --------------------------------------------------------------------


def _slot_bars(ax: Any, times: Sequence[float], ok: Sequence[bool], slot_s: float) -> None:
    starts, accepted, rejected = per_slot(times, ok, slot_s)
    ax.bar(
        starts,
        accepted,
        width=slot_s,
        align="edge",
        color=OK_COLOUR,
        label="served",
        edgecolor="white",
        linewidth=0.5,
    )
    ax.bar(starts, rejected, width=slot_s, align="edge", bottom=accepted, color=REJECTED_COLOUR,
           hatch="///", edgecolor="white", linewidth=0.5, label="429 rejected")  # fmt: skip


def retry_timeline_figure(run: RetryRun, *, slot_s: float = 0.5, takeaway: str = "") -> Figure:
    """(a) each client's attempts on a timeline; (b) requests reaching the server per slot."""
    from matplotlib.ticker import MaxNLocator

    from .figure import (
        CourseFigure,  # here: a browser tab without matplotlib still imports this module
    )

    fig = CourseFigure(figsize=(9, 6.2), facecolor="white")
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    by_client: dict[int, list[Attempt]] = {}
    for a in run.attempts:
        by_client.setdefault(a.client, []).append(a)
    for client, tries in by_client.items():
        top.plot([a.time_s for a in tries], [client] * len(tries), color=TRACK_COLOUR, lw=0.8,
                 zorder=1)  # fmt: skip
    ok = [a for a in run.attempts if a.ok]
    bad = [a for a in run.attempts if not a.ok]
    top.scatter([a.time_s for a in ok], [a.client for a in ok], marker="o", s=36,
                color=OK_COLOUR, label="served", zorder=3)  # fmt: skip
    top.scatter([a.time_s for a in bad], [a.client for a in bad], marker="x", s=36,
                color=REJECTED_COLOUR, label="429 rejected", zorder=3)  # fmt: skip
    top.set_ylabel("client number")
    top.yaxis.set_major_locator(MaxNLocator(integer=True))
    top.set_ylim(-1, run.clients)
    top.invert_yaxis()
    top.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, fontsize=8, frameon=False)
    top.set_title(f"(a) each client's attempts: {run.schedule}", fontsize=10, loc="left")
    _slot_bars(bottom, [a.time_s for a in run.attempts], [a.ok for a in run.attempts], slot_s)
    per = run.rate_per_s * slot_s
    bottom.axhline(per, color=LIMIT_COLOUR, ls="--", lw=1,
                   label=f"server refill: {run.rate_per_s:g}/s = {per:g} per slot")  # fmt: skip
    bottom.set_xlabel("time since the first request (s)")
    bottom.set_ylabel(f"requests per {slot_s:g} s")
    bottom.set_title("(b) requests reaching the server", fontsize=10, loc="left")
    bottom.legend(loc="upper right", fontsize=8, framealpha=0.9)
    fig.suptitle(run.summary() + (f"\n{takeaway}" if takeaway else ""), fontsize=10)
    fig.tight_layout()
    return fig


def requests_figure(
    events: Sequence[Event],
    *,
    title: str,
    rpm: int | None = None,
    slot_s: float = 1.0,
    takeaway: str = "",
    time_unit: str = "s",
) -> Figure:
    """A measured run: requests per slot (served vs 429) and the running total of served
    requests against the limit's ceiling (``rpm`` given)."""
    if not events:
        raise ValueError("no requests in the log: send some first (sim.requests is empty)")
    from .figure import CourseFigure

    fig = CourseFigure(figsize=(9, 5.4), facecolor="white")
    top, bottom = fig.subplots(2, 1, sharex=True)
    times = [e.time_s for e in events]
    _slot_bars(top, times, [e.ok for e in events], slot_s)
    counts = outcome_counts(events)
    top.set_ylabel(f"requests per {slot_s:g} {time_unit}")
    top.set_title(f"{counts['ok']} served, {counts['429']} rejected (429)", fontsize=10,
                  loc="left")  # fmt: skip
    top.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, fontsize=8, frameon=False)
    served = sorted(e.time_s for e in events if e.ok)
    bottom.step(served, range(1, len(served) + 1), where="post", color=OK_COLOUR, lw=2,
                label="served so far")  # fmt: skip
    if rpm is not None and served:
        xs = [served[0], max(times)]
        limit = f"most the limit allows ({rpm} RPM, bucket starts full)"
        bottom.plot(xs, [ceiling(rpm, x - served[0]) for x in xs], color=LIMIT_COLOUR, ls="--",
                    lw=1, label=limit)  # fmt: skip
    bottom.set_xlabel(f"time since the first request ({time_unit})")
    bottom.set_ylabel("requests served")
    bottom.legend(loc="lower right", fontsize=8, framealpha=0.9)
    fig.suptitle(title + (f"\n{takeaway}" if takeaway else ""), fontsize=11)
    fig.tight_layout()
    return fig
