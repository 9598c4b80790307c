"""The course's matplotlib figures: each returns a titled, labelled ``Figure`` and shows nothing.

Figures are built with ``matplotlib.figure.Figure`` (no pyplot state), so they work under any
backend, Agg included; a notebook displays one by leaving it as the cell's last value.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure

from .pricing import estimate_cost, list_models

__all__ = [
    "chunk_sizes_figure",
    "comparer_figure",
    "cost_per_1000_figure",
    "figure_png",
    "model_selection_figure",
]

_A_COLOUR, _B_COLOUR, _OVER_COLOUR = "#4C72B0", "#DD8452", "#C44E52"


def figure_png(fig: Figure) -> bytes:
    """The figure as PNG bytes (for widgets, files and tests)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def cost_per_1000_figure(
    input_tokens: int, output_tokens: int, models: Sequence[str] | None = None
) -> Figure:
    """Bar chart: USD per 1,000 requests of this size, for each catalogue model."""
    ids = list(models) if models is not None else [m.id for m in list_models()]
    if not ids:
        raise ValueError("models is empty: pass at least one model id, or None for all")
    costs = [estimate_cost(m, input_tokens, output_tokens) * 1000 for m in ids]
    fig = Figure(figsize=(8, 3.6))
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
    fig = Figure(figsize=(8, 3.4))
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
    fig = Figure(figsize=(6, 1.2 + 0.5 * len(labels)))
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
    fig = Figure(figsize=(8, 4.4))
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
