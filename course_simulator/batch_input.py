"""A batch's input file checked line by line, as the service checks it before running any.

Each line must be one JSON object with ``custom_id``, ``method`` (``POST``), the batch's ``url``
and a ``body`` naming a model; custom ids are unique and every line asks for the same model. A
file that breaks a rule fails the whole batch, with every problem listed (at most
``MAX_LISTED_ERRORS``), each naming its line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .batch_objects import problem

__all__ = ["MAX_LISTED_ERRORS", "InputLine", "validate_input"]

MAX_LISTED_ERRORS = 25  # errors.data lists at most this many problems of one input file


@dataclass
class InputLine:
    """One valid input line: where it came from, its id, and the request it holds."""

    number: int
    custom_id: str
    url: str
    body: dict[str, Any]


def validate_input(
    data: bytes, endpoint: str, max_requests: int
) -> tuple[list[InputLine], list[dict], str]:
    """Every line of the input file checked; (lines, problems, the file's one model)."""
    problems: list[dict] = []
    lines: list[InputLine] = []
    seen: dict[str, int] = {}
    model: str | None = None
    model_line = 0
    count = 0
    for number, text in _numbered_lines(data):
        count += 1
        if count > max_requests:
            problems.insert(
                0,
                problem(
                    "too_many_tasks",
                    f"The input file holds more than {max_requests:,} requests, the "
                    "most one batch takes. Split it into several batches.",
                ),
            )
            break
        found = _check_line(text, number, endpoint)
        if isinstance(found, dict):
            problems.append(found)
            continue
        line = found
        first = seen.get(line.custom_id)
        if first is not None:
            problems.append(
                problem(
                    "duplicate_custom_id",
                    f"The custom_id '{line.custom_id}' on line {number} is already used on "
                    f"line {first}; every custom_id in a batch must be unique.",
                    number,
                    "custom_id",
                )
            )
            continue
        seen[line.custom_id] = number
        line_model = line.body["model"]
        if model is None:
            model, model_line = line_model, number
        elif line_model != model:
            problems.append(
                problem(
                    "model_mismatch",
                    f"Line {number} asks for model '{line_model}' but line {model_line} for "
                    f"'{model}'; every request of a batch must use the same model.",
                    number,
                    "body.model",
                )
            )
            continue
        lines.append(line)
    if count == 0:
        problems.append(problem("empty_file", "The input file is empty: it holds no requests."))
    if len(problems) > MAX_LISTED_ERRORS:
        more = len(problems) - MAX_LISTED_ERRORS
        tail = problem("too_many_errors", f"... and {more:,} more problem(s) not listed.")
        problems = [*problems[:MAX_LISTED_ERRORS], tail]
    return lines, problems, model or ""


def _numbered_lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(line number, line) for each line; a final newline ends the last line, adds none."""
    number = 0
    start = 0
    size = len(data)
    while start < size:
        end = data.find(b"\n", start)
        if end < 0:
            end = size
        number += 1
        yield number, data[start:end].rstrip(b"\r")
        start = end + 1


def _check_line(text: bytes, number: int, endpoint: str) -> InputLine | dict:
    """One line as a ``InputLine``, or the problem that makes it unusable."""
    if not text.strip():
        return problem(
            "invalid_json_line",
            f"Line {number} is empty; every line must hold one request object.",
            number,
        )
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return problem(
            "invalid_json_line",
            f"Line {number} is not parseable as valid JSON.",
            number,
        )
    if not isinstance(data, dict):
        return problem(
            "invalid_json_line",
            f"Line {number} is a JSON {type(data).__name__}, not an object with custom_id, "
            "method, url and body.",
            number,
        )
    for name in ("custom_id", "method", "url", "body"):
        if data.get(name) in (None, ""):
            return problem(
                "missing_required_parameter",
                f"Line {number} has no '{name}'; each line needs custom_id, method, url and body.",
                number,
                name,
            )
    custom_id = data["custom_id"]
    if not isinstance(custom_id, str):
        return problem(
            "invalid_type",
            f"Line {number}: custom_id must be a string, got {json.dumps(custom_id)}.",
            number,
            "custom_id",
        )
    if data["method"] != "POST":
        return problem(
            "invalid_value",
            f"Line {number}: method must be 'POST', got {json.dumps(data['method'])}.",
            number,
            "method",
        )
    if data["url"] != endpoint:
        return problem(
            "url_mismatch",
            f"Line {number}: the url {json.dumps(data['url'])} does not match the batch's "
            f"endpoint '{endpoint}'; every line must use the endpoint the batch was created "
            "with.",
            number,
            "url",
        )
    body = data["body"]
    if not isinstance(body, dict):
        return problem(
            "invalid_type",
            f"Line {number}: body must be an object (the request's parameters), got "
            f"{type(body).__name__}.",
            number,
            "body",
        )
    if not isinstance(body.get("model"), str) or not body["model"]:
        return problem(
            "missing_required_parameter",
            f"Line {number}: body has no 'model'; every request must name its model.",
            number,
            "body.model",
        )
    if body.get("stream"):
        return problem(
            "invalid_value",
            f"Line {number}: a batch request cannot stream; remove 'stream'.",
            number,
            "body.stream",
        )
    return InputLine(number, custom_id, data["url"], body)
