"""Simulated label classification, so lesson 06 can benchmark models on a checkable task.

A request such as "Classify the sentiment of this review as positive, negative or mixed. ...
Review: <text>" is answered with one label. The simulator finds the label with a small
sentiment lexicon (right on the course's shipped data set), then — seeded by the model and the
text, so the same request always gets the same answer — picks a wrong label at the model tier's
simulated error rate. These accuracies are a teaching device, clearly labelled as simulated in
lesson 06; live, the same harness measures the real models.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["SIMULATED_ACCURACY", "classify", "parse_classification"]

# Simulated share of right labels by catalogue tier (not a measurement of any real model).
SIMULATED_ACCURACY = {"large": 0.96, "small": 0.92, "nano": 0.8}
_DEFAULT_ACCURACY = 0.9

_ASK = re.compile(r"\bclassif(?:y|ication)\b", re.IGNORECASE)
_LABELS = re.compile(
    r"\b(?:as|into|labels?:?|one of:?|categories:?)\s+((?:[a-z][\w-]*\s*(?:,|/|\bor\b|\band\b)\s*)+"
    r"[a-z][\w-]*)",
    re.IGNORECASE,
)
_TEXT = re.compile(r"(?:review|text|message|ticket|input)\s*:\s*(.+)\Z", re.IGNORECASE | re.DOTALL)
_SPLIT = re.compile(r"\s*(?:,|/|\bor\b|\band\b)\s*", re.IGNORECASE)
_WORD = re.compile(r"[a-z]+")

_POS = (
    "love loved lovely great excellent perfect perfectly happy recommend fantastic best superb",
    "delicious beautiful reliable easy simple clear fast quick quiet comfortable sturdy solid",
    "nice good helpful fresh smooth bright fair value promised works",
)
_NEG = (
    "broke broken stopped terrible refund cracked nightmare slow noisy overheats regret crashes",
    "crashing useless faded rude poor missing split avoid stale damaged crackles disappointed",
    "disappointing leaks charged flimsy snapped waste dead cold rip apart bad badly smell",
)
_POSITIVE = frozenset(" ".join(_POS).split())
_NEGATIVE = frozenset(" ".join(_NEG).split())
# Words that point at a few common support-ticket labels, for learners' own tasks in lesson 06.
_LABEL_HINTS = {
    label: frozenset(words.split())
    for label, words in {
        "bug": "crash crashes crashed error broken fails failed freeze bug wrong",
        "feature": "add could would please support wish request option mode",
        "question": "how what where when why which can",
        "billing": "charge charged invoice refund payment price card",
    }.items()
}


def parse_classification(prompt: str) -> tuple[tuple[str, ...], str] | None:
    """(labels, text) when ``prompt`` asks to classify a text into named labels, else None."""
    if not _ASK.search(prompt):
        return None
    labels_match, text_match = _LABELS.search(prompt), _TEXT.search(prompt)
    if not labels_match or not text_match:
        return None
    labels = tuple(
        dict.fromkeys(w.lower() for w in _SPLIT.split(labels_match.group(1)) if w.strip())
    )
    text = text_match.group(1).strip()
    return (labels, text) if len(labels) >= 2 and text else None


def _lexicon_label(text: str, labels: tuple[str, ...]) -> str:
    words = set(_WORD.findall(text.lower()))
    pos, neg = bool(words & _POSITIVE), bool(words & _NEGATIVE)
    if set(labels) >= {"positive", "negative"}:
        if pos and neg and "mixed" in labels:
            return "mixed"
        if neg and not pos:
            return "negative"
        if pos and not neg:
            return "positive"
        return "mixed" if "mixed" in labels else ("negative" if neg else "positive")
    named = [label for label in labels if label in words]
    if named:
        return named[0]
    hits = {label: len(words & _LABEL_HINTS.get(label, frozenset())) for label in labels}
    if "?" in text and "question" in hits:
        hits["question"] += 1
    best = max(labels, key=lambda label: hits[label])
    return best if hits[best] else labels[0]


def classify(text: str, labels: tuple[str, ...], model: str, tier: str) -> str:
    """The simulated model's label: the lexicon's, or a seeded wrong one at the tier's rate."""
    right = _lexicon_label(text, labels)
    digest = hashlib.sha256(f"{model}\0{text}".encode()).digest()
    draw = int.from_bytes(digest[:8], "big") / 2**64
    if draw < SIMULATED_ACCURACY.get(tier, _DEFAULT_ACCURACY):
        return right
    others = [label for label in labels if label != right]
    return others[digest[8] % len(others)]
