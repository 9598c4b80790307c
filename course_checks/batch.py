"""Exercise 8, ``build_batch_input``: a list of prompts as a valid Batch API input file.

The learner's function returns the file's text. The check reads it line by line against the
task's rules, then validates it for real: it uploads the text to its own simulator, creates a
batch over it and waits for the batch to end, so "valid" means what the Batch API accepts.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from typing import Any

from .authoring import (
    CourseBug,
    Incorrect,
    check_client,
    check_simulator,
    exercise,
    run_learner,
    shown,
)

__all__ = ["HINTS", "RULES", "check_build_batch_input"]

NAME = "build_batch_input"
URL = "/v1/responses"
# Prompts with what naive string formatting breaks: quotes, a backslash, a newline, non-ASCII.
PROMPTS = [
    "Explain tokens in one sentence.",
    'What does "rate limit" mean? Answer in 20 words.',
    "Name two causes of a 429 error.\nAnswer as a list.",
    "Résumé the Batch API in one line; use a backslash \\ once.",
]
MODEL = "gpt-4.1-mini"  # not the default: the file must use the model it is given
CAP = 80
BATCH_TIME_SCALE = 1e6  # the check's batch runs a "24h" window in under a tenth of a second
WAIT_S = 20.0

RULES = (
    "return the file's text, one JSON object per line",
    "give each line a unique custom_id, method POST and the url",
    "put the request in body",
    "the batch runs",
)
HINTS = (
    "Build one dict per prompt and turn each into one line with `json.dumps(row)` (never an "
    "f-string: a quote or a newline inside a prompt would break the JSON). Join the lines with "
    '`"\\n"` and end with one `"\\n"`; return that string, with no blank line in between.',
    'Each dict has four keys: `"custom_id"` (a string, different for every prompt, e.g. '
    '`f"prompt-{n}"`), `"method": "POST"` and `"url": "/v1/responses"` (the endpoint the '
    'batch runs), and `"body"`.',
    '`"body"` is exactly what you would pass to `client.responses.create(...)`: `{"model": '
    'model, "input": prompt, "max_output_tokens": max_output_tokens}`, using the arguments '
    "your function was given and the prompt text unchanged.",
    "The Batch API refused or did not finish the file: read the message it gave (it names the "
    "line) and compare that line with rules 1-3. Every line must parse on its own.",
)


def _lines(name: str, text: object) -> list[dict[str, Any]]:
    """Rule 1: a str of JSON objects, one per prompt, no blank line between them."""
    if not isinstance(text, str):
        tip = " (join the lines into one string)" if isinstance(text, list | tuple) else ""
        raise Incorrect(
            f"`{name}` returned {type(text).__name__} {shown(text, 40)}; it should return the "
            f"file's text as one str{tip}.",
            rule=1,
        )
    lines = text.removesuffix("\n").split("\n")
    if len(lines) != len(PROMPTS) or any(not line.strip() for line in lines):
        blank = sum(1 for line in lines if not line.strip())
        raise Incorrect(
            f"For {len(PROMPTS)} prompts the text has {len(lines)} line(s)"
            + (f", {blank} of them blank" if blank else "")
            + "; it needs exactly one line per prompt and no blank lines"
            + (
                " (a newline inside a prompt must stay escaped inside its JSON line)."
                if len(lines) > len(PROMPTS) and not blank
                else "."
            ),
            rule=1,
        )
    rows = []
    for number, line in enumerate(lines, 1):
        try:
            row = json.loads(line)
        except ValueError as err:
            raise Incorrect(
                f"Line {number} is not valid JSON ({err.args[0][:60]}): {shown(line, 50)}.",
                rule=1,
            ) from None
        if not isinstance(row, dict):
            raise Incorrect(
                f"Line {number} is a JSON {type(row).__name__}, not an object: {shown(row, 40)}.",
                rule=1,
            )
        rows.append(row)
    return rows


def _envelope(rows: list[dict[str, Any]]) -> None:
    """Rule 2: custom_id (unique str), method and url on every line."""
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, 1):
        cid = row.get("custom_id")
        if not isinstance(cid, str) or not cid:
            raise Incorrect(
                f"Line {number} has custom_id={shown(cid, 30)}; it must be a non-empty string.",
                rule=2,
            )
        if cid in seen:
            raise Incorrect(
                f"Lines {seen[cid]} and {number} share the custom_id {cid!r}; each line needs "
                "its own, or the answers cannot be matched to their prompts.",
                rule=2,
            )
        seen[cid] = number
        if row.get("method") != "POST":
            raise Incorrect(
                f"Line {number} has method={shown(row.get('method'), 30)}; it must be 'POST'.",
                rule=2,
            )
        if row.get("url") != URL:
            raise Incorrect(
                f"Line {number} has url={shown(row.get('url'), 40)}; it must be {URL!r}.",
                rule=2,
            )


def _bodies(rows: list[dict[str, Any]]) -> None:
    """Rule 3: body holds model, the prompt as input, and the cap, as given."""
    for number, (row, prompt) in enumerate(zip(rows, PROMPTS, strict=True), 1):
        body = row.get("body")
        if not isinstance(body, dict):
            raise Incorrect(
                f"Line {number} has body={shown(body, 40)}; it must be an object holding the "
                "request.",
                rule=3,
            )
        expected = {"model": MODEL, "input": prompt, "max_output_tokens": CAP}
        for key, want in expected.items():
            if body.get(key) != want:
                raise Incorrect(
                    f"Line {number}'s body has {key}={shown(body.get(key), 40)}; the check "
                    f"called your function with model={MODEL!r}, max_output_tokens={CAP} and "
                    f"the prompt {shown(prompt, 40)} for that line.",
                    rule=3,
                )


def _run_batch(text: str) -> dict[str, Any]:
    """Upload the text to a fresh simulator, run a batch over it; the ended batch as a dict."""
    with check_simulator(batch_time_scale=BATCH_TIME_SCALE) as sim:
        client = check_client(sim)
        try:
            upload = client.files.create(
                file=("requests.jsonl", io.BytesIO(text.encode("utf-8"))), purpose="batch"
            )
            batch = client.batches.create(
                input_file_id=upload.id, endpoint="/v1/responses", completion_window="24h"
            )
            deadline = time.monotonic() + WAIT_S
            while batch.status not in ("completed", "failed", "expired", "cancelled"):
                if time.monotonic() > deadline:
                    raise CourseBug(f"the check's batch did not end within {WAIT_S:g} s")
                time.sleep(0.01)
                batch = client.batches.retrieve(batch.id)
            answered = []
            if batch.output_file_id:
                content = client.files.content(batch.output_file_id).text
                answered = [json.loads(line)["custom_id"] for line in content.splitlines()]
            errors = batch.errors.data if batch.errors and batch.errors.data else []
            return {"status": batch.status, "answered": answered, "errors": errors}
        finally:
            client.close()


@exercise(NAME, rules=RULES, hints=HINTS, solution_notebook="08_batch_input.ipynb")
def check_build_batch_input(fn: Callable[..., Any]) -> str:
    """Judge the text line by line, then run it as a real batch on a check simulator."""
    run = run_learner(fn, list(PROMPTS), model=MODEL, max_output_tokens=CAP)
    run.raise_unexpected()
    rows = _lines(run.fn_name, run.value)
    _envelope(rows)
    _bodies(rows)
    outcome = _run_batch(run.value)
    if outcome["status"] != "completed":
        first = outcome["errors"][0] if outcome["errors"] else None
        said = (
            f" It said: {first.code} on line {first.line}: {first.message}"
            if first is not None
            else ""
        )
        raise Incorrect(f"The Batch API ended the batch {outcome['status']}.{said}", rule=4)
    wanted = [row["custom_id"] for row in rows]
    if sorted(outcome["answered"]) != sorted(wanted):
        raise Incorrect(
            f"The batch answered {len(outcome['answered'])} of {len(wanted)} lines.", rule=4
        )
    return (
        f"The Batch API accepted the file and answered all {len(wanted)} prompts, each under "
        "its own custom_id."
    )
