"""The retry-timestamps homework check, proven both ways: it reads the log records written."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import openai
import pytest

from course_checks import assert_fails, assert_passes
from course_checks.retry import TIMESTAMP_RULES
from course_utils.errors import classify
from course_utils.pricing import DEFAULT_MODEL

NAME = "generate_with_timestamps"
log = logging.getLogger("tests.retry_timestamps")


def make_variant(
    stamp: Callable[[], str] = lambda: datetime.now().isoformat(timespec="milliseconds"),
    *,
    lines_per_retry: int = 1,
    returns: bool = True,
) -> Callable[..., Any]:
    """A timestamped retry wrapper with one mistake switched on (the defaults are correct)."""

    def generate_with_timestamps(
        client: openai.OpenAI,
        prompt: str,
        *,
        max_retries: int = 4,
        sleep: Callable[[float], Any] = time.sleep,
        model: str = DEFAULT_MODEL,
        max_output_tokens: int = 100,
    ) -> Any:
        for attempt in range(max_retries + 1):
            try:
                r = client.responses.create(
                    model=model, input=prompt, max_output_tokens=max_output_tokens
                )
                return r.output_text if returns else None
            except openai.APIError as err:
                if not classify(err).retriable or attempt == max_retries:
                    raise
                for _ in range(lines_per_retry):
                    log.warning("%s retry %d", stamp(), attempt + 1)
                sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")

    return generate_with_timestamps


def _backwards() -> Callable[[], str]:
    times: Iterator[str] = itertools.cycle(["23:59:59", "00:00:01"])
    return lambda: next(times)


def test_solution_notebook_passes(solution_from_notebook) -> None:
    assert_passes(NAME, solution_from_notebook("02_retry_wrapper.ipynb", NAME))


def test_a_correct_variant_passes() -> None:
    assert_passes(NAME, make_variant())


@pytest.mark.parametrize(
    ("variant", "rule"),
    [
        (make_variant(returns=False), 1),
        (make_variant(lines_per_retry=2), 2),
        (make_variant(lines_per_retry=0), 2),
        (make_variant(lambda: "retrying now"), 3),
        (make_variant(lambda: f"{time.time():.0f}"), 3),  # epoch seconds: not a readable time
        (make_variant(_backwards()), 4),
    ],
    ids=["returns-None", "two-lines", "no-lines", "no-time", "epoch-seconds", "backwards"],
)
def test_each_mistake_fails_naming_its_rule(variant: Callable[..., Any], rule: int) -> None:
    result = assert_fails(NAME, variant, rule=rule)
    assert TIMESTAMP_RULES[rule - 1] in str(result)
