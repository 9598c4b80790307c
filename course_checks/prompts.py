"""Exercise 1, ``compare_prompts``, and its homework item, ``generate_in_style``.

Both are judged by what reaches a fresh course simulator: the tokens the server billed, whether
an output cap cut the answer, and which model was asked, so a check never trusts a learner's
own arithmetic.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from openai.types.responses import Response

from course_utils.pricing import DEFAULT_MODEL, estimate_cost

from .authoring import (
    Incorrect,
    LearnerRun,
    check_simulator,
    describe_exception,
    exercise,
    run_on_simulator,
    shown,
)

__all__ = [
    "COMPARE_HINTS",
    "COMPARE_RULES",
    "STYLE_HINTS",
    "STYLE_RULES",
    "check_compare_prompts",
    "check_generate_in_style",
]

SOLUTION_NOTEBOOK = "01_prompt_styles.ipynb"
FIELDS = ("input_tokens", "output_tokens", "cost_usd")  # numbers; plus "text", the answer
MIN_CAP_TOKENS = 16  # the API's smallest max_output_tokens
OTHER_MODEL = "gpt-5.4-nano"

# The check's own pair: the verbose one gets a long answer from the simulator (hundreds of
# tokens), so a small cap must visibly cut it.
CHECK_VERBOSE = (
    "Please give me a detailed, comprehensive and helpful explanation of how HTTP caching "
    "works, with examples, and make sure it is balanced: not too short and not too long."
)
CHECK_CONCISE = "Explain HTTP caching in 3 bullet points, under 60 words."
CHECK_CAP = 40

# Rule n is stated in the task as "Rule n: <title>", and hint n helps with it.
COMPARE_RULES = (
    "send each prompt once, with the model given",
    "return the report",
    "take the tokens from the server's usage",
    "price the tokens with the catalogue",
    "cap every answer",
    "compare your own pair",
)
COMPARE_HINTS = (
    "Send each prompt once with `client.responses.create(model=model, input=prompt, "
    "max_output_tokens=max_output_tokens)`, using the `model` argument you were given.",
    'Return a dict with two entries, `{"verbose": {...}, "concise": {...}}`, each holding '
    "`input_tokens`, `output_tokens` and `cost_usd` (numbers) and `text` "
    "(`response.output_text`, the answer) for that prompt.",
    "Take the token numbers from the server's answer, `response.usage.input_tokens` and "
    "`response.usage.output_tokens`, not from a local estimate or len(text).",
    "Price each call with the course catalogue: `estimate_cost(model, input_tokens, "
    "output_tokens)` from `course_utils.pricing` (it knows every model's price).",
    "Cap the output: give `max_output_tokens` a whole number as its default (e.g. 150; the "
    "API's smallest is 16) and pass it to every `responses.create` call, so no answer can run "
    "long.",
    "Write your own pair in MY_VERBOSE_PROMPT / MY_CONCISE_PROMPT and use them as the "
    "defaults of `verbose_prompt` / `concise_prompt`. The concise one should ask for a format "
    "and a size ('3 bullet points, 1 tiny code example, under 120 words'); the verbose one "
    "hedges about length. Both must be about a subject the model answers (the course model "
    "knows, among others, Python decorators, list comprehensions and HTTP status codes).",
)

STYLE_RULES = (
    "send one request and return the response",
    "caps grow from short to long",
    "each answer fits its cap",
    "reject an unknown style",
)
STYLE_HINTS = (
    "Call `client.responses.create(...)` once and return the response object itself, so the "
    "caller can read `.output_text`, `.usage` and `.max_output_tokens`.",
    "Map each style to a number with a dict, e.g. `{'short': 60, 'medium': 160, 'long': "
    "800}`, and pass it as `max_output_tokens`: short < medium < long. A 'detailed' answer "
    "easily runs to 400+ tokens, so give long plenty of room.",
    "Pair each cap with an instruction that asks for an answer that fits it ('Answer in one "
    "sentence.' for short, 'Answer in 3 bullet points, under 80 words.' for medium, 'Answer "
    "in detail.' for long), sent as `instructions=` or added to the prompt. If an answer "
    "comes back with status 'incomplete', the instruction asks for more than the cap allows.",
    "Before calling the API, reject a style that is not in your dict: `raise "
    "ValueError(f'unknown style {style!r}: choose short, medium or long')`.",
)


# --- shared helpers --------------------------------------------------------------------------


def _call(sim: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[LearnerRun, list]:
    run = run_on_simulator(sim, fn, *args, **kwargs)
    return run, run.responses


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# --- Exercise 1: compare_prompts -------------------------------------------------------------


def _report(run: LearnerRun) -> dict[str, Mapping[str, Any]]:
    """The learner's report, checked for shape: two entries of three numbers each."""
    run.raise_unexpected()
    value = run.value
    if not isinstance(value, dict):
        raise Incorrect(
            f"`{run.fn_name}` returned {type(value).__name__} {shown(value)}; it should return "
            "a dict with a 'verbose' and a 'concise' entry.",
            rule=2,
        )
    for key in ("verbose", "concise"):
        entry = value.get(key)
        if not isinstance(entry, dict):
            raise Incorrect(
                f"`{run.fn_name}`'s result has no {key!r} entry holding a dict (keys found: "
                f"{shown(list(value)) if value else 'none'}).",
                rule=2,
            )
        missing = [f for f in FIELDS if not _number(entry.get(f))]
        if missing:
            raise Incorrect(
                f"`{run.fn_name}`'s {key!r} entry lacks a number for {', '.join(missing)}.",
                rule=2,
            )
        if not isinstance(entry.get("text"), str):
            raise Incorrect(
                f"`{run.fn_name}`'s {key!r} entry has text={shown(entry.get('text'), 40)}; it "
                "should hold the answer, `response.output_text` (a str).",
                rule=2,
            )
    return {k: value[k] for k in ("verbose", "concise")}


