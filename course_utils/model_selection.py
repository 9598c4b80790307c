"""Choose a model by measuring it: one labelled task, several models, latency, cost, accuracy.

``benchmark_models`` sends every item to every model through the mini project's runner (so
pacing, retries and one ``Result`` per item come for free) and scores each model: median and
p95 latency, tokens per item (hidden reasoning tokens included), cost per 1,000 items at
catalogue prices, and accuracy against the labels. ``sweet_spot`` then picks the cheapest model
that is accurate enough — the smartest model is not always the right engineering choice.

On the simulator the accuracies are *simulated* (a seeded error rate per model tier, see
``course_simulator.classify``) and latencies are scaled down; live, the same code measures
the real models on your task and labels.
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from .pricing import estimate_cost, get_model
from .prompting import lowest_effort
from .results import Result

if TYPE_CHECKING:
    from .ratelimit_extras import ScaledClock

__all__ = [
    "SENTIMENT_INSTRUCTIONS",
    "SENTIMENT_LABELS",
    "LabelledItem",
    "ModelScore",
    "benchmark_models",
    "load_reviews",
    "score_model",
    "scores_markdown",
    "sweet_spot",
]

SENTIMENT_LABELS = ("positive", "negative", "mixed")
SENTIMENT_INSTRUCTIONS = (
    "Classify the sentiment of the review as positive, negative or mixed. "
    "Reply with the label only."
)
# Room for a one-word label plus, on reasoning models, the reasoning at the lowest effort.
DEFAULT_MAX_OUTPUT_TOKENS = 400
_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class LabelledItem:
    """One text to classify and the label a correct answer gives."""

    id: str
    text: str
    label: str


@dataclass(frozen=True)
class ModelScore:
    """One model's results on the task (per-item figures are means over the items)."""

    model: str
    items: int
    failed: int
    accuracy: float  # share of all items answered with the right label (a failure is wrong)
    latency_median_s: float
    latency_p95_s: float
    input_tokens: float
    output_tokens: float  # visible answer + hidden reasoning, as billed
    reasoning_tokens: float
    cost_per_1000_usd: float


def load_reviews() -> list[LabelledItem]:
    """The course's labelled data set: 48 short product reviews (positive/negative/mixed)."""
    text = resources.files("course_utils").joinpath("data/reviews.jsonl").read_text("utf-8")
    return [LabelledItem(**json.loads(line)) for line in text.splitlines() if line.strip()]


def answer_label(output: str | None, labels: Sequence[str]) -> str | None:
    """The first of ``labels`` the answer names ("Negative." -> "negative"), else None."""
    words = _WORD.findall((output or "").lower())
    wanted = {label.lower(): label for label in labels}
    return next((wanted[w] for w in words if w in wanted), None)


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def score_model(
    model: str, items: Sequence[LabelledItem], results: Iterable[Result], labels: Sequence[str]
) -> ModelScore:
    """Score one model's ``Result`` records against the items' labels."""
    by_id = {str(r.id): r for r in results}
    missing = [item.id for item in items if item.id not in by_id]
    if missing:
        raise ValueError(f"{model}: no result for item(s) {', '.join(missing[:5])}")
    done = [by_id[item.id] for item in items]
    ok = [r for r in done if r.ok]
    right = sum(
        1 for item, r in zip(items, done, strict=True) if r.ok and answer_label(r.output, labels)
        == item.label
    )  # fmt: skip

    def mean_usage(key: str) -> float:
        return statistics.fmean((r.usage or {}).get(key, 0) for r in ok) if ok else 0.0

    inp, out = mean_usage("input_tokens"), mean_usage("output_tokens")
    latencies = [r.latency_s for r in ok]
    return ModelScore(
        model=model,
        items=len(items),
        failed=len(done) - len(ok),
        accuracy=right / len(items) if items else 0.0,
        latency_median_s=statistics.median(latencies) if latencies else 0.0,
        latency_p95_s=_percentile(latencies, 0.95),
        input_tokens=inp,
        output_tokens=out,
        reasoning_tokens=mean_usage("reasoning_tokens"),
        cost_per_1000_usd=estimate_cost(model, round(inp * 1000), round(out * 1000)),
    )


def benchmark_models(
    models: Sequence[str],
    items: Sequence[LabelledItem] | None = None,
    *,
    instructions: str = SENTIMENT_INSTRUCTIONS,
    labels: Sequence[str] = SENTIMENT_LABELS,
    client: Any = None,
    max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS,
    concurrency: int = 8,
    clock: ScaledClock | None = None,
) -> list[ModelScore]:
    """Run the labelled task on each model (through the runner) and score each one.

    Reasoning models run at their lowest effort, so a short label is not lost to hidden
    reasoning. Bring your own task with ``items`` (``LabelledItem``s), ``instructions`` and
    ``labels``; the defaults are the course's review data set. ``clock`` (a ``ScaledClock``)
    measures latency in simulated seconds: pair ``speed=4`` with a simulator at
    ``latency_scale=0.25`` and the benchmark runs 4 times faster yet reports the models'
    full simulated latency.
    """
    from .runner import run_prompts

    items = load_reviews() if items is None else list(items)
    if not items:
        raise ValueError("benchmark_models needs at least one labelled item")
    if not models:
        raise ValueError("benchmark_models needs at least one model id")
    unknown = sorted({i.label for i in items} - set(labels))
    if unknown:
        raise ValueError(f"item labels {unknown} are not among labels {list(labels)}")
    scores = []
    for model in models:
        get_model(model)  # an unknown id fails here, clearly, before anything is sent
        effort = lowest_effort(model)
        extra = {"reasoning": {"effort": effort}} if effort else {}
        prompts = [
            {"id": i.id, "prompt": f"Review: {i.text}", "instructions": instructions, **extra}
            for i in items
        ]
        summary = run_prompts(
            prompts,
            client=client,
            model=model,
            concurrency=concurrency,
            max_output_tokens=max_output_tokens,
            progress=False,
            clock=clock,
        )
        scores.append(score_model(model, items, summary.results or [], labels))
    return scores


def sweet_spot(scores: Sequence[ModelScore], min_accuracy: float = 0.9) -> ModelScore:
    """The cheapest model at or above ``min_accuracy`` (ties: the faster), else the best one."""
    if not scores:
        raise ValueError("sweet_spot needs at least one score")
    good = [s for s in scores if s.accuracy >= min_accuracy]
    if not good:
        return max(scores, key=lambda s: (s.accuracy, -s.cost_per_1000_usd))
    return min(good, key=lambda s: (s.cost_per_1000_usd, s.latency_median_s))


def scores_markdown(scores: Sequence[ModelScore]) -> str:
    """The scores as a Markdown table (for ``display(Markdown(...))``).

    Dollar signs are escaped (``\\$``): JupyterLab pairs bare ``$`` signs, across rows too, and
    typesets the text between them as math, which swallows whole rows of the table.
    """
    head = (
        "| model | accuracy | latency p50 / p95 | tokens in / out (reasoning) | "
        "cost per 1,000 items |\n|---|---|---|---|---|\n"
    )
    rows = [
        f"| `{s.model}` | {s.accuracy:.0%}{f' ({s.failed} failed)' if s.failed else ''} | "
        f"{s.latency_median_s * 1000:.0f} / {s.latency_p95_s * 1000:.0f} ms | "
        f"{s.input_tokens:.0f} / {s.output_tokens:.0f} ({s.reasoning_tokens:.0f}) | "
        f"\\${s.cost_per_1000_usd:.4f} |"
        for s in scores
    ]
    return head + "\n".join(rows)
