"""The generate_with_retry check, proven both ways: the solution passes, each mistake fails."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import openai
import pytest

from course_checks import assert_fails, assert_passes
from course_checks.authoring import SimRun
from course_checks.retry import GROWTH_RUNS, RULES, _judge_schedule
from course_utils.errors import classify
from course_utils.logs import setup_logging
from course_utils.pricing import DEFAULT_MODEL

NAME = "generate_with_retry"
NOTEBOOK = "02_retry_wrapper.ipynb"
log = logging.getLogger("tests.retry")


def make_variant(
    *,
    retry_if: Callable[[openai.APIError], bool] = lambda err: classify(err).retriable,
    capped: bool = True,
    delay: Callable[[int], float] = lambda n: min(0.5 * 2**n, 8) + random.uniform(0, 0.5),
    sleeps: bool = True,
    on_give_up: Callable[[openai.APIError], Any] | None = None,
    logs: bool = True,
    honours_retry_after: bool = False,
    request_timeout: float | None = None,
    catches: type[BaseException] = openai.APIError,
    logger: logging.Logger = log,
) -> Callable[..., Any]:
    """A retry wrapper with one deliberate mistake switched on (the defaults are correct)."""

    def generate_with_retry(
        client: openai.OpenAI,
        prompt: str,
        *,
        max_retries: int = 4,
        sleep: Callable[[float], Any] = time.sleep,
        model: str = DEFAULT_MODEL,
        max_output_tokens: int = 100,
    ) -> Any:
        attempt = 0
        while True:
            try:
                extra = {} if request_timeout is None else {"timeout": request_timeout}
                r = client.responses.create(
                    model=model, input=prompt, max_output_tokens=max_output_tokens, **extra
                )
                return r.output_text
            except catches as err:
                if not retry_if(err) or (capped and attempt >= max_retries):
                    if on_give_up is not None:
                        return on_give_up(err)
                    raise
                wait = delay(attempt)
                response: Any = getattr(err, "response", None)
                hinted = response.headers.get("retry-after-ms") if response is not None else None
                if honours_retry_after and hinted is not None:
                    wait = float(hinted) / 1000
                if logs:
                    logger.warning(
                        "retry %d after %s in %.2f s", attempt + 1, type(err).__name__, wait
                    )
                if sleeps:
                    sleep(wait)
                attempt += 1

    return generate_with_retry


@pytest.mark.slow
def test_solution_notebook_passes(solution_from_notebook) -> None:
    assert_passes(NAME, solution_from_notebook(NOTEBOOK, NAME))


@pytest.mark.slow
def test_logging_through_the_course_logger_passes_and_prints_nothing_during_the_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    course = setup_logging()  # "course" does not propagate: the check must still see its lines
    try:
        assert_passes(NAME, make_variant(logger=course.getChild("retry")))
        assert capsys.readouterr().out == ""
        assert [h for h in course.handlers if getattr(h, "_course_handler", False)]
    finally:
        for handler in list(course.handlers):
            course.removeHandler(handler)
        course.propagate = True


@pytest.mark.slow
def test_equal_jitter_with_growth_passes() -> None:
    assert_passes(NAME, make_variant(delay=lambda n: random.uniform(0.5, 1.0) * 2 ** min(n, 5)))


@pytest.mark.slow
def test_honouring_retry_after_ms_passes() -> None:
    assert_passes(NAME, make_variant(honours_retry_after=True))


@pytest.mark.slow
def test_own_per_request_timeout_passes() -> None:
    # timeout=30 overrides the check's short client timeout; the check's simulator drops a
    # held request after SIM_HOLD_MAX_S, so the 'timeout' fault still ends as a failed attempt.
    assert_passes(NAME, make_variant(request_timeout=30))


@pytest.mark.slow
def test_cap_then_additive_jitter_passes() -> None:
    assert_passes(NAME, make_variant(delay=lambda n: min(60, 2**n) + random.uniform(0, 1)))


@pytest.mark.slow
def test_full_jitter_with_an_unseeded_rng_passes() -> None:
    rng = random.Random()  # the learner's own, unseeded: the check must not depend on luck
    assert_passes(NAME, make_variant(delay=lambda n: rng.uniform(0, min(60, 0.5 * 2**n))))


def test_the_schedule_judge_accepts_full_jitter_whatever_the_draws() -> None:
    # The luck lies in the waits alone, so the judge meets many unseeded draws directly (a
    # whole check per draw would prove no more, at a thousand times the cost).
    rng = random.Random()
    for _ in range(2_000):
        runs = [
            SimRun("generate_with_retry", delays=[rng.uniform(0, 0.5 * 2**n) for n in range(4)])
            for _ in range(GROWTH_RUNS)
        ]
        _judge_schedule(runs)  # raises Incorrect on a wrong verdict


@pytest.mark.slow
def test_full_jitter_with_system_random_passes() -> None:
    rng = random.SystemRandom()
    assert_passes(NAME, make_variant(delay=lambda n: rng.uniform(0, min(60, 1.0 * 2**n))))


def _reraise(err: BaseException) -> Any:
    raise err


def _catch_all_retry_if(err: BaseException) -> bool:
    """What a learner who catches BaseException typically writes: retry unless it is permanent."""
    return not isinstance(err, openai.APIError) or classify(err).retriable


WRONG: dict[str, tuple[Callable[..., Any], int, str]] = {
    "retries a 401": (
        make_variant(
            retry_if=lambda e: (
                not isinstance(e, openai.BadRequestError) and classify(e).category != "quota"
            )
        ),
        3,
        "401",
    ),
    "retries a 400": (
        make_variant(
            retry_if=lambda e: (
                not isinstance(e, openai.AuthenticationError) and classify(e).category != "quota"
            )
        ),
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
    "retries nothing": (make_variant(retry_if=lambda e: False), 2, "eventually succeeds"),
    "no cap on retries": (make_variant(capped=False), 4, "max_retries=2"),
    "swallows a permanent error (None)": (make_variant(on_give_up=lambda e: None), 3, "None"),
    "swallows a permanent error ('')": (make_variant(on_give_up=lambda e: ""), 3, "re-raise"),
    "raises its own error": (
        make_variant(on_give_up=lambda e: (_ for _ in ()).throw(RuntimeError("gave up"))),
        3,
        "raised RuntimeError: gave up",
    ),
    "swallows the final error of a transient run": (
        make_variant(on_give_up=lambda e: None if classify(e).retriable else _reraise(e)),
        4,
        "re-raise the last error",
    ),
    "raises its own error after the last retry": (
        make_variant(
            on_give_up=lambda e: _reraise(RuntimeError("gave up") if classify(e).retriable else e)
        ),
        4,
        "raised RuntimeError",
    ),
    "never sleeps": (make_variant(sleeps=False), 5, "never called `sleep`"),
    "delays that don't grow": (
        make_variant(delay=lambda n: 1.0 + random.uniform(0, 0.5)),
        5,
        "grow",
    ),
    "waits zero at first": (
        make_variant(delay=lambda n: 0.0 if n == 0 else 2.0**n + random.uniform(0, 1)),
        5,
        "waited 0 s",
    ),
    "waits in milliseconds (1-8 ms)": (
        make_variant(delay=lambda n: 0.001 * 2**n),
        5,
        "in seconds",
    ),
    "waits in milliseconds, with jitter": (
        make_variant(delay=lambda n: (2**n + random.uniform(0, 1)) / 1000),
        5,
        "in seconds",
    ),
    "waits of a nanosecond": (
        make_variant(delay=lambda n: 1e-9 * 2**n + random.uniform(0, 1e-9)),
        5,
        "in seconds",
    ),
    "delays not capped": (
        make_variant(delay=lambda n: 0.5 * 2**n + random.uniform(0, 0.5)),
        5,
        "cap each wait",
    ),
    "no jitter": (make_variant(delay=lambda n: 0.5 * 2**n), 6, "same waits"),
    "no log line per retry": (make_variant(logs=False), 7, "logging"),
    "catches BaseException (Ctrl-C is retried)": (
        make_variant(catches=BaseException, retry_if=_catch_all_retry_if),
        8,
        "KeyboardInterrupt",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(WRONG))
def test_seeded_wrong_answers_fail_on_the_stated_rule(case: str) -> None:
    fn, rule, text = WRONG[case]
    result = assert_fails(NAME, fn, rule=rule, hint_level=rule, contains=text)
    assert "generate_with_retry" in str(result)
    assert f"rule {rule}: {RULES[rule - 1]}" in str(result)


def test_catching_base_exception_but_reraising_what_it_cannot_handle_passes() -> None:
    # Behaviour is judged, not syntax: Ctrl-C still stops this one.
    assert_passes(NAME, make_variant(catches=BaseException))


def test_returns_the_response_object_instead_of_text() -> None:
    def generate_with_retry(client: openai.OpenAI, prompt: str, **kwargs: Any) -> Any:
        return client.responses.create(model=DEFAULT_MODEL, input=prompt)

    assert_fails(NAME, generate_with_retry, rule=1, contains="non-empty str")


def test_missing_sleep_parameter_is_named() -> None:
    def generate_with_retry(client: openai.OpenAI, prompt: str, max_retries: int = 4) -> str:
        return "x"

    assert_fails(
        NAME, generate_with_retry, status="crashed", contains="unexpected keyword argument 'sleep'"
    )


def test_stub_is_not_started() -> None:
    def generate_with_retry(client: openai.OpenAI, prompt: str, **kwargs: Any) -> str:
        raise NotImplementedError("call the API")

    assert_fails(NAME, generate_with_retry, status="not_started", contains="not written yet")


def test_reference_variant_passes_and_leaves_global_random_and_logging_as_found() -> None:
    state = random.getstate()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    assert_passes(NAME, make_variant())
    assert random.getstate() == state
    assert (root.handlers, root.level) == (handlers, level)


@pytest.mark.timeout(120)
def test_a_returned_value_with_a_slow_repr_does_not_hang_the_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before the fix the check formatted `{value!r}` unbounded and hung forever here."""
    from course_checks import authoring

    monkeypatch.setattr(authoring.LIMITS, "repr_s", 0.3)

    class Answer:
        def __repr__(self) -> str:
            while True:
                pass

    def generate_with_retry(client: openai.OpenAI, prompt: str, **kwargs: Any) -> Any:
        return Answer()

    result = assert_fails(NAME, generate_with_retry, rule=1, contains="did not finish")
    assert "an object of type Answer whose repr() did not finish" in str(result)

    def repr_threads() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "check:repr" and t.is_alive()]

    deadline = time.monotonic() + 5  # the check stops it: wait for that, then assert it
    while repr_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not repr_threads()
