"""The mini project's homework checks, proven both ways: each solution passes, each mistake fails
with the rule it breaks, and every rule is stated in the exercise's task."""

from __future__ import annotations

import json
import os
import random
import re
import time
from pathlib import Path
from typing import Any

import nbformat
import openai
import pytest

from course_checks import assert_fails, assert_passes
from course_checks.authoring import EXERCISES
from course_utils.errors import classify
from course_utils.pricing import DEFAULT_MODEL
from course_utils.results import Result
from course_utils.tokens import count_tokens, truncate_to_tokens

NOTEBOOK = "05_runner_homework.ipynb"
ROOT = Path(__file__).resolve().parents[1]
NAMES = ("save_results", "fit_prompt", "run_prompt_file")


@pytest.mark.parametrize("name", NAMES)
def test_the_reference_solution_passes(name, solution_from_notebook):
    assert_passes(name, solution_from_notebook(NOTEBOOK, name))


@pytest.mark.parametrize("name", NAMES)
def test_every_rule_is_stated_in_the_task_once_and_in_order(name):
    ex = EXERCISES[name]
    assert ex.rules and ex.solution_notebook == NOTEBOOK
    for folder in ("solutions", "exercises"):
        nb = nbformat.read(ROOT / folder / NOTEBOOK, as_version=4)
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        flat = re.sub(r"\s+", " ", text).lower()
        stated = [f"rule {n}: {title}".lower() for n, title in enumerate(ex.rules, 1)]
        positions = [flat.find(s) for s in stated]
        assert all(p >= 0 for p in positions), f"{folder}/{NOTEBOOK} misses a rule of {name}"
        assert positions == sorted(positions)
        assert all(flat.count(s) == 1 for s in stated)


def test_a_stub_is_not_started():
    def save_results(results, path):
        raise NotImplementedError("write it")

    assert_fails("save_results", save_results, status="not_started")


# --- save_results: wrong answers ----------------------------------------------------------------


def saves_repr(results, path):
    Path(path).write_text(repr(results), "utf-8")


def saves_escaped(results, path):
    tmp = Path(str(path) + ".tmp")
    tmp.write_text(json.dumps(results), "utf-8")
    os.replace(tmp, path)


def appends(results, path):
    with open(path, "a", encoding="utf-8") as handle:
        json.dump(results, handle, ensure_ascii=False)


def writes_in_place(results, path):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(results, handle, ensure_ascii=False)


def swallows_errors(results, path):
    tmp = Path(str(path) + ".tmp")
    try:
        tmp.write_text(json.dumps(results, ensure_ascii=False), "utf-8")
        os.replace(tmp, path)
    except TypeError:
        pass


@pytest.mark.parametrize(
    ("wrong", "rule", "says"),
    [
        (saves_repr, 1, "cannot read"),
        (saves_escaped, 2, "escape codes"),
        (appends, 3, "cannot read"),  # the second save adds a second list: not JSON any more
        (writes_in_place, 3, "failed half-way"),
        (swallows_errors, 3, "returned normally"),
    ],
)
def test_save_results_mistakes_fail_with_their_rule(wrong, rule, says):
    wrong.__name__ = "save_results"
    result = assert_fails("save_results", wrong, contains=says)
    assert result.rule == rule


# --- fit_prompt: wrong answers --------------------------------------------------------------------


def always_cuts(client, prompt, *, max_input_tokens, model=DEFAULT_MODEL):
    return truncate_to_tokens(prompt, 5, model)  # even a prompt that fits


def calls_for_short(client, prompt, *, max_input_tokens, model=DEFAULT_MODEL):
    client.responses.create(model=model, input="Is this short?", max_output_tokens=16)
    return truncate_to_tokens(prompt, max_input_tokens, model)


def cuts_characters(client, prompt, *, max_input_tokens, model=DEFAULT_MODEL):
    return prompt if count_tokens(prompt, model) <= max_input_tokens else prompt[:4000]


def cuts_mid_word(client, prompt, *, max_input_tokens, model=DEFAULT_MODEL):
    if count_tokens(prompt, model) <= max_input_tokens:
        return prompt
    cut = len(truncate_to_tokens(prompt, max_input_tokens - 10, model).rstrip())
    into_next_word = re.search(r"\s\w{2}(?=\w)", prompt[cut:])  # 2 letters into a longer word
    assert into_next_word is not None
    return prompt[: cut + into_next_word.end()]