def _judge_numbers(name: str, report: Mapping[str, Mapping[str, Any]], records: list) -> None:
    if len(records) != 2:
        raise Incorrect(
            f"`{name}` sent {len(records)} requests for two prompts; send each prompt once.",
            rule=1,
        )
    billed = sorted((r.input_tokens, r.output_tokens) for r in records)
    reported = sorted(
        (report[k]["input_tokens"], report[k]["output_tokens"]) for k in ("verbose", "concise")
    )
    if billed != reported:
        raise Incorrect(
            f"`{name}` reported (input, output) tokens {reported}, but the server billed "
            f"{billed} for those two requests.",
            rule=3,
        )


def _judge_costs(name: str, report: Mapping[str, Mapping[str, Any]], model: str) -> None:
    for key, entry in report.items():
        expected = estimate_cost(model, int(entry["input_tokens"]), int(entry["output_tokens"]))
        if not math.isclose(entry["cost_usd"], expected, rel_tol=1e-6, abs_tol=1e-12):
            raise Incorrect(
                f"`{name}` reported cost_usd={shown(entry['cost_usd'])} for the {key} prompt "
                f"on {model}; that is not the catalogue price of those tokens.",
                rule=4,
            )


# What a refusal starts with, live or on the simulator: an answer like this compares nothing.
_REFUSAL = re.compile(
    r"\bI(?: am|'m|’m)? (?:can't|can’t|cannot|unable to|not able to)\b|^I'm sorry\b|"
    r"^Which subject should I explain\b",
    re.IGNORECASE | re.MULTILINE,
)
KNOWN_SUBJECTS = (
    "Python decorators",
    "list comprehensions",
    "HTTP status codes",
    "Python virtual environments",
)


