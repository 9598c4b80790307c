"""Exercise 2, ``generate_with_retry``: retry transient errors with capped, jittered backoff."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

import openai

from ._core import SIM_HOLD_MAX_S, Incorrect, SimRun, exercise, sim_run

__all__ = ["check_generate_with_retry"]

NAME = "generate_with_retry"
MAX_FIRST_DELAY_S = 10.0
MAX_DELAY_S = 120.0
CAP_EXAMPLE_S = 60.0  # the cap the hints suggest
# The longest single wait a capped schedule may ask for: twice the suggested cap, so that
# "cap, then add jitter" (min(60, 2**n) + uniform(0, 1) = 61 s) is as welcome as "jitter, then cap".
MAX_CAPPED_DELAY_S = 2 * CAP_EXAMPLE_S
GROWTH_RUNS = 12  # runs of the same faults; growth is judged on the largest wait per retry
# Faults that carry no retry-after hint, so every wait is the learner's own schedule.
NO_HINT_FAULTS = ["server_error", "overloaded", "server_error", "overloaded", None]

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
    "about `base * 2 ** n` seconds, capped at a maximum such as `min(60, base * 2 ** n)`; never "
    "call time.sleep directly. When a 429 says how long to wait (`retry-after-ms`), waiting "
    "that long instead is fine too.",
    "Add jitter: add `random.uniform(0, ...)` to each (capped) wait, or draw the whole wait "
    "with `random.uniform(0, capped)`, so that many clients that failed together do not all "
    "retry at the same instant.",
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

    with Simulator(seed=0, fault_retry_after_ms=100, hold_max_s=SIM_HOLD_MAX_S) as sim:
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

        runs = [
            _call(sim, fn, NO_HINT_FAULTS, max_retries=4, seed=seed)
            for seed in range(1, GROWTH_RUNS + 1)
        ]
        for run in runs:
            _needs_text(run, "after four transient errors")
        _judge_delays(runs)
        first = runs[0]
        run = _call(sim, fn, ["server_error"] * 12, max_retries=12)
        _needs_text(run, "after twelve 500s (max_retries=12)")
        if run.delays and max(run.delays) > MAX_CAPPED_DELAY_S:
            raise Incorrect(
                f"`{run.fn_name}(..., max_retries=12)` asked to wait {max(run.delays):.0f} s "
                f"before one retry; cap each wait (e.g. `min({CAP_EXAMPLE_S:.0f}, ...)`; "
                "adding jitter after the cap is fine) so a long outage does not turn into "
                "hour-long sleeps.",
                5,
            )
        if len(first.log_records) < len(first.delays):
            raise Incorrect(
                f"`{first.fn_name}` logged {len(first.log_records)} line(s) for "
                f"{len(first.delays)} retries; log one line per retry with `logging`.",
                7,
            )
    return "It retries only what can pass, backs off with jitter, and knows when to stop."


def _judge_delays(runs: list[SimRun]) -> None:
    """Judge the schedule on several runs: jitter may make one run's waits shrink, not all."""
    name, a = runs[0].fn_name, runs[0].delays
    if not a:
        raise Incorrect(
            f"`{name}` never called `sleep` between retries: it retries at once and hammers a "
            "service that is already struggling.",
            5,
        )
    for run in runs:
        if len(run.delays) != 4:
            raise Incorrect(
                f"`{name}` slept {len(run.delays)} times for 4 retries; sleep once before each.",
                5,
            )
        if any(not isinstance(d, int | float) or not 0 <= d <= MAX_DELAY_S for d in run.delays):
            raise Incorrect(
                f"`{name}` asked to sleep {run.delays}; each wait should be a number of seconds "
                f"between 0 and {MAX_DELAY_S:.0f}.",
                5,
            )
    firsts = [run.delays[0] for run in runs]
    if min(firsts) <= 0 or max(firsts) > MAX_FIRST_DELAY_S:
        bad = min(firsts) if min(firsts) <= 0 else max(firsts)
        raise Incorrect(
            f"`{name}` waited {bad:.2f} s before its first retry; start small but above zero "
            f"(at most {MAX_FIRST_DELAY_S:.0f} s).",
            5,
        )
    # The largest wait seen per retry is the schedule's ceiling: full jitter draws below it.
    ceilings = [max(run.delays[i] for run in runs) for i in range(4)]
    shrinks = any(later < 0.5 * earlier for earlier, later in pairwise(ceilings))
    if ceilings[-1] < 2 * ceilings[0] or shrinks:
        raise Incorrect(
            f"`{name}` waited {', '.join(f'{d:.2f}' for d in a)} s (at most "
            f"{', '.join(f'{d:.2f}' for d in ceilings)} s over {len(runs)} runs): the waits "
            "should grow (roughly double) from one retry to the next.",
            5,
        )
    if all(run.delays == a for run in runs):
        raise Incorrect(
            f"`{name}` chose exactly the same waits in {len(runs)} runs "
            f"({', '.join(f'{d:.2f}' for d in a)} s): without randomness, clients that failed "
            "together retry together.",
            6,
        )