def summarises_all_at_once(client, prompt, *, max_input_tokens, model=DEFAULT_MODEL):
    if count_tokens(prompt, model) <= max_input_tokens:
        return prompt
    response = client.responses.create(
        model=model, instructions="Summarise in 3 bullet points.", input=prompt,
        max_output_tokens=200,
    )  # fmt: skip
    return truncate_to_tokens(response.output_text, max_input_tokens, model)


def summarises_in_parts(client, prompt, *, max_input_tokens, model=DEFAULT_MODEL):
    """A correct answer of the other kind: summaries of chunks that each fit."""
    from course_utils.tokens import chunk_text

    if count_tokens(prompt, model) <= max_input_tokens:
        return prompt
    parts = chunk_text(prompt, max_input_tokens - 50, model)
    notes = [
        client.responses.create(
            model=model,
            instructions="Summarise in one sentence.",
            input=part,
            max_output_tokens=40,
        ).output_text
        for part in parts
    ]
    return truncate_to_tokens(" ".join(notes), max_input_tokens, model)


@pytest.mark.parametrize(
    ("wrong", "rule", "says"),
    [
        (always_cuts, 1, "changed a"),
        (calls_for_short, 1, "sent 1 request"),
        (cuts_characters, 2, "tokens for a budget of 400"),
        (cuts_mid_word, 3, "in the middle of the word"),
        (summarises_all_at_once, 4, "input tokens while fitting"),
    ],
)
def test_fit_prompt_mistakes_fail_with_their_rule(wrong, rule, says):
    wrong.__name__ = "fit_prompt"
    result = assert_fails("fit_prompt", wrong, contains=says)
    assert result.rule == rule


def test_fit_prompt_accepts_a_summary_made_in_parts():
    summarises_in_parts.__name__ = "fit_prompt"
    result = assert_passes("fit_prompt", summarises_in_parts)
    assert "summarised" in str(result)


# --- run_prompt_file: wrong answers ------------------------------------------------------------


def make_runner(
    *,
    skip_blank: bool = True,
    retry_if=lambda err: classify(err).retriable,
    ids_by_line: bool = True,
    exit_code=lambda failed: 1 if failed else 0,
    bad_input=lambda: 2,
):
    def run_prompt_file(client, path, output, *, max_retries=3, sleep=time.sleep):
        if not Path(path).exists():
            return bad_input()
        lines = Path(path).read_text("utf-8").splitlines()
        numbered = list(enumerate(lines, 1))
        if skip_blank:
            numbered = [(n, line.strip()) for n, line in numbered if line.strip()]
        if not any(line.strip() for _, line in numbered):
            return 2
        failed = 0
        with open(output, "w", encoding="utf-8") as out:
            for index, (number, prompt) in enumerate(numbered, 1):
                attempts = 0
                while True:
                    attempts += 1
                    try:
                        response = client.responses.create(
                            model=DEFAULT_MODEL, input=prompt, max_output_tokens=60
                        )
                        result = Result.from_response(
                            number if ids_by_line else index, prompt, response,
                            attempts=attempts, latency_s=0.0,
                        )  # fmt: skip
                    except openai.APIError as err:
                        if retry_if(err) and attempts <= max_retries:
                            sleep(0.5 + random.uniform(0, 0.5))
                            continue
                        result = Result.from_error(
                            number if ids_by_line else index, prompt, err, attempts=attempts,
                            latency_s=0.0,
                        )  # fmt: skip
                    break
                failed += not result.ok
                out.write(result.to_json() + "\n")
        return exit_code(failed)

    return run_prompt_file


def raises_when_missing() -> Any:
    raise FileNotFoundError("prompts.txt")


@pytest.mark.parametrize(
    ("wrong", "rule", "says"),
    [
        (make_runner(), None, None),  # the control: this one passes
        (make_runner(skip_blank=False), 1, "non-blank lines"),
        (make_runner(ids_by_line=False), 2, "line number"),
        (make_runner(retry_if=lambda err: True), 3, "a 400 is permanent"),
        (make_runner(retry_if=lambda err: False), 3, "a 500 is transient"),
        (make_runner(exit_code=lambda failed: 0), 4, "when one prompt failed"),
        (make_runner(bad_input=raises_when_missing), 4, "return 2 instead"),
    ],
)
def test_run_prompt_file_mistakes_fail_with_their_rule(wrong, rule, says):
    if rule is None:
        assert_passes("run_prompt_file", wrong)
        return
    result = assert_fails("run_prompt_file", wrong, contains=says)
    assert result.rule == rule
