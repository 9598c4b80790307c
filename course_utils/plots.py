"""The course's matplotlib figures: each returns a titled, labelled ``Figure`` and shows nothing.

Figures are built without pyplot (no global state), so they work under any backend, Agg
included; a notebook displays one by leaving it as the cell's last value. A bare
``matplotlib.figure.Figure`` made that way shows as the text ``<Figure size ...>`` in a kernel
where pyplot was never imported (JupyterLab's default until ``%matplotlib inline`` runs), so
every figure here is a ``CourseFigure``, which knows how to draw itself as a PNG: one image,
shown once, whatever the kernel has or has not loaded (see ``figure``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.figure import Figure

from .figure import CourseFigure, figure_png
from .pricing import estimate_cost, get_model, list_models

__all__ = [
    "CourseFigure",
    "batch_decision_figure",
    "cache_layouts_figure",
    "chunk_sizes_figure",
    "comparer_figure",
    "cost_per_1000_figure",
    "figure_png",
    "model_selection_figure",
    "stream_timing_figure",
]

_A_COLOUR, _B_COLOUR, _OVER_COLOUR = "#4C72B0", "#DD8452", "#C44E52"
_CACHED_COLOUR = "#55A868"


def cost_per_1000_figure(
    input_tokens: int, output_tokens: int, models: Sequence[str] | None = None
) -> Figure:
    """Bar chart: USD per 1,000 requests of this size, for each catalogue model."""
    ids = list(models) if models is not None else [m.id for m in list_models()]
    if not ids:
        raise ValueError("models is empty: pass at least one model id, or None for all")
    costs = [estimate_cost(m, input_tokens, output_tokens) * 1000 for m in ids]
    fig = CourseFigure(figsize=(8, 3.6))
    ax = fig.add_subplot()
    bars = ax.bar(ids, costs, color=_A_COLOUR)
    ax.bar_label(bars, labels=[f"${c:.2f}" for c in costs], fontsize=8, padding=2)
    ax.set_title(
        f"Cost of 1,000 requests ({input_tokens:,} input + {output_tokens:,} output tokens each)"
    )
    ax.set_xlabel("model")
    ax.set_ylabel("cost per 1,000 requests (USD)")
    ax.tick_params(axis="x", labelrotation=30)
    ax.margins(y=0.15)
    fig.tight_layout()
    return fig


def chunk_sizes_figure(chunk_tokens: Sequence[int], budget_tokens: int) -> Figure:
    """Bar per chunk's request (input tokens) with the budget as a dashed line.

    Lesson 01 passes what the server billed for each chunk's whole request (instruction, chat
    wrapper and chunk), so a bar above the line is a request over budget.
    """
    if not chunk_tokens:
        raise ValueError("chunk_tokens is empty: chunk a non-empty text first")
    fig = CourseFigure(figsize=(8, 3.4))
    ax = fig.add_subplot()
    xs = range(1, len(chunk_tokens) + 1)
    colours = [_OVER_COLOUR if n > budget_tokens else _A_COLOUR for n in chunk_tokens]
    ax.bar(xs, chunk_tokens, color=colours)
    ax.axhline(budget_tokens, color="black", linestyle="--", label=f"budget: {budget_tokens:,}")
    ax.set_title(f"{len(chunk_tokens)} chunks against a {budget_tokens:,}-token budget")
    ax.set_xlabel("chunk number")
    ax.set_ylabel("input tokens per request")
    ax.set_ylim(0, max(max(chunk_tokens), budget_tokens) * 1.3)  # room for the legend
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


def comparer_figure(
    labels: Sequence[str], input_tokens: Sequence[int], output_tokens: Sequence[int]
) -> Figure:
    """Stacked horizontal bars: input and output tokens of each prompt (the comparer's chart)."""
    if not (len(labels) == len(input_tokens) == len(output_tokens)):
        raise ValueError("labels, input_tokens and output_tokens must have the same length")
    fig = CourseFigure(figsize=(6, 1.2 + 0.5 * len(labels)))
    ax = fig.add_subplot()
    ax.barh(labels, input_tokens, color=_A_COLOUR, label="input")
    ax.barh(labels, output_tokens, left=input_tokens, color=_B_COLOUR, label="output")
    for i, (n_in, n_out) in enumerate(zip(input_tokens, output_tokens, strict=True)):
        ax.text(n_in + n_out, i, f" {n_in + n_out:,}", va="center", fontsize=9)
    ax.set_title("Tokens per prompt (input + output)")
    ax.set_xlabel("tokens")
    ax.set_ylabel("prompt")
    ax.invert_yaxis()
    ax.margins(x=0.15)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def model_selection_figure(
    scores: Sequence[Any], chosen: str | None = None, min_accuracy: float | None = None
) -> Figure:
    """Cost per 1,000 items (x, log) against accuracy (y); marker area grows with latency.

    ``scores`` are ``model_selection.ModelScore`` rows; ``chosen`` names the sweet-spot model,
    drawn with a ring and named in the title; ``min_accuracy`` (0-1) draws the bar it had to clear.
    """
    if not scores:
        raise ValueError("scores is empty: benchmark at least one model first")
    fig = CourseFigure(figsize=(8, 4.4))
    ax = fig.add_subplot()
    slowest = max(s.latency_median_s for s in scores) or 1.0
    for s in scores:
        size = 60 + 540 * s.latency_median_s / slowest
        ax.scatter(s.cost_per_1000_usd, s.accuracy * 100, s=size, color=_A_COLOUR, alpha=0.6)
        ax.annotate(
            f"{s.model}\n{s.latency_median_s * 1000:.0f} ms",
            (s.cost_per_1000_usd, s.accuracy * 100),
            textcoords="offset points", xytext=(8, 6), fontsize=8,
        )  # fmt: skip
        if s.model == chosen:
            ax.scatter(
                s.cost_per_1000_usd, s.accuracy * 100, s=size * 1.9, facecolors="none",
                edgecolors=_OVER_COLOUR, linewidths=2,
            )  # fmt: skip
    if min_accuracy is not None:
        ax.axhline(min_accuracy * 100, color="grey", linestyle="--", linewidth=1)
        ax.annotate(
            f"accuracy bar {min_accuracy:.0%}", (0.01, min_accuracy * 100),
            xycoords=("axes fraction", "data"), xytext=(0, 4), textcoords="offset points",
            fontsize=8, color="grey",
        )  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlabel("cost per 1,000 items (USD, log scale)")
    ax.set_ylabel("accuracy on the labelled items (%)")
    title = "Accuracy vs cost (marker size: median latency)"
    ax.set_title(title + (f"; ringed: {chosen}" if chosen else ""))
    ax.margins(x=0.25, y=0.12)
    fig.tight_layout()
    return fig


def batch_decision_figure(
    rpm: int,
    tpm: int,
    tokens_per_request: int,
    *,
    window_h: float = 24.0,
    job: tuple[int, float] | None = None,
) -> Figure:
    """Online or Batch API? A map of job size (x) against how long the answers may take (y).

    Online at the ceiling ``min(RPM, TPM / tokens per request)`` a job of N requests needs
    N / ceiling minutes (the dashed line). Where the answers may wait the batch window
    (``window_h``, 24 h), the Batch API does it at half the price with no 429s; below that,
    online works only under the dashed line; above it and under the window, neither does as it
    stands. ``job`` = (requests, hours you can wait) marks one job.
    """
    import numpy as np
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    for name, value in (("rpm", rpm), ("tpm", tpm), ("tokens_per_request", tokens_per_request)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a whole number > 0, got {value!r}")
    per_hour = 60 * min(rpm, tpm / tokens_per_request)
    sizes = np.logspace(1, 7, 240)
    waits = np.logspace(np.log10(1 / 60), np.log10(24 * 7), 240)  # 1 minute to a week
    online_h = sizes / per_hour
    grid_n, grid_d = np.meshgrid(sizes, waits)
    region = np.where(grid_d >= window_h, 2, np.where(grid_n / per_hour <= grid_d, 1, 0))
    colours = ("#E9B8B8", "#BFD3EA", "#BFE3C6")  # neither as is, online, batch
    fig = CourseFigure(figsize=(8.5, 4.8))
    ax = fig.add_subplot()
    ax.pcolormesh(grid_n, grid_d, region, cmap=ListedColormap(colours), vmin=0, vmax=2)
    ax.plot(sizes, online_h, "--", color=_A_COLOUR, linewidth=1.5)
    ax.axhline(window_h, color="#2E7D32", linewidth=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(waits[0], waits[-1])
    ax.set_xlabel("requests in the job (log scale)")
    ax.set_ylabel("how long the answers may take (hours, log scale)")
    ax.set_title(
        f"Can the answers wait {window_h:g} h? Batch: half price, no 429s. "
        "Sooner: online, if the limits allow",
        fontsize=10,
    )
    if job is not None:
        n, hours = job
        ax.scatter([n], [hours], marker="*", s=220, color="black", zorder=3)
        ax.annotate(
            f"your job: {n:,} requests, {hours:g} h", (n, hours), textcoords="offset points",
            xytext=(8, 6), fontsize=8,
        )  # fmt: skip
    ax.legend(
        handles=[
            Patch(color=colours[2], label=f"Batch API (within {window_h:g} h, half price)"),
            Patch(color=colours[1], label="online, paced at the limit"),
            Patch(color=colours[0], label="neither as is: raise the limits or start earlier"),
            ax.lines[0],
        ],
        labels=[
            f"Batch API (within {window_h:g} h, half price)",
            "online, paced at the limit",
            "neither as is: raise the limits or start earlier",
            f"online time at {rpm:,} RPM / {tpm:,} TPM",
        ],
        loc="lower right",
        fontsize=8,
    )
    fig.tight_layout()
    return fig


def cache_layouts_figure(runs: Mapping[str, Sequence[Any]]) -> Figure:
    """Prompt caching by layout: cached tokens per request (left), cost per 1,000 (right).

    ``runs`` maps a layout's name to its measured ``prompting.PromptRun`` records, in the order
    they were sent. The cost bars split into fresh input, cached input and output, each priced
    from the catalogue (cached input at its cached price).
    """
    if not runs or not all(runs.values()):
        raise ValueError("runs is empty: measure at least one request per layout")
    fig = CourseFigure(figsize=(10, 3.8))
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    names = list(runs)
    width = 0.8 / len(names)
    colours = [_CACHED_COLOUR, _A_COLOUR, _B_COLOUR, _OVER_COLOUR]
    for k, name in enumerate(names):
        xs = [i + 1 + (k - (len(names) - 1) / 2) * width for i in range(len(runs[name]))]
        cached = [r.cached_tokens for r in runs[name]]
        left.bar(xs, cached, width=width, color=colours[k % len(colours)], label=name)
    inputs = [r.input_tokens for r in next(iter(runs.values()))]
    left.plot(range(1, len(inputs) + 1), inputs, "k--", linewidth=1, label="input tokens")
    left.set_title("Input tokens served from the prompt cache")
    left.set_xlabel("request number")
    left.set_ylabel("cached tokens")
    left.set_ylim(0, max(inputs) * 1.35)
    left.legend(loc="upper left", fontsize=8, ncols=2)
    parts: dict[str, list[float]] = {"fresh input": [], "cached input": [], "output": []}
    for name in names:
        rs = runs[name]
        model = get_model(rs[0].model)
        n = len(rs)
        fresh = sum(r.input_tokens - r.cached_tokens for r in rs) / n * model.input
        cached = sum(r.cached_tokens for r in rs) / n * model.cached_input
        out = sum(r.output_tokens for r in rs) / n * model.output
        for part, usd in zip(parts, (fresh, cached, out), strict=True):
            parts[part].append(usd / 1000)  # per 1M tokens -> USD per 1,000 requests
    bottom = [0.0] * len(names)
    for (part, values), colour in zip(parts.items(), (_A_COLOUR, _CACHED_COLOUR, _B_COLOUR),
                                      strict=True):  # fmt: skip
        right.bar(names, values, bottom=bottom, color=colour, label=part)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    for i, total in enumerate(bottom):
        right.text(i, total, f"${total:.2f}", ha="center", va="bottom", fontsize=9)
    right.set_title(f"Cost per 1,000 requests ({rs[0].model})")
    right.set_xlabel("layout")
    right.set_ylabel("USD per 1,000 requests")
    right.set_ylim(0, max(bottom) * 1.2)
    right.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def stream_timing_figure(
    labels: Sequence[str], first_token_s: Sequence[float], total_s: Sequence[float]
) -> Figure:
    """One bar per request: waiting (until the first token) then text arriving (until done).

    A non-streamed request shows nothing until it is complete, so pass its total as its first
    token too: its whole bar is waiting.
    """
    if not (len(labels) == len(first_token_s) == len(total_s)) or not labels:
        raise ValueError("labels, first_token_s and total_s must be non-empty and equally long")
    fig = CourseFigure(figsize=(8, 1.4 + 0.55 * len(labels)))
    ax = fig.add_subplot()
    ms_first = [1000 * f for f in first_token_s]
    ms_rest = [1000 * (t - f) for f, t in zip(first_token_s, total_s, strict=True)]
    ax.barh(labels, ms_first, color=_OVER_COLOUR, label="waiting: nothing on screen")
    ax.barh(labels, ms_rest, left=ms_first, color=_A_COLOUR, label="text arriving")
    for i, (first, rest) in enumerate(zip(ms_first, ms_rest, strict=True)):
        ax.text(first + rest, i, f" first text {first:,.0f} ms · done {first + rest:,.0f} ms",
                va="center", fontsize=8)  # fmt: skip
    ax.set_title("Time to first token vs total time")
    ax.set_xlabel("milliseconds after sending")
    ax.set_ylabel("request")
    ax.invert_yaxis()
    ax.margins(x=0.45)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.32), ncols=2, fontsize=8)
    fig.tight_layout()
    return fig
