"""Exercise 3, ``safe_generate``: never raise for API errors, return the course's result fields.

The result is a plain dict holding the fields of the course's shared result record
(``course_utils.results.Result``; ``Result.from_response(...).to_dict()`` and
``Result.from_error(...).to_dict()`` build one), so the mini project and the runner read
exercise 3's output as they read their own. The check judges the outcome fields only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import openai

from .authoring import (
    Incorrect,
    SimRun,
    check_simulator,
    exercise,
    judge_waits_in_seconds,
    run_on_simulator,
    shown,
)

__all__ = ["HINTS", "RESULT_KEYS", "RULES", "check_safe_generate"]

NAME = "safe_generate"
PROMPT = "Explain in one sentence why a failed request should not crash a batch."
# The Result fields the check judges (the record's other fields, e.g. id, prompt, request_id,
# are welcome and not judged).
RESULT_KEYS = ("ok", "output", "error_type", "message", "attempts", "usage", "latency_s")
WAIT_RUNS = 8  # runs of the same transient faults; waits are judged on the largest per retry
NO_HINT_FAULTS = ["server_error", "overloaded", None]  # no retry-after: the learner's own waits

# Rule n is stated in the task as "Rule n: <title>", and hint n helps with it.
RULES = (
    "return a dict with the result fields",
    "report a success",
    "report a failure instead of raising",
    "retry only transient errors",
    "count attempts, wait in seconds, stop after max_retries",
    "let Ctrl-C through",
)
HINTS = (
    "Return one dict shape for every outcome, with the keys ok, output, error_type, message, "
    "attempts, usage and latency_s: a caller (a batch job, a UI, the mini project) reads the "
    "same fields every time. Types: ok a bool, output a str or None, error_type a str or None, "
    "message a str or None, attempts an int, usage a dict or None, latency_s a number of "
    "seconds. `Result.from_response(...)` / `Result.from_error(...)` give a record: return "
    "its `.to_dict()`.",
    "On success: ok=True, output=response.output_text, error_type=None, "
    "usage=usage_dict(response.usage) (the billed input_tokens and output_tokens), and "
    "latency_s from `time.monotonic()` taken before and after. "
    "`Result.from_response(prompt_id, prompt, response, attempts=..., latency_s=...)` "
    "fills all of these in.",
    "Wrap the call in `try: ... except openai.APIError as err:` and return the failure: "
    "`Result.from_error(prompt_id, prompt, err, attempts=..., latency_s=...).to_dict()` "
    "classifies it for you (error_type = classify(err).category, message = its advice, "
    "output and usage None). Never put the API key in the message.",
    "Retry only when `classify(err).retriable` is True (a 429 rate_limit_exceeded, a 5xx, a "
    "dropped connection, a timeout); an auth, bad-request, quota or context-length error is "
    "returned as a failure after the first attempt.",
    "Count `attempts` as the requests you actually sent. Before each retry call the injected "
    "`sleep(...)` once with a wait in seconds that grows, e.g. `min(8, 0.5 * 2 ** n) + "
    "random.uniform(0, 0.5)`; after `max_retries` retries return the failure dict (no wait "
    "after the last attempt).",
    "Catch `openai.APIError` (or `Exception`), never `BaseException` or a bare `except:`: "
    "those also catch KeyboardInterrupt, so Ctrl-C (or the notebook's Stop button) would be "
    "turned into a result instead of stopping your code.",
)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _shape(run: SimRun, faults: list[str | None]) -> dict[str, Any]:
    """The learner's result, checked for the fields and their types (rule 1)."""
    name, result = run.fn_name, run.value
    if not isinstance(result, dict):
        hint = " (call `.to_dict()` on the record)" if hasattr(type(result), "to_dict") else ""
        raise Incorrect(
            f"`{name}` returned {type(result).__name__} {shown(result, 40)}; it should return a "
            f"dict with the keys {', '.join(RESULT_KEYS)}{hint}.",
            rule=1,
        )
    missing = [k for k in RESULT_KEYS if k not in result]
    if missing:
        raise Incorrect(f"The dict from `{name}` lacks the key(s) {', '.join(missing)}.", rule=1)
    r = {k: result[k] for k in RESULT_KEYS}
    wrong = {
        "ok": isinstance(r["ok"], bool),
        "output": r["output"] is None or isinstance(r["output"], str),
        "error_type": r["error_type"] is None or isinstance(r["error_type"], str),
        "message": r["message"] is None or isinstance(r["message"], str),
        "attempts": isinstance(r["attempts"], int) and not isinstance(r["attempts"], bool),
        "usage": r["usage"] is None or isinstance(r["usage"], dict),
        "latency_s": _number(r["latency_s"]) and r["latency_s"] >= 0,
    }
    bad = [k for k, fine in wrong.items() if not fine]
    if bad:
        scripted = ", ".join(str(f) for f in faults if f) or "none"
        raise Incorrect(
            f"`{name}` returned {', '.join(f'{k}={shown(r[k], 30)}' for k in bad)} (scripted "
            f"faults: {scripted}); see the types in the task's table.",
            rule=1,
        )
    return r


def _call(sim: Any, fn: Callable[..., Any], faults: list[str | None], **kw: Any) -> SimRun:
    run = run_on_simulator(sim, fn, PROMPT, faults=faults, record_sleep=True, **kw)
    run.raise_unexpected(allowed=(openai.APIError,))
    if run.raised:
        raise Incorrect(
            f"`{run.fn_name}` raised {type(run.error).__name__} (scripted faults: "
            f"{', '.join(str(f) for f in faults if f) or 'none'}); it should catch API errors "
            "and report them in the returned dict instead.",
            rule=3,
        )
    run.value = _shape(run, faults)
    return run


