"""Lesson 06's harness: scoring, the sweet spot and a real run through the runner."""

from __future__ import annotations

import re
import time

import pytest

from course_utils import ScaledClock, Simulator
from course_utils.model_selection import (
    LabelledItem,
    ModelScore,
    answer_label,
    benchmark_models,
    load_reviews,
    score_model,
    scores_markdown,
    sweet_spot,
)
from course_utils.plots import model_selection_figure
from course_utils.results import Result

LABELS = ("positive", "negative", "mixed")
ITEMS = [LabelledItem("a", "Great.", "positive"), LabelledItem("b", "Broke.", "negative")]


def _result(rid: str, output: str | None, latency: float, ok: bool = True) -> Result:
    usage = {"input_tokens": 40, "output_tokens": 2, "reasoning_tokens": 1, "total_tokens": 42}
    return Result(
        id=rid, prompt="p", ok=ok, output=output if ok else None,
        error_type=None if ok else "server_error", message=None if ok else "boom",
        attempts=1, usage=usage if ok else None, latency_s=latency,
    )  # fmt: skip


def score(model: str, accuracy: float, cost: float, latency: float = 0.1) -> ModelScore:
    return ModelScore(model, 10, 0, accuracy, latency, latency, 40, 2, 0, cost)


@pytest.mark.parametrize(
    ("output", "label"),
    [("Negative.", "negative"), ("mixed", "mixed"), ("It is POSITIVE", "positive"), ("?", None)],
)
def test_answer_label_reads_the_first_label_named(output: str, label: str | None) -> None:
    assert answer_label(output, LABELS) == label


def test_score_model_counts_accuracy_latency_tokens_and_cost() -> None:
    results = [_result("a", "positive", 0.2), _result("b", "mixed", 0.4)]
    s = score_model("gpt-5.4-mini", ITEMS, results, LABELS)
    assert s.accuracy == 0.5 and s.failed == 0 and s.items == 2
    assert s.latency_median_s == pytest.approx(0.3) and s.latency_p95_s == 0.4
    assert (s.input_tokens, s.output_tokens, s.reasoning_tokens) == (40, 2, 1)
    assert s.cost_per_1000_usd == pytest.approx((40_000 * 0.75 + 2_000 * 4.5) / 1e6)


def test_a_failed_item_counts_as_wrong_and_a_missing_one_is_an_error() -> None:
    s = score_model(
        "gpt-5.4-mini",
        ITEMS,
        [_result("a", "positive", 0.1), _result("b", None, 0.1, ok=False)],
        LABELS,
    )
    assert s.accuracy == 0.5 and s.failed == 1
    with pytest.raises(ValueError, match="no result for item"):
        score_model("gpt-5.4-mini", ITEMS, [_result("a", "positive", 0.1)], LABELS)


def test_sweet_spot_is_the_cheapest_good_enough_model() -> None:
    scores = [score("big", 0.97, 0.13), score("mid", 0.93, 0.04), score("tiny", 0.75, 0.01)]
    assert sweet_spot(scores, 0.9).model == "mid"
    assert sweet_spot(scores, 0.95).model == "big"
    assert sweet_spot(scores, 0.99).model == "big"  # none clears the bar: the most accurate
    with pytest.raises(ValueError):
        sweet_spot([])


def test_benchmark_runs_each_model_through_the_runner_on_the_simulator() -> None:
    items = load_reviews()[:12]
    with Simulator() as sim:
        scores = benchmark_models(["gpt-5.4", "gpt-5.4-nano"], items, client=sim.client())
        arrived = [r for r in sim.requests if r.path == "/v1/responses"]
    assert [s.model for s in scores] == ["gpt-5.4", "gpt-5.4-nano"]
    assert len(arrived) == 2 * len(items)
    for s in scores:
        assert s.failed == 0 and s.items == 12 and 0 < s.accuracy <= 1 and s.input_tokens > 0
    table = scores_markdown(scores)
    assert "`gpt-5.4-nano`" in table and "cost per 1,000 items" in table
    # every dollar escaped, so JupyterLab shows it as text instead of pairing it into math
    assert table.count("\\$") == len(scores) and not re.search(r"(?<!\\)\$", table)
    fig = model_selection_figure(scores, chosen="gpt-5.4", min_accuracy=0.9)
    assert "ringed: gpt-5.4" in fig.axes[0].get_title()


def test_a_scaled_clock_reports_latency_in_simulated_seconds() -> None:
    """Lesson 06 runs a faster simulator and measures on a clock just as much faster, so the
    table still shows the models' full simulated latency (in fewer real seconds)."""
    items = load_reviews()[:4]
    with Simulator() as sim:
        started = time.monotonic()
        (score,) = benchmark_models(
            ["gpt-5.4-nano"], items, client=sim.client(), clock=ScaledClock(speed=1_000)
        )
        wall_s = time.monotonic() - started
    # each request took real time, so on a clock 1,000 times faster it outlasts the whole run
    assert score.failed == 0 and score.latency_median_s > wall_s


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"models": [], "items": ITEMS}, "at least one model"),
        ({"models": ["gpt-5.4"], "items": []}, "at least one labelled item"),
        ({"models": ["gpt-5.4"], "items": [LabelledItem("x", "t", "spam")]}, "not among labels"),
        ({"models": ["no-such-model"], "items": ITEMS}, "no-such-model"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(kwargs: dict, says: str) -> None:
    with Simulator() as sim, pytest.raises((ValueError, KeyError), match=says):
        benchmark_models(client=sim.client(), **kwargs)
