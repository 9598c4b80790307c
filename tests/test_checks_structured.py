"""The safe_generate check, proven both ways: the solution passes, each mistake fails."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import openai
import pytest

from course_checks import assert_fails, assert_passes
from course_checks.authoring import SimRun, judge_waits_in_seconds
from course_checks.structured import RULES, WAIT_RUNS
from course_utils.errors import classify
from course_utils.pricing import DEFAULT_MODEL
from course_utils.results import Result

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
    usage: Callable[[Any], Any] = lambda u: {
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
    },
    catches: type[BaseException] = openai.APIError,
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
        started = time.monotonic()
        while True:
            attempts += 1
            try:
                r = client.responses.create(model=model, input=prompt)
            except catches as err:
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
                        "usage": None,
                        "latency_s": time.monotonic() - started,
                    }
                )
            return shape(
                {
                    "ok": True,
                    "output": r.output_text,
                    "error_type": None,
                    "message": "",
                    "attempts": count(attempts),
                    "usage": usage(r.usage),
                    "latency_s": time.monotonic() - started,
                }
            )

    return safe_generate


def test_solution_notebook_passes(solution_from_notebook) -> None:
    assert_passes(NAME, solution_from_notebook(NOTEBOOK, NAME))


def test_full_jitter_with_an_unseeded_rng_passes() -> None:
    rng = random.Random()  # the learner's own, unseeded: the check must not depend on luck
    assert_passes(NAME, make_variant(delay=lambda a: rng.uniform(0, 2 ** (a - 1))))


def test_the_wait_judge_accepts_full_jitter_whatever_the_draws() -> None:
    # The luck lies in the waits alone: the judge meets many unseeded draws directly.
    rng = random.Random()
    for _ in range(2_000):
        runs = [
            SimRun(NAME, delays=[rng.uniform(0, 2**a) for a in range(2)]) for _ in range(WAIT_RUNS)
        ]
        judge_waits_in_seconds(runs, 2, rule=5)  # raises Incorrect on a wrong verdict


def test_reference_variant_passes() -> None:
    assert_passes(NAME, make_variant())


def test_results_built_with_the_shared_record_pass() -> None:
    """The solution's way: Result.from_response / from_error, then .to_dict() (message None)."""

    def safe_generate(
        client: openai.OpenAI, prompt: str, *, max_retries: int = 3, sleep: Any = time.sleep
    ) -> dict:
        started, attempts = time.monotonic(), 0
        while True:
            attempts += 1
            try:
                response = client.responses.create(model=DEFAULT_MODEL, input=prompt)
            except openai.APIError as err:
                if classify(err).retriable and attempts <= max_retries:
                    sleep(0.5 * 2 ** (attempts - 1) + random.uniform(0, 0.5))
                    continue
                took = time.monotonic() - started
                failure = Result.from_error(7, prompt, err, attempts=attempts, latency_s=took)
                return failure.to_dict()
            took = time.monotonic() - started
            return Result.from_response(
                7, prompt, response, attempts=attempts, latency_s=took
            ).to_dict()

    assert_passes(NAME, safe_generate)


def _without(key: str) -> Callable[[dict], dict]:
    return lambda result: {k: v for k, v in result.items() if k != key}


def _classified(err: BaseException) -> str:
    return classify(err).category


WRONG: dict[str, tuple[Callable[..., Any], int, str]] = {
    "returns a bare string": (
        make_variant(shape=lambda r: r["output"] if r["ok"] else r["message"]),
        1,
        "returned str",
    ),
    "returns None": (make_variant(shape=lambda r: None), 1, "returned NoneType"),
    "lacks a key": (make_variant(shape=_without("attempts")), 1, "attempts"),
    "lacks latency_s": (make_variant(shape=_without("latency_s")), 1, "latency_s"),
    "ok is a string": (
        make_variant(shape=lambda r: {**r, "ok": "yes" if r["ok"] else ""}),
        1,
        "ok='yes'",
    ),
    "latency in the wrong type": (
        make_variant(shape=lambda r: {**r, "latency_s": "fast"}),
        1,
        "latency_s='fast'",
    ),
    "usage as the SDK object": (make_variant(usage=lambda u: u), 1, "usage="),
    "usage not the billed tokens": (
        make_variant(usage=lambda u: {"input_tokens": 1, "output_tokens": 1}),
        2,
        "the server billed",
    ),
    "raises API errors": (make_variant(reraise=True), 3, "should catch API errors"),
    "retries a 401": (
        make_variant(retry_if=lambda e: not isinstance(e, openai.BadRequestError)),
        4,
        "401",
    ),
    "retries a 400": (
        make_variant(retry_if=lambda e: not isinstance(e, openai.AuthenticationError)),
        4,
        "400",
    ),
    "retries insufficient_quota": (
        make_variant(
            retry_if=lambda e: isinstance(
                e, openai.RateLimitError | openai.InternalServerError | openai.APIConnectionError
            )
        ),
        4,
        "insufficient_quota",
    ),
    "retries nothing": (make_variant(retry_if=lambda e: False), 4, "deserve a retry"),
    "no cap on retries": (make_variant(capped=False), 4, "max_retries=2"),
    "never sleeps": (make_variant(sleeps=False), 5, "never called `sleep`"),
    "sleeps zero seconds": (make_variant(delay=lambda attempts: 0.0), 5, "waited 0 s"),
    "waits in milliseconds": (
        make_variant(delay=lambda attempts: 0.001 * 2 ** (attempts - 1)),
        5,
        "in seconds",
    ),
    "waits of a nanosecond": (make_variant(delay=lambda attempts: 1e-9), 5, "in seconds"),
    "error_type is the class name": (
        make_variant(error_type=lambda e: type(e).__name__),
        3,
        "error_type='AuthenticationError'",
    ),
    "message leaks the API key": (
        make_variant(message=lambda err, client: f"{err} (key {client.api_key})"),
        3,
        "contains the API key",
    ),
    "counts retries, not attempts": (make_variant(count=lambda n: n - 1), 5, "attempts=0"),
    "catches BaseException (Ctrl-C becomes a result)": (
        make_variant(catches=BaseException, error_type=_classified),
        6,
        "KeyboardInterrupt",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(WRONG))
def test_seeded_wrong_answers_fail_on_the_stated_rule(case: str) -> None:
    fn, rule, text = WRONG[case]
    result = assert_fails(NAME, fn, rule=rule, hint_level=rule, contains=text)
    assert "safe_generate" in str(result)
    assert f"rule {rule}: {RULES[rule - 1]}" in str(result)


def test_returning_the_record_instead_of_its_dict_says_to_call_to_dict() -> None:
    class Result:
        def __init__(self, **fields: Any) -> None:
            self.fields = fields

        def to_dict(self) -> dict:
            return self.fields

    result = assert_fails(NAME, make_variant(shape=lambda r: Result(**r)), rule=1)
    assert "to_dict()" in str(result)


def test_unexpected_exception_is_named() -> None:
    def safe_generate(client: openai.OpenAI, prompt: str, **kwargs: Any) -> dict:
        return {"ok": True, "output": prompt.upper(), "error_type": None}["attempts"]

    assert_fails(NAME, safe_generate, status="crashed", contains="raised KeyError: 'attempts'")


def test_stub_is_not_started() -> None:
    def safe_generate(client: openai.OpenAI, prompt: str, **kwargs: Any) -> dict:
        raise NotImplementedError("send it")

    assert_fails(NAME, safe_generate, status="not_started", contains="not written yet")
