"""The safe_generate check, proven both ways: the solution passes, each mistake fails."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import openai
import pytest

from course_utils.checks import assert_fails, assert_passes
from course_utils.errors import classify
from course_utils.pricing import DEFAULT_MODEL

NAME = "safe_generate"
NOTEBOOK = "03_safe_generate.ipynb"


def make_variant(
    *,
    retry_if: Callable[[openai.APIError], bool] = lambda err: classify(err).retriable,
    capped: bool = True,
    sleeps: bool = True,
    delay: Callable[[int], float] = lambda attempts: (
        0.5 * 2 ** (attempts - 1) + random.uniform(0, 0.1)
    ),
    reraise: bool = False,
    error_type: Callable[[openai.APIError], str] = lambda err: classify(err).category,
    count: Callable[[int], int] = lambda attempts: attempts,
    shape: Callable[[dict], Any] = lambda result: result,
    message: Callable[[openai.APIError, openai.OpenAI], str] = lambda err, client: str(err),
) -> Callable[..., Any]:
    """A safe_generate with one deliberate mistake switched on (the defaults are correct)."""

    def safe_generate(
        client: openai.OpenAI,
        prompt: str,
        *,
        max_retries: int = 3,
        sleep: Callable[[float], Any] = time.sleep,
        model: str = DEFAULT_MODEL,
    ) -> Any:
        attempts = 0
        while True:
            attempts += 1
            try:
                r = client.responses.create(model=model, input=prompt)
            except openai.APIError as err:
                if retry_if(err) and (not capped or attempts <= max_retries):
                    if sleeps:
                        sleep(delay(attempts))
                    continue
                if reraise:
                    raise
                return shape(
                    {
                        "ok": False,
                        "output": None,
                        "error_type": error_type(err),
                        "message": message(err, client),
                        "attempts": count(attempts),
                    }
                )
            return shape(
                {
                    "ok": True,
                    "output": r.output_text,
                    "error_type": None,
                    "message": "",
                    "attempts": count(attempts),
                }
            )

    return safe_generate


def test_solution_notebook_passes(solution_from_notebook) -> None:
    assert_passes(NAME, solution_from_notebook(NOTEBOOK, NAME))


def test_full_jitter_with_an_unseeded_rng_always_passes() -> None:
    for _ in range(30):
        rng = random.Random()  # the learner's own, unseeded: the check must not depend on luck
        assert_passes(NAME, make_variant(delay=lambda a, rng=rng: rng.uniform(0, 2 ** (a - 1))))


def test_reference_variant_passes() -> None:
    assert_passes(NAME, make_variant())


def _without(key: str) -> Callable[[dict], dict]:
    return lambda result: {k: v for k, v in result.items() if k != key}


WRONG: dict[str, tuple[Callable[..., Any], int | None, str]] = {
    "returns a bare string": (
        make_variant(shape=lambda r: r["output"] if r["ok"] else r["message"]),
        1,
        "bare string",
    ),
    "returns None": (make_variant(shape=lambda r: None), 1, "returned NoneType"),
    "lacks a key": (make_variant(shape=_without("attempts")), 1, "attempts"),
    "raises API errors": (make_variant(reraise=True), 2, "should catch API errors"),
    "retries a 401": (
        make_variant(retry_if=lambda e: not isinstance(e, openai.BadRequestError)),
        3,
        "401",
    ),
    "retries a 400": (
        make_variant(retry_if=lambda e: not isinstance(e, openai.AuthenticationError)),
        3,
        "400",
    ),
    "retries insufficient_quota": (
        make_variant(
            retry_if=lambda e: isinstance(
                e, openai.RateLimitError | openai.InternalServerError | openai.APIConnectionError
            )
        ),
        3,
        "insufficient_quota",
    ),
    "retries nothing": (make_variant(retry_if=lambda e: False), 3, "deserve a retry"),
    "no cap on retries": (make_variant(capped=False), 4, "max_retries=2"),
    "never sleeps": (make_variant(sleeps=False), 4, "sleep 0 time(s)"),
    "sleeps zero seconds": (make_variant(delay=lambda attempts: 0.0), 4, "above zero"),
    "error_type is the class name": (
        make_variant(error_type=lambda e: type(e).__name__),
        2,
        "error_type='AuthenticationError'",
    ),
    "message leaks the API key": (
        make_variant(message=lambda err, client: f"{err} (key {client.api_key})"),
        2,
        "contains the API key",
    ),
    "counts retries, not attempts": (make_variant(count=lambda n: n - 1), 1, "attempts=0"),
}


@pytest.mark.parametrize("case", list(WRONG))
def test_seeded_wrong_answers_fail_with_the_matching_hint(case: str) -> None:
    fn, level, text = WRONG[case]
    result = assert_fails(NAME, fn, hint_level=level, contains=text)
    assert "safe_generate" in str(result)


def test_unexpected_exception_is_named() -> None:
    def safe_generate(client: openai.OpenAI, prompt: str, **kwargs: Any) -> dict:
        return {"ok": True, "output": prompt.upper(), "error_type": None}["attempts"]

    assert_fails(NAME, safe_generate, contains="raised KeyError: 'attempts'")


def test_stub_is_not_started() -> None:
    def safe_generate(client: openai.OpenAI, prompt: str, **kwargs: Any) -> dict:
        raise NotImplementedError("send it")

    assert_fails(NAME, safe_generate, status="not_started", contains="not started yet")