def _expect_failure(run: SimRun, category: str, label: str, attempts: int) -> None:
    r, name = run.value, run.fn_name
    if run.attempts != attempts:
        more = "" if attempts > 1 else " That error is permanent, so one attempt is enough."
        raise Incorrect(f"`{name}` sent {run.attempts} request(s) after {label}.{more}", rule=4)
    if r["ok"] is not False:
        raise Incorrect(f"`{name}` reported ok={shown(r['ok'])} after {label}.", rule=3)
    if r["error_type"] != category:
        raise Incorrect(
            f"`{name}` reported error_type={shown(r['error_type'])} after {label}; use the "
            "category from course_utils.errors.classify.",
            rule=3,
        )
    if r["attempts"] != run.attempts:
        raise Incorrect(
            f"`{name}` reported attempts={r['attempts']} but sent {run.attempts} request(s).",
            rule=5,
        )
    if not r["message"] or not r["message"].strip():
        raise Incorrect(f"`{name}` gave no message after {label}; say what went wrong.", rule=3)
    if run.api_key and run.api_key in r["message"]:
        raise Incorrect(
            f"The message from `{name}` contains the API key; never put a key in results or "
            "logs (str(err) from the SDK is safe: it masks keys).",
            rule=3,
        )
    if r["output"] not in (None, ""):
        raise Incorrect(f"`{name}` reported output={shown(r['output'], 40)} for a failure.", rule=3)
    if r["usage"] is not None:
        raise Incorrect(
            f"`{name}` reported usage={shown(r['usage'], 40)} for a failure; no answer came "
            "back, so usage is None.",
            rule=3,
        )


def _expect_success(run: SimRun, label: str) -> None:
    r, name = run.value, run.fn_name
    if r["ok"] is not True or not r["output"] or not r["output"].strip():
        raise Incorrect(
            f"`{name}` returned ok={shown(r['ok'])}, output={shown(r['output'], 40)} "
            f"{label}; expected ok=True and the answer text.",
            rule=2,
        )
    if r["error_type"] is not None:
        raise Incorrect(
            f"`{name}` reported error_type={shown(r['error_type'])} {label}; expected None.",
            rule=2,
        )
    billed = run.responses[-1]
    usage = r["usage"] or {}
    got = (usage.get("input_tokens"), usage.get("output_tokens"))
    if got != (billed.input_tokens, billed.output_tokens):
        raise Incorrect(
            f"`{name}` reported usage {shown(r['usage'], 80)} {label}; the server billed "
            f"input_tokens={billed.input_tokens}, output_tokens={billed.output_tokens} "
            "(read them from response.usage).",
            rule=2,
        )


@exercise(NAME, rules=RULES, hints=HINTS, solution_notebook="03_safe_generate.ipynb")
def check_safe_generate(fn: Callable[..., Any]) -> str:
    """Judge the result dicts for success, transient, permanent and exhausted failures."""
    with check_simulator() as sim:
        run = _call(sim, fn, [])
        _expect_success(run, "for a request that succeeded at once")
        if run.value["attempts"] != 1 or run.attempts != 1:
            raise Incorrect(
                f"`{run.fn_name}` reported attempts={run.value['attempts']} for a first-time "
                f"success (it sent {run.attempts}); expected 1.",
                rule=5,
            )

        run = _call(sim, fn, ["rate_limit", "disconnect", None], max_retries=3)
        if run.value["ok"] is not True or run.attempts != 3:
            raise Incorrect(
                f"`{run.fn_name}` returned ok={shown(run.value['ok'])} after {run.attempts} "
                "request(s) when a 429 and a dropped connection came before a success; "
                "transient errors deserve a retry.",
                rule=4,
            )
        _expect_success(run, "after a 429 and a dropped connection")
        if run.value["attempts"] != 3:
            raise Incorrect(
                f"`{run.fn_name}` reported attempts={run.value['attempts']} but sent 3 requests.",
                rule=5,
            )

        runs = [
            _call(sim, fn, NO_HINT_FAULTS, max_retries=3, seed=seed)
            for seed in range(1, WAIT_RUNS + 1)
        ]
        for run in runs:
            if run.value["ok"] is not True:
                raise Incorrect(
                    f"`{run.fn_name}` gave up after a 500 and a 503, which are transient.",
                    rule=4,
                )
        judge_waits_in_seconds(runs, 2, rule=5)

        permanent = (
            ("auth", "auth", "a 401 (bad API key)"),
            ("bad_request", "bad_request", "a 400 (bad request)"),
            ("quota", "quota", "a 429 with code insufficient_quota"),
            ("context_length", "context_length", "a 400 context_length_exceeded"),
        )
        for fault, category, label in permanent:
            run = _call(sim, fn, [fault, None, None, None], max_retries=3)
            _expect_failure(run, category, label, 1)

        run = _call(sim, fn, ["server_error"] * 6, max_retries=2)
        _expect_failure(run, "server_error", "500s on every attempt (max_retries=2)", 3)
        if len(run.delays) > 2:
            raise Incorrect(
                f"`{run.fn_name}` slept {len(run.delays)} times for 2 retries; no wait is "
                "needed after the last attempt.",
                rule=5,
            )

        run = run_on_simulator(sim, fn, PROMPT, interrupt=True, record_sleep=True)
        if not isinstance(run.error, KeyboardInterrupt):
            did = (
                f"raised {type(run.error).__name__}"
                if run.raised
                else f"returned {shown(run.value, 60)}"
            )
            raise Incorrect(
                f"Ctrl-C (KeyboardInterrupt) during a request did not stop `{run.fn_name}`: "
                f"it {did}. Catch `openai.APIError`, not `BaseException` or a bare `except:`.",
                rule=6,
            )
    return "Every outcome comes back in the same shape, and nothing but Ctrl-C gets through."
