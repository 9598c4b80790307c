"""Exercise 6 (``build_input``) proven both ways: correct layouts pass, each seeded mistake
fails naming a rule its task states, and every rule is written in the task."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import nbformat
import pytest

import course_checks.caching as caching
from course_checks import EXERCISE_FAMILIES, assert_fails, assert_passes, authoring

ROOT = Path(__file__).resolve().parent.parent


def stable_string(static_context: str, question: str) -> str:
    return f"{static_context}\n\nQuestion: {question}"


def stable_messages(static_context: str, question: str) -> list[dict]:
    return [
        {"role": "developer", "content": static_context},
        {"role": "user", "content": question},
    ]


def timestamp_after_the_context(static_context: str, question: str) -> str:
    return f"{static_context}\n\nSent at {datetime.now().isoformat()}\nQuestion: {question}"


@pytest.mark.parametrize(
    "fn", [stable_string, stable_messages, timestamp_after_the_context], ids=lambda f: f.__name__
)
def test_correct_layouts_pass(fn: Any) -> None:
    result = assert_passes("build_input", fn)
    assert "from the cache" in str(result)


def test_the_solution_notebook_passes(solution_from_notebook: Any) -> None:
    assert_passes("build_input", solution_from_notebook("06_prompt_caching.ipynb", "build_input"))


def question_first(static_context: str, question: str) -> str:
    return f"Question: {question}\n\n{static_context}"


def question_message_first(static_context: str, question: str) -> list[dict]:
    return [{"role": "user", "content": question}, {"role": "developer", "content": static_context}]


def timestamp_first(static_context: str, question: str) -> str:
    return f"Current time: {datetime.now().isoformat()}\n\n{static_context}\n\n{question}"


def request_id_first(static_context: str, question: str) -> list[dict]:
    request_id = f"req-{abs(hash(question)) % 10**8}"
    return [
        {"role": "developer", "content": f"Request {request_id}.\n\n{static_context}"},
        {"role": "user", "content": question},
    ]


@pytest.mark.parametrize(
    ("fn", "rule", "words"),
    [
        (question_first, 3, "question comes before the static context"),
        (question_message_first, 3, "question comes before the static context"),
        (timestamp_first, 4, "changes from call to call"),
        (request_id_first, 4, "changes from call to call"),
        (lambda static_context, question: question, 2, "static context unchanged"),
        (lambda static_context, question: static_context[:-10] + question, 2, "unchanged"),
        (lambda static_context, question: static_context, 2, "does not contain it"),
        (lambda static_context, question: 42, 1, "non-empty string or a list of messages"),
        (lambda static_context, question: "   ", 1, "non-empty string"),
        (lambda static_context, question: [{"content": static_context}], 1, "'role'"),
        (lambda static_context, question: [{"role": "user", "content": {"x": 1}}], 1, "'role'"),
    ],
    ids=["question-first", "question-message-first", "timestamp-first", "request-id-first",
         "no-context", "context-cut", "no-question", "not-text", "blank", "no-role",
         "bad-content"],
)  # fmt: skip
def test_seeded_mistakes_fail_naming_a_stated_rule(fn: Any, rule: int, words: str) -> None:
    result = assert_fails("build_input", fn, rule=rule, hint_level=rule, contains=words)
    assert f"rule {rule}: {caching.RULES[rule - 1]}" in str(result)


def test_an_input_the_api_refuses_names_rule_1() -> None:
    def far_too_long(static_context: str, question: str) -> str:
        return f"{static_context}\n" * 250 + question  # past the model's context window

    result = assert_fails("build_input", far_too_long, rule=1, contains="API refused")
    assert "context" in str(result)


def test_not_started_and_crashes_are_reported() -> None:
    def build_input(static_context: str, question: str) -> str:
        raise NotImplementedError

    assert_fails("build_input", build_input, status="not_started")

    def crashing(static_context: str, question: str) -> str:
        return static_context + 1  # type: ignore[operator]

    assert_fails("build_input", crashing, status="crashed", contains="TypeError")


def test_the_family_is_registered() -> None:
    assert caching in EXERCISE_FAMILIES
    assert authoring.EXERCISES["build_input"].solution_notebook == "06_prompt_caching.ipynb"


@pytest.mark.parametrize("folder", ["solutions", "exercises"])
def test_every_rule_is_stated_once_in_order_in_the_task(folder: str) -> None:
    nb = nbformat.read(ROOT / folder / "06_prompt_caching.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    flat = re.sub(r"\s+", " ", text).lower()
    stated = [f"rule {n}: {title}".lower() for n, title in enumerate(caching.RULES, 1)]
    positions = [flat.find(s) for s in stated]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)
    assert all(flat.count(s) == 1 for s in stated)
    assert len(caching.HINTS) == len(caching.RULES)