def _judge_answered(report: Mapping[str, Mapping[str, Any]]) -> None:
    """Rule 6: both prompts got a real answer, so the comparison measures the prompts."""
    refused = [k for k, entry in report.items() if _REFUSAL.search(entry["text"][:300])]
    if refused:
        first = report[refused[0]]["text"].strip().splitlines()[0]
        raise Incorrect(
            f"The answer to your {' and '.join(refused)} prompt is a refusal "
            f"({shown(first, 70)}): comparing refusals says nothing about your prompts. Pick a "
            f"subject the model answers, such as {', '.join(KNOWN_SUBJECTS)}.",
            rule=6,
        )


def _own_defaults(fn: Callable[..., Any], name: str) -> object:
    """The default output cap, after checking the defaults hold the learner's own prompt pair."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    defaults = {p.name: p.default for p in params}
    cap = defaults.get("max_output_tokens", inspect.Parameter.empty)
    if not _number(cap) or isinstance(cap, float) or cap < MIN_CAP_TOKENS:
        raise Incorrect(
            f"`{name}`'s `max_output_tokens` defaults to {shown(cap)}; give it a whole number "
            f"of at least {MIN_CAP_TOKENS}: without a cap an answer can run as long as the "
            "model likes (and cost accordingly).",
            rule=5,
        )
    pair = [p.default for p in params[1:3]]
    if len(pair) < 2 or not all(isinstance(p, str) and p.strip() for p in pair):
        raise Incorrect(
            f"`{name}`'s `verbose_prompt` and `concise_prompt` have no prompts of your own as "
            "their defaults yet.",
            rule=6,
        )
    if pair[0].strip() == pair[1].strip():
        raise Incorrect(f"`{name}`'s two default prompts are the same text.", rule=6)
    return cap


@exercise(
    "compare_prompts",
    rules=COMPARE_RULES,
    hints=COMPARE_HINTS,
    solution_notebook=SOLUTION_NOTEBOOK,
)
def check_compare_prompts(fn: Callable[..., Any]) -> str:
    """Judge the report against the server's usage, the catalogue and the requests' caps."""
    with check_simulator() as sim:
        run, records = _call(
            sim, fn, CHECK_VERBOSE, CHECK_CONCISE, model=DEFAULT_MODEL,
            max_output_tokens=CHECK_CAP,
        )  # fmt: skip
        report = _report(run)
        _judge_numbers(run.fn_name, report, records)
        _judge_costs(run.fn_name, report, DEFAULT_MODEL)
        if any(r.output_tokens > CHECK_CAP for r in records) or not any(
            r.outcome == "incomplete" for r in records
        ):
            longest = max(r.output_tokens for r in records)
            raise Incorrect(
                f"`{run.fn_name}(..., max_output_tokens={CHECK_CAP})` got an answer of "
                f"{longest} tokens: the cap it was given never reached the API.",
                rule=5,
            )

        run, records = _call(
            sim, fn, CHECK_VERBOSE, CHECK_CONCISE, model=OTHER_MODEL, max_output_tokens=500
        )
        report = _report(run)
        asked = sorted({r.model for r in records})
        if asked != [OTHER_MODEL]:
            raise Incorrect(
                f"`{run.fn_name}(..., model={OTHER_MODEL!r})` asked the server for {asked}; "
                "use the `model` argument in each call.",
                rule=1,
            )
        _judge_numbers(run.fn_name, report, records)
        _judge_costs(run.fn_name, report, OTHER_MODEL)

        cap = _own_defaults(fn, run.fn_name)
        run, records = _call(sim, fn)
        report = _report(run)
        _judge_numbers(run.fn_name, report, records)
        _judge_answered(report)
        totals = {k: report[k]["input_tokens"] + report[k]["output_tokens"] for k in report}
        if totals["concise"] >= totals["verbose"]:
            raise Incorrect(
                f"With your own prompts, the concise one used {totals['concise']} tokens "
                f"(input + output) and the verbose one {totals['verbose']}: the concise prompt "
                "is not cheaper yet.",
                rule=6,
            )
    saved = 1 - totals["concise"] / totals["verbose"]
    return (
        f"Your concise prompt used {saved:.0%} fewer tokens than the verbose one "
        f"(cap: {cap} output tokens)."
    )


# --- Homework: generate_in_style -------------------------------------------------------------

STYLE_PROMPT = "Explain how HTTP caching works."
STYLE_ORDER = ("short", "medium", "long")


def _style_response(run: LearnerRun, style: str) -> Any:
    run.raise_unexpected()
    response = run.value
    if type(response) is not Response:
        raise Incorrect(
            f"`{run.fn_name}(client, prompt, style={style!r})` returned "
            f"{type(response).__name__}; return the response from responses.create itself.",
            rule=1,
        )
    return response


@exercise(
    "generate_in_style",
    rules=STYLE_RULES,
    hints=STYLE_HINTS,
    solution_notebook=SOLUTION_NOTEBOOK,
)
def check_generate_in_style(fn: Callable[..., Any]) -> str:
    """Judge each style's cap and answer on a fresh simulator, and the error for a bad style."""
    responses = {}
    with check_simulator() as sim:
        for style in STYLE_ORDER:
            run, records = _call(sim, fn, STYLE_PROMPT, style)
            responses[style] = _style_response(run, style)
            if len(records) != 1:
                raise Incorrect(
                    f"`{run.fn_name}(..., style={style!r})` sent {len(records)} requests; "
                    "send one.",
                    rule=1,
                )
        name = run.fn_name
        caps = {s: r.max_output_tokens for s, r in responses.items()}
        if any(type(c) is not int for c in caps.values()):
            raise Incorrect(
                f"`{name}` sent these output caps: {caps}; every style needs a whole number "
                "as its max_output_tokens.",
                rule=2,
            )
        if not caps["short"] < caps["medium"] < caps["long"]:
            raise Incorrect(
                f"`{name}` used the caps {caps}; they should grow from short to long.", rule=2
            )
        cut = [s for s, r in responses.items() if r.status != "completed"]
        if cut:
            raise Incorrect(
                f"`{name}`'s {', '.join(map(repr, cut))} answer came back incomplete (cut at "
                "its cap): its instruction asks for more than the cap allows.",
                rule=3,
            )
        outs = {s: r.usage.output_tokens for s, r in responses.items()}
        if not outs["short"] < outs["long"]:
            raise Incorrect(
                f"`{name}`'s answers were {outs} output tokens long; the short style should "
                "ask for a visibly shorter answer than the long one.",
                rule=3,
            )

        run, records = _call(sim, fn, STYLE_PROMPT)
        default = _style_response(run, "(default)")
        if default.max_output_tokens != caps["medium"]:
            raise Incorrect(
                f"`{name}` without a style used cap {default.max_output_tokens}; the default "
                f"style should be 'medium' (cap {caps['medium']}).",
                rule=2,
            )

        run, records = _call(sim, fn, STYLE_PROMPT, "gigantic")
        if not isinstance(run.error, ValueError):
            got = (
                f"raised {type(run.error).__name__}"
                if run.raised
                else f"returned {type(run.value).__name__}"
            )
            raise Incorrect(
                f"`{name}(..., style='gigantic')` {got}; an unknown style should raise ValueError.",
                rule=4,
            )
        said = describe_exception(run.error)
        if "gigantic" not in said and "short" not in said:
            raise Incorrect(
                f"`{name}`'s error says {said!r}; name the bad style or the valid ones so the "
                "caller knows what to fix.",
                rule=4,
            )
        if records:
            raise Incorrect(
                f"`{name}(..., style='gigantic')` still sent a request; check the style first.",
                rule=4,
            )
    return f"Caps {caps['short']} < {caps['medium']} < {caps['long']} tokens, all answers complete."
