"""Exercise 3, ``safe_generate``: never raise for API errors, return a structured result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai

from ..simulator.server import DEFAULT_CLIENT_KEY
from ._core import SIM_HOLD_MAX_S, Incorrect, SimRun, exercise, sim_run

__all__ = ["RESULT_KEYS", "check_safe_generate"]

NAME = "safe_generate"
RESULT_KEYS = ("ok", "output", "error_type", "message", "attempts")
MAX_DELAY_S = 120.0

HINTS = (
    "Return a dict with exactly the keys ok, output, error_type, message, attempts, on success "
    "and on failure alike: a caller (a batch job, a UI) reads the same shape every time.",
    "Wrap the call in `try: ... except openai.APIError as err:` and use "
    "`course_utils.errors.classify(err)`: its `.category` is the error_type, its `.advice` "
    "(or str(err)) a good message.",
    "Retry only when `classify(err).retriable` is True; an auth, bad-request, quota or "
    "context-length error is returned as a failure after the first attempt.",
    "Count `attempts` as the requests you actually sent, wait with the injected `sleep(...)` "
    "(growing waits) between retries, and after `max_retries` retries return the failure "
    "dict; never raise.",
)


def _call(sim: Any, fn: Callable[..., Any], faults: list[str | None], **kw: Any) -> SimRun:
    run = sim_run(sim, fn, faults, **kw)
    run.raise_unexpected(allowed=(openai.APIError,))
    if run.raised:
        raise Incorrect(
            f"`{run.fn_name}` raised {type(run.error).__name__} (scripted faults: "
            f"{', '.join(str(f) for f in faults if f) or 'none'}); it should catch API errors "
            "and report them in the returned dict instead.",
            2,
        )
    result = run.value
    if isinstance(result, str):
        raise Incorrect(
            f"`{run.fn_name}` returned a bare string; it should return a dict with the keys "
            f"{', '.join(RESULT_KEYS)}.",
            1,
        )
    if not isinstance(result, dict):
        raise Incorrect(
            f"`{run.fn_name}` returned {type(result).__name__}; it should return a dict with "
            f"the keys {', '.join(RESULT_KEYS)}.",
            1,
        )
    missing = [k for k in RESULT_KEYS if k not in result]
    if missing:
        raise Incorrect(f"The dict from `{run.fn_name}` lacks the key(s) {', '.join(missing)}.", 1)
    return run


def _expect_failure(
    run: SimRun, category: str, label: str, attempts: int, retry_level: int
) -> None:
    r, name = run.value, run.fn_name
    if run.attempts != attempts:
        more = "" if attempts > 1 else " That error is permanent, so one attempt is enough."
        raise Incorrect(
            f"`{name}` sent {run.attempts} request(s) after {label}.{more}",
            retry_level if run.attempts > attempts else 3,
        )
    if r["ok"] is not False:
        raise Incorrect(f"`{name}` reported ok={r['ok']!r} after {label}.", 1)
    if r["error_type"] != category:
        raise Incorrect(
            f"`{name}` reported error_type={r['error_type']!r} after {label}; use the "
            "category from course_utils.errors.classify.",
            2,
        )
    if r["attempts"] != run.attempts:
        raise Incorrect(
            f"`{name}` reported attempts={r['attempts']!r} but sent {run.attempts} request(s).",
            4,
        )
    if not isinstance(r["message"], str) or not r["message"].strip():
        raise Incorrect(f"`{name}` gave no message after {label}; say what went wrong.", 2)
    if DEFAULT_CLIENT_KEY in str(r["message"]):
        raise Incorrect(
            f"The message from `{name}` contains the API key; never put a key in results or "
            "logs (str(err) from the SDK is safe: it masks keys).",
            2,
        )
    if r["output"] not in (None, ""):
        raise Incorrect(f"`{name}` reported output={r['output']!r:.40} for a failure.", 1)


@exercise(NAME, hints=HINTS, solution_notebook="03_safe_generate.ipynb")
def check_safe_generate(fn: Callable[..., Any]) -> str:
    """Judge the result dicts for success, transient, permanent and exhausted failures."""
    from course_utils.simulator import Simulator

    with Simulator(seed=0, fault_retry_after_ms=100, hold_max_s=SIM_HOLD_MAX_S) as sim:
        run = _call(sim, fn, [])
        r = run.value
        if r["ok"] is not True or not isinstance(r["output"], str) or not r["output"].strip():
            raise Incorrect(
                f"`{run.fn_name}` returned ok={r['ok']!r}, output={r['output']!r:.40} for a "
                "request that succeeded; expected ok=True and the answer text.",
                1,
            )
        if r["error_type"] is not None or r["attempts"] != 1 or run.attempts != 1:
            raise Incorrect(
                f"`{run.fn_name}` reported error_type={r['error_type']!r}, "
                f"attempts={r['attempts']!r} for a first-time success (sent {run.attempts}); "
                "expected None and 1.",
                1,
            )

        run = _call(sim, fn, ["rate_limit", "disconnect", None], max_retries=3)
        r = run.value
        if r["ok"] is not True or run.attempts != 3:
            raise Incorrect(
                f"`{run.fn_name}` returned ok={r['ok']!r} after {run.attempts} request(s) when "
                "a 429 and a dropped connection came before a success; transient errors "
                "deserve a retry.",
                3,
            )
        if r["attempts"] != 3:
            raise Incorrect(
                f"`{run.fn_name}` reported attempts={r['attempts']!r} but sent 3 requests.", 4
            )
        if len(run.delays) != 2:
            raise Incorrect(
                f"`{run.fn_name}` called sleep {len(run.delays)} time(s) for 2 retries; wait "
                "with the injected `sleep` before each retry.",
                4,
            )
        # Growth is judged by generate_with_retry's check over many runs; one run with jitter
        # (or a 429's retry-after-ms honoured) may legitimately wait less the second time.
        if not all(isinstance(d, int | float) and 0 < d <= MAX_DELAY_S for d in run.delays):
            raise Incorrect(
                f"`{run.fn_name}` waited {run.delays} s; each wait should be a number of seconds "
                f"above zero (and at most {MAX_DELAY_S:.0f}), so the service gets time to recover.",
                4,
            )

        permanent = (
            ("auth", "auth", "a 401 (bad API key)", 3),
            ("bad_request", "bad_request", "a 400 (bad request)", 3),
            ("quota", "quota", "a 429 with code insufficient_quota", 3),
            ("context_length", "context_length", "a 400 context_length_exceeded", 3),
        )
        for fault, category, label, level in permanent:
            run = _call(sim, fn, [fault, None, None, None], max_retries=3)
            _expect_failure(run, category, label, 1, level)

        run = _call(sim, fn, ["server_error"] * 6, max_retries=2)
        _expect_failure(run, "server_error", "500s on every attempt (max_retries=2)", 3, 4)
        if len(run.delays) > 2:
            raise Incorrect(
                f"`{run.fn_name}` slept {len(run.delays)} times for 2 retries; no wait is "
                "needed after the last attempt.",
                4,
            )
    return "Every outcome comes back in the same shape, and nothing raises."
