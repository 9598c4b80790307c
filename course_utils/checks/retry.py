"""Exercise 2, ``generate_with_retry``: retry transient errors with capped, jittered backoff."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

import openai

from ._core import Incorrect, SimRun, exercise, sim_run

__all__ = ["check_generate_with_retry"]

NAME = "generate_with_retry"
MAX_FIRST_DELAY_S = 10.0
MAX_DELAY_S = 120.0
MAX_CAPPED_DELAY_S = 60.0  # the longest single wait a capped schedule should ask for

HINTS = (
    "Start with the happy path: call `client.responses.create(model=model, input=prompt, "
    "max_output_tokens=max_output_tokens)` and return `response.output_text`, a str.",
    "Retry only transient failures: catch `openai.RateLimitError`, `openai.InternalServerError` "
    "and `openai.APIConnectionError` (timeouts are a kind of it). Let `AuthenticationError` "
    "(401) and `BadRequestError` (400) propagate at once: sending the same request again "
    "cannot fix them.",
    "Not every 429 is worth a retry: look at `err.code`. 'rate_limit_exceeded' passes with "
    "time; 'insufficient_quota' means no credit left. `course_utils.errors.is_retriable(err)` "
    "makes that decision for you.",
    "Bound the loop: `max_retries` retries means at most `max_retries + 1` requests. When the "
    "last attempt fails, `raise` that error; never return None or '' for a failure.",
    "Back off exponentially: before retry n (0, 1, 2, ...) call the injected `sleep(...)` with "
    "about `base * 2 ** n` seconds, capped at a maximum; never call time.sleep directly.",
    "Add jitter: add `random.uniform(0, ...)` to each wait (or draw it), so that many clients "
    "that failed together do not all retry at the same instant.",
    "Log one line per retry with `logging` (e.g. `logger.warning(...)`): which attempt, which "
    "error, how long it will wait. A logging format with %(asctime)s adds the timestamp.",
)


def _call(sim: Any, fn: Callable[..., Any], faults: list[str | None], **kw: Any) -> SimRun:
    run = sim_run(sim, fn, faults, **kw)
    run.raise_unexpected(allowed=(openai.APIError,))
    return run


def _needs_text(run: SimRun, where: str) -> None:
    if run.raised:
        raise Incorrect(
            f"`{run.fn_name}` raised {type(run.error).__name__} {where}, where the request "
            "eventually succeeds; it should return the answer text.",
            2 if where else 1,
        )
    if not isinstance(run.value, str) or not run.value.strip():
        raise Incorrect(
            f"`{run.fn_name}` returned {type(run.value).__name__} {run.value!r:.40} {where}; "
            "it should return the model's answer as a non-empty str.",
            1,
        )


def _fails_fast(sim: Any, fn: Callable[..., Any], fault: str, label: str, level: int) -> None:
    run = _call(sim, fn, [fault, None, None, None, None], max_retries=4)
    if run.attempts > 1:
        raise Incorrect(
            f"`{run.fn_name}` sent {run.attempts} requests after {label}. That error is "
            "permanent: the same request fails again, so it should fail at once.",
            level,
        )
    if not run.raised:
        raise Incorrect(
            f"`{run.fn_name}` returned {run.value!r:.40} after {label}; it should re-raise the "
            "error so the caller knows the request failed.",
            4,
        )
    if run.delays:
        raise Incorrect(f"`{run.fn_name}` slept before giving up on {label}; no wait helps.", level)


@exercise(NAME, hints=HINTS, solution_notebook="02_retry_wrapper.ipynb")
def check_generate_with_retry(fn: Callable[..., Any]) -> str:
    """Judge retries by the requests that reach a fresh simulator and the delays requested."""
    from course_utils.simulator import Simulator

    with Simulator(seed=0, fault_retry_after_ms=100) as sim:
        run = _call(sim, fn, [])
        _needs_text(run, "")
        if run.attempts != 1:
            raise Incorrect(f"`{run.fn_name}` sent {run.attempts} requests for one prompt.", 1)

        transient = ["rate_limit", "server_error", "disconnect", "timeout", None]
        run = _call(sim, fn, transient, max_retries=4, timeout_s=0.3)
        _needs_text(run, "after a 429, a 500, a dropped connection and a timeout")
        if run.attempts != 5:
            raise Incorrect(
                f"`{run.fn_name}` sent {run.attempts} requests when the first four failed "
                "with transient errors and the fifth would succeed.",
                2,
            )

        _fails_fast(sim, fn, "auth", "a 401 (bad API key)", 2)
        _fails_fast(sim, fn, "bad_request", "a 400 (bad request)", 2)
        _fails_fast(sim, fn, "quota", "a 429 with code insufficient_quota", 3)

        run = _call(sim, fn, ["rate_limit"] * 8, max_retries=2)
        if run.attempts > 3:
            raise Incorrect(
                f"`{run.fn_name}(..., max_retries=2)` sent {run.attempts} requests against a "
                "server that kept answering 429; it should stop after 3.",
                4,
            )
        if not run.raised:
            raise Incorrect(
                f"`{run.fn_name}` returned {run.value!r:.40} when every attempt failed; it "
                "should re-raise the last error instead of hiding it.",
                4,
            )
        if not isinstance(run.error, openai.RateLimitError):
            raise Incorrect(
                f"`{run.fn_name}` raised {type(run.error).__name__} when every attempt got a "
                "429; re-raise the API's own error so callers can tell what happened.",
                4,
            )
        if run.attempts < 3:
            raise Incorrect(
                f"`{run.fn_name}(..., max_retries=2)` gave up after {run.attempts} request(s) "
                "on a 429; it should try 3 times in all.",
                2,
            )

        faults = ["server_error", "overloaded", "rate_limit", "server_error", None]
        first = _call(sim, fn, faults, max_retries=4, seed=1)
        second = _call(sim, fn, faults, max_retries=4, seed=2)
        for run in (first, second):
            _needs_text(run, "after four transient errors")
        _judge_delays(first, second)
        run = _call(sim, fn, ["server_error"] * 12, max_retries=12)
        _needs_text(run, "after twelve 500s (max_retries=12)")
        if run.delays and max(run.delays) > MAX_CAPPED_DELAY_S:
            raise Incorrect(
                f"`{run.fn_name}(..., max_retries=12)` asked to wait {max(run.delays):.0f} s "
                f"before one retry; cap each wait (at most {MAX_CAPPED_DELAY_S:.0f} s) so a long "
                "outage does not turn into hour-long sleeps.",
                5,
            )
        if len(first.log_records) < len(first.delays):
            raise Incorrect(
                f"`{first.fn_name}` logged {len(first.log_records)} line(s) for "
                f"{len(first.delays)} retries; log one line per retry with `logging`.",
                7,
            )
    return "It retries only what can pass, backs off with jitter, and knows when to stop."


def _judge_delays(first: SimRun, second: SimRun) -> None:
    name = first.fn_name
    a, b = first.delays, second.delays
    if not a:
        raise Incorrect(
            f"`{name}` never called `sleep` between retries: it retries at once and hammers a "
            "service that is already struggling.",
            5,
        )
    if len(a) != 4:
        raise Incorrect(f"`{name}` slept {len(a)} times for 4 retries; sleep once before each.", 5)
    if any(not isinstance(d, int | float) or not 0 <= d <= MAX_DELAY_S for d in a + b):
        raise Incorrect(
            f"`{name}` asked to sleep {a}; each wait should be a number of seconds between 0 "
            f"and {MAX_DELAY_S:.0f}.",
            5,
        )
    if not 0 < a[0] <= MAX_FIRST_DELAY_S:
        raise Incorrect(
            f"`{name}` waited {a[0]:.2f} s before its first retry; start small but above zero "
            f"(at most {MAX_FIRST_DELAY_S:.0f} s).",
            5,
        )
    both = [x + y for x, y in zip(a, b, strict=True)]
    shrinks = any(later < 0.5 * earlier for earlier, later in pairwise(both))
    if both[-1] < 2 * both[0] or shrinks:
        raise Incorrect(
            f"`{name}` waited {', '.join(f'{d:.2f}' for d in a)} s: the waits should grow "
            "(roughly double) from one retry to the next.",
            5,
        )
    if a == b:
        raise Incorrect(
            f"`{name}` chose exactly the same waits in two runs ({', '.join(f'{d:.2f}' for d in a)}"
            " s): without randomness, clients that failed together retry together.",
            6,
        )
