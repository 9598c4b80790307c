"""The build_batch_input check, proven both ways: the solution passes, each mistake fails
naming a rule its task states."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

from course_checks import assert_fails, assert_passes
from course_checks.authoring import EXERCISES
from course_checks.batch import RULES
from course_utils.pricing import DEFAULT_MODEL

NAME = "build_batch_input"
NOTEBOOK = "08_batch_input.ipynb"
ROOT = Path(__file__).resolve().parent.parent


def variant(
    *,
    row: Callable[[int, str, str, int], Any] | None = None,
    dump: Callable[[Any], str] = json.dumps,
    join: Callable[[list[str]], Any] = lambda lines: "\n".join(lines) + "\n",
) -> Callable[..., Any]:
    """A build_batch_input with one deliberate mistake switched on (the defaults are correct)."""

    def good(n: int, prompt: str, model: str, cap: int) -> dict:
        return {
            "custom_id": f"prompt-{n}",
            "method": "POST",
            "url": "/v1/responses",
            "body": {"model": model, "input": prompt, "max_output_tokens": cap},
        }

    make = row or good

    def build_batch_input(
        prompts: list[str], *, model: str = DEFAULT_MODEL, max_output_tokens: int = 100
    ) -> Any:
        rows = [make(n, p, model, max_output_tokens) for n, p in enumerate(prompts, 1)]
        return join([dump(r) for r in rows])

    return build_batch_input


def edit(**changes: Any) -> Callable[[int, str, str, int], dict]:
    """A row maker that changes some keys of the correct row (callables get the row number)."""

    def make(n: int, prompt: str, model: str, cap: int) -> dict:
        base: dict[str, Any] = {
            "custom_id": f"prompt-{n}",
            "method": "POST",
            "url": "/v1/responses",
            "body": {"model": model, "input": prompt, "max_output_tokens": cap},
        }
        for key, value in changes.items():
            base[key] = value(n, prompt, model, cap) if callable(value) else value
            if value is None:
                del base[key]
        return base

    return make


def f_string(row: dict) -> str:
    body = row["body"]
    return (
        f'{{"custom_id": "{row["custom_id"]}", "method": "POST", "url": "/v1/responses", '
        f'"body": {{"model": "{body["model"]}", "input": "{body["input"]}", '
        f'"max_output_tokens": {body["max_output_tokens"]}}}}}'
    )


def test_the_solution_passes(solution_from_notebook: Callable[[str, str], Any]) -> None:
    assert_passes(NAME, solution_from_notebook(NOTEBOOK, NAME))
    assert_passes(NAME, variant())


def test_a_stub_is_not_started() -> None:
    def build_batch_input(prompts: list[str], **kwargs: Any) -> str:
        raise NotImplementedError

    assert_fails(NAME, build_batch_input, status="not_started")


WRONG: dict[str, tuple[Callable[..., Any], int, str]] = {
    "a list of lines": (variant(join=lambda lines: lines), 1, "one str"),
    "the rows, not text": (variant(dump=lambda r: r, join=list), 1, "one str"),
    "an f-string breaks on a newline": (variant(dump=f_string), 1, "newline"),
    "blank lines between": (variant(join=lambda lines: "\n\n".join(lines)), 1, "blank"),
    "one line too few": (variant(join=lambda lines: "\n".join(lines[1:])), 1, "one line per"),
    "an int custom_id": (variant(row=edit(custom_id=lambda n, *_: n)), 2, "string"),
    "the same custom_id": (variant(row=edit(custom_id="prompt")), 2, "share"),
    "no method": (variant(row=edit(method=None)), 2, "method"),
    "a lower-case method": (variant(row=edit(method="post")), 2, "'POST'"),
    "the chat url": (variant(row=edit(url="/v1/chat/completions")), 2, "url"),
    "messages instead of input": (
        variant(row=edit(body=lambda n, p, m, c: {"model": m, "messages": [p]})),
        3,
        "input",
    ),
    "a fixed model": (
        variant(
            row=edit(
                body=lambda n, p, m, c: {"model": DEFAULT_MODEL, "input": p, "max_output_tokens": c}
            )
        ),
        3,
        "model",
    ),
    "no output cap": (
        variant(row=edit(body=lambda n, p, m, c: {"model": m, "input": p})),
        3,
        "max_output_tokens",
    ),
    "the prompt stripped": (
        variant(
            row=edit(
                body=lambda n, p, m, c: {
                    "model": m,
                    "input": p.split("\n")[0],
                    "max_output_tokens": c,
                }
            )
        ),
        3,
        "input",
    ),
}


@pytest.mark.parametrize("case", sorted(WRONG))
def test_each_mistake_fails_naming_its_rule(case: str) -> None:
    fn, rule, text = WRONG[case]
    result = assert_fails(NAME, fn, rule=rule, contains=text)
    assert f"rule {rule}: {RULES[rule - 1]}" in str(result)


def test_what_only_the_batch_api_finds_fails_rule_4() -> None:
    """A line the check's own reading accepts but the service refuses (a streaming body)."""

    def make(n: int, prompt: str, model: str, cap: int) -> dict:
        body = {"model": model, "input": prompt, "max_output_tokens": cap, "stream": True}
        return {"custom_id": f"p{n}", "method": "POST", "url": "/v1/responses", "body": body}

    result = assert_fails(NAME, variant(row=make), rule=4, contains="failed")
    assert "line 1" in str(result)


def test_each_rule_is_stated_once_in_order_in_both_notebooks() -> None:
    ex = EXERCISES[NAME]
    assert ex.rules == RULES and len(ex.hints) >= len(RULES)
    for folder in ("solutions", "exercises"):
        nb = nbformat.read(ROOT / folder / NOTEBOOK, as_version=4)
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        flat = re.sub(r"\s+", " ", text).lower()
        found = [flat.find(f"rule {n}: {t}".lower()) for n, t in enumerate(RULES, 1)]
        assert all(p >= 0 for p in found) and found == sorted(found), folder
        assert all(flat.count(f"rule {n}: {t}".lower()) == 1 for n, t in enumerate(RULES, 1))
