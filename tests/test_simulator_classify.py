"""Simulated classification: right on the shipped data, wrong at the tier's seeded rate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course_simulator.classify import (
    SIMULATED_ACCURACY,
    _lexicon_label,
    classify,
    parse_classification,
)

DATA = Path(__file__).resolve().parents[1] / "course_utils" / "data" / "reviews.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
LABELS = ("positive", "negative", "mixed")


def test_the_lexicon_labels_every_shipped_review_correctly() -> None:
    wrong = [r for r in ROWS if _lexicon_label(r["text"], LABELS) != r["label"]]
    assert not wrong, wrong


@pytest.mark.parametrize(
    ("prompt", "labels", "text"),
    [
        (
            "Classify the sentiment of this review as positive, negative or mixed. "
            "Reply with the label only.\n\nReview: It broke.",
            LABELS,
            "It broke.",
        ),
        (
            "Classify into bug / feature / question.\nTicket: the app crashes",
            ("bug", "feature", "question"),
            "the app crashes",
        ),
        ("Labels: spam, ham. Classify this.\nMessage: win a prize", ("spam", "ham"), "win a prize"),
    ],
)
def test_parse_classification_finds_labels_and_text(prompt, labels, text) -> None:
    assert parse_classification(prompt) == (labels, text)


@pytest.mark.parametrize(
    "prompt",
    ["Explain what an API is.", "Classify this please", "Classify as positive.\nReview: ok"],
)
def test_other_prompts_are_not_classification(prompt: str) -> None:
    assert parse_classification(prompt) is None


@pytest.mark.parametrize("tier", sorted(SIMULATED_ACCURACY))
def test_accuracy_follows_the_tier_and_is_deterministic(tier: str) -> None:
    texts = [f"{r['text']} (copy {i})" for i in range(20) for r in ROWS]
    right = sum(classify(t, LABELS, "m", tier) == _lexicon_label(t, LABELS) for t in texts)
    assert abs(right / len(texts) - SIMULATED_ACCURACY[tier]) < 0.03
    assert [classify(t, LABELS, "m", tier) for t in texts[:50]] == [
        classify(t, LABELS, "m", tier) for t in texts[:50]
    ]


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("The app crashes when I upload a photo.", "bug"),
        ("Could you add a dark mode?", "feature"),
        ("How do I export my data?", "question"),
    ],
)
def test_common_ticket_labels_are_recognised(text: str, label: str) -> None:
    assert _lexicon_label(text, ("bug", "feature", "question")) == label
