"""Exercise 2, ``generate_with_retry``: retry transient errors with capped, jittered backoff."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

import openai

from .authoring import (
    MAX_WAIT_S,
    Incorrect,
    SimRun,
    check_simulator,
    describe_exception,
    exercise,
    judge_waits_in_seconds,
    run_on_simulator,
    shown,
    waits_grow,
)

__all__ = [
    "HINTS",
    "RULES",
    "TIMESTAMP_HINTS",
    "TIMESTAMP_RULES",
    "check_generate_with_retry",
    "check_generate_with_timestamps",
]

NAME = "generate_with_retry"
PROMPT = "Explain in one sentence why retries need a cap."
CAP_EXAMPLE_S = 60.0  # the cap the task and hints suggest
GROWTH_RUNS = 12  # runs of the same faults; the schedule is judged on the largest wait per retry
# Faults that carry no retry-after hint, so every wait is the learner's own schedule.
NO_HINT_FAULTS = ["server_error", "overloaded", "server_error", "overloaded", None]

# Rule n is stated in the task as "Rule n: <title>", and hint n helps with it.
RULES = (
    "return the answer text",
    "retry transient errors",
    "fail fast on permanent errors",
    "stop after max_retries retries and re-raise",
    "wait in seconds, growing and capped",
    "add random jitter",
    "log one line per retry",
    "let Ctrl-C through",
)
HINTS = (
    "Start with the happy path: call `client.responses.create(model=model, input=prompt, "
    "max_output_tokens=max_output_tokens)` and return `response.output_text`, a str.",
    "Transient errors pass with time: `openai.RateLimitError` with code "
    "'rate_limit_exceeded', `openai.InternalServerError` (5xx) and `openai.APIConnectionError` "
    "(a timeout is a kind of it). Catch `openai.APIError`, then ask `classify(err).retriable` "
    "(from course_utils): it is True for exactly these.",
    "Everything else is permanent: a 401 (bad key), a 400 (bad request) and a 429 whose "
    "`err.code` is 'insufficient_quota' (no credit left) fail the same way every time. When "
    "`classify(err).retriable` is False, `raise` at once: no sleep, no second request.",
    "Bound the loop: `for attempt in range(max_retries + 1):` sends at most `max_retries + 1` "
    "requests. When the last attempt fails, a bare `raise` re-raises the API's own error; never "
    "return None or '' for a failure.",
    "Back off exponentially, in seconds: before retry n (0, 1, 2, ...) call the injected "
    f"`sleep(min({CAP_EXAMPLE_S:.0f}, 0.5 * 2 ** n))`, i.e. 0.5 s, 1 s, 2 s, ... and never "
    "call time.sleep directly. When a 429 says how long to wait (`retry-after-ms`), waiting "
    "that long instead is fine too.",
    "Add jitter: add `random.uniform(0, 0.5)` to each (capped) wait, or draw the whole wait "
    "with `random.uniform(0, capped)`, so that many clients that failed together do not all "
    "retry at the same instant.",
    "Log one line per retry with `logging` at INFO level or above (e.g. "
    "`logger.warning('attempt %d failed (%s); retrying in %.2f s', ...)`): which attempt, "
    "which error, how long it will wait.",
    "Catch `openai.APIError` (or `Exception`), never `BaseException` or a bare `except:`: "
    "those also catch KeyboardInterrupt, so Ctrl-C (or the notebook's Stop button) would be "
    "retried instead of stopping your code.",
)


def _call(sim: Any, fn: Callable[..., Any], faults: list[str | None], **kw: Any) -> SimRun:
    run = run_on_simulator(sim, fn, PROMPT, faults=faults, record_sleep=True, **kw)
    run.raise_unexpected(allowed=(openai.APIError,))
    return run


def _needs_text(run: SimRun, where: str) -> None:
    if run.raised:
        raise Incorrect(
            f"`{run.fn_name}` raised {type(run.error).__name__} {where}, where the request "
            "eventually succeeds; it should return the answer text.",
            rule=2 if where else 1,
        )
    if not isinstance(run.value, str) or not run.value.strip():
        raise Incorrect(
            f"`{run.fn_name}` returned {type(run.value).__name__} {shown(run.value, 40)} "
            f"{where}; it should return the model's answer as a non-empty str.",
            rule=1,
        )


def _fails_fast(sim: Any, fn: Callable[..., Any], fault: str, label: str) -> None:
    run = run_on_simulator(
        sim, fn, PROMPT, faults=[fault, None, None, None, None], record_sleep=True, max_retries=4
    )
    if run.error is not None and not isinstance(run.error, openai.APIError):
        raise Incorrect(
            f"`{run.fn_name}` raised {describe_exception(run.error)} after {label}; re-raise "
            "the API's own error (a bare `raise`) so callers can tell what happened.",
            rule=3,
        )
    if run.attempts > 1:
        raise Incorrect(
            f"`{run.fn_name}` sent {run.attempts} requests after {label}. That error is "
            "permanent: the same request fails again, so it should fail at once.",
            rule=3,
        )
    if not run.raised:
        raise Incorrect(
            f"`{run.fn_name}` returned {shown(run.value, 40)} after {label}; it should re-raise "
            "the error at once so the caller knows the request failed.",
            rule=3,
        )
    if run.delays:
        raise Incorrect(
            f"`{run.fn_name}` slept before giving up on {label}; no wait helps.", rule=3
        )


def _gives_up(sim: Any, fn: Callable[..., Any]) -> None:
    run = run_on_simulator(
        sim, fn, PROMPT, faults=["rate_limit"] * 8, record_sleep=True, max_retries=2
    )
    if run.attempts > 3:
        raise Incorrect(
            f"`{run.fn_name}(..., max_retries=2)` sent {run.attempts} requests against a "
            "server that kept answering 429; it should stop after 3.",
            rule=4,
        )
    if not run.raised:
        raise Incorrect(
            f"`{run.fn_name}` returned {shown(run.value, 40)} when every attempt failed; it "
            "should re-raise the last error instead of hiding it.",
            rule=4,
        )
    if not isinstance(run.error, openai.RateLimitError):
        raise Incorrect(
            f"`{run.fn_name}` raised {type(run.error).__name__} when every attempt got a "
            "429; re-raise the API's own error (a bare `raise`) so callers can tell what "
            "happened.",
            rule=4,
        )
    if run.attempts < 3:
        raise Incorrect(
            f"`{run.fn_name}(..., max_retries=2)` gave up after {run.attempts} request(s) "
            "on a 429, which is transient; it should try 3 times in all.",
            rule=2,
        )


def _lets_ctrl_c_through(sim: Any, fn: Callable[..., Any]) -> None:
    run = run_on_simulator(sim, fn, PROMPT, interrupt=True, record_sleep=True, max_retries=2)
    if not isinstance(run.error, KeyboardInterrupt):
        did = (
            f"raised {type(run.error).__name__}"
            if run.raised
            else f"returned {shown(run.value, 40)}"
        )
        raise Incorrect(
            f"Ctrl-C (KeyboardInterrupt) during a request did not stop `{run.fn_name}`: it "
            f"{did}. Catch `openai.APIError`, not `BaseException` or a bare `except:`.",
            rule=8,
        )


@exercise(NAME, rules=RULES, hints=HINTS, solution_notebook="02_retry_wrapper.ipynb")
def check_generate_with_retry(fn: Callable[..., Any]) -> str:
    """Judge retries by the requests that reach a fresh simulator and the waits requested."""
    with check_simulator() as sim:
        run = _call(sim, fn, [])
        _needs_text(run, "")
        if run.attempts != 1:
            raise Incorrect(f"`{run.fn_name}` sent {run.attempts} requests for one prompt.", rule=1)

        transient = ["rate_limit", "server_error", "disconnect", "timeout", None]
        run = _call(sim, fn, transient, max_retries=4, client_timeout_s=0.3)
        _needs_text(run, "after a 429, a 500, a dropped connection and a timeout")
        if run.attempts != 5:
            raise Incorrect(
                f"`{run.fn_name}` sent {run.attempts} requests when the first four failed "
                "with transient errors and the fifth would succeed.",
                rule=2,
            )

        _fails_fast(sim, fn, "auth", "a 401 (bad API key)")
        _fails_fast(sim, fn, "bad_request", "a 400 (bad request)")
        _fails_fast(sim, fn, "quota", "a 429 with code insufficient_quota")
        _gives_up(sim, fn)

        runs = [
            _call(sim, fn, NO_HINT_FAULTS, max_retries=4, seed=seed)
            for seed in range(1, GROWTH_RUNS + 1)
        ]
        for run in runs:
            _needs_text(run, "after four transient errors")
        _judge_schedule(runs)

        run = _call(sim, fn, ["server_error"] * 12, max_retries=12)
        _needs_text(run, "after twelve 500s (max_retries=12)")
        longest = max((d for d in run.delays if isinstance(d, int | float)), default=0)
        if longest > MAX_WAIT_S:
            raise Incorrect(
                f"`{run.fn_name}(..., max_retries=12)` asked to wait {longest:.0f} s before one "
                f"retry; cap each wait (e.g. `min({CAP_EXAMPLE_S:.0f}, ...)`; adding jitter "
                f"after the cap is fine) so no wait is longer than {MAX_WAIT_S:g} s.",
                rule=5,
            )

        first = runs[0]
        if len(first.log_records) < len(first.delays):
            raise Incorrect(
                f"`{first.fn_name}` logged {len(first.log_records)} line(s) at INFO or above "
                f"for {len(first.delays)} retries; log one line per retry with `logging`.",
                rule=7,
            )
        _lets_ctrl_c_through(sim, fn)
    return "It retries only what can pass, backs off with jitter, and knows when to stop."


def _judge_schedule(runs: list[SimRun]) -> None:
    """Seconds, growth and jitter, judged over several runs (jitter varies each one)."""
    ceilings = judge_waits_in_seconds(runs, 4, rule=5)
    name, a = runs[0].fn_name, runs[0].delays
    if not waits_grow(ceilings):
        raise Incorrect(
            f"`{name}` waited {', '.join(f'{d:.2f}' for d in a)} s (at most "
            f"{', '.join(f'{d:.2f}' for d in ceilings)} s over {len(runs)} runs): the waits "
            "should grow (roughly double) from one retry to the next.",
            rule=5,
        )
    if all(run.delays == a for run in runs):
        raise Incorrect(
            f"`{name}` chose exactly the same waits in {len(runs)} runs "
            f"({', '.join(f'{d:.2f}' for d in a)} s): without randomness, clients that failed "
            "together retry together.",
            rule=6,
        )


# --- Homework: retry timestamps -------------------------------------------------------------

TIMESTAMPS_NAME = "generate_with_timestamps"
TIMESTAMP_FAULTS: list[str | None] = ["server_error", "rate_limit", None]
_CLOCK_TIME = re.compile(r"(?<!\d)(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,6}))?")
TIMESTAMP_RULES = (
    "still return the answer",
    "one line for each retry",
    "the time in each retry line",
    "times in order",
)
TIMESTAMP_HINTS = (
    "Start from your `generate_with_retry`: the same loop, the same waits, the same return.",
    "Log exactly one line per retry decision (here: two retries, two lines), with `logger.warning"
    "(...)`; the check reads the log records your function writes.",
    "Put the wall-clock time in the message itself, as HH:MM:SS with or without fractions: e.g. "
    "`datetime.now().isoformat(timespec='milliseconds')` gives `2026-11-23T14:02:07.120`. The "
    "logger's own time column does not count: the line must carry the time wherever it is read.",
    "Take the time when you log the line (not once before the loop), so each retry shows its own.",
)


def _clock_seconds(message: str) -> float | None:
    found = _CLOCK_TIME.search(message)
    if not found:
        return None
    hours, minutes, seconds, fraction = found.groups()
    return int(hours) * 3600 + int(minutes) * 60 + int(seconds) + float(f"0.{fraction or 0}")


@exercise(
    TIMESTAMPS_NAME,
    rules=TIMESTAMP_RULES,
    hints=TIMESTAMP_HINTS,
    solution_notebook="02_retry_wrapper.ipynb",
)
def check_generate_with_timestamps(fn: Callable[..., Any]) -> str:
    """Homework: each retry logs one line that carries its own wall-clock time."""
    with check_simulator() as sim:
        run = _call(sim, fn, TIMESTAMP_FAULTS, max_retries=4)
        if run.raised or not isinstance(run.value, str) or not run.value.strip():
            raise Incorrect(
                f"`{run.fn_name}` did not return the answer text after a 500 and a 429 "
                f"(got {describe_exception(run.error) if run.error else shown(run.value, 40)}).",
                rule=1,
            )
        retries = len(TIMESTAMP_FAULTS) - 1
        lines = [r.getMessage() for r in run.log_records]
        if len(lines) != retries:
            raise Incorrect(
                f"`{run.fn_name}` logged {len(lines)} line(s) at INFO or above for {retries} "
                "retries; log exactly one line per retry.",
                rule=2,
            )
        times: list[float] = []
        for line in lines:
            at = _clock_seconds(line)
            if at is None:
                raise Incorrect(
                    f"this retry line has no time in it: {shown(line, 80)}; include the time "
                    "as HH:MM:SS (an ISO 8601 timestamp works).",
                    rule=3,
                )
            times.append(at)
        if any(b < a for a, b in itertools.pairwise(times)):
            raise Incorrect(
                f"the retry lines' times go backwards: {', '.join(shown(x, 40) for x in lines)}; "
                "take the time when each line is logged.",
                rule=4,
            )
    return "Every retry leaves one line with its own time: an incident can be read back later."
