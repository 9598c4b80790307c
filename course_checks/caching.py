"""Exercise 6 (self-paced, after lesson 02), ``build_input``: lay out a request for cache hits.

``build_input(static_context, question)`` returns the ``input`` of a Responses request. The
check calls it for two different questions, sends both inputs to its own simulator and reads
``usage.input_tokens_details.cached_tokens`` of the second: a layout that starts with the
static context gets most of it from the cache; one that starts with the question, or with
anything else that changes between calls (a timestamp), gets nothing.
"""

from __future__ import annotations

from typing import Any

import openai

from course_utils.pricing import DEFAULT_MODEL
from course_utils.tokens import content_text, count_tokens

from .authoring import (
    Incorrect,
    LearnerRun,
    check_client,
    check_simulator,
    exercise,
    run_learner,
    shown,
)

__all__ = ["CHECK_CONTEXT", "CHECK_QUESTIONS", "HINTS", "RULES", "check_build_input"]

NAME = "build_input"
SOLUTION_NOTEBOOK = "06_prompt_caching.ipynb"
CACHE_STEP = 128  # cached tokens come in steps of 128 after the first 1,024

# The check's own static context (about 1,600 tokens of a help desk's house rules) and two
# different questions.
CHECK_CONTEXT = "\n".join(
    f"House rule {i}: when a customer writes about order {1000 + i}, greet them by name, quote "
    "the policy section that applies, offer the next step, and never promise a refund before "
    "the billing team has checked the account."
    for i in range(1, 41)
)
CHECK_QUESTIONS = ("How do I reset my password?", "Can I move my billing date to the 15th?")

# Rule n is stated in the task as "Rule n: <title>", and hint n helps with it.
RULES = (
    "return an input for responses.create",
    "keep the whole context and the question",
    "put the static context first",
    "nothing that changes goes before the context",
)
HINTS = (
    "Return what `client.responses.create(input=...)` accepts: one string, for example "
    '`f"{static_context}\\n\\nQuestion: {question}"`, or a list of messages such as '
    '`[{"role": "developer", "content": ...}, {"role": "user", "content": ...}]`.',
    "Put `static_context` in unchanged, every character of it (the cache compares tokens "
    "exactly, and the model needs all of it), and the question too.",
    "The cache serves only the shared *beginning* of a request. Start with `static_context` "
    "and put the question after it, so every request begins with the same 1,000+ tokens.",
    "Anything that differs from one request to the next (a timestamp, a request id, the "
    "user's name) makes every request start differently if it comes first. Put it after the "
    "context, next to the question, or leave it out.",
)


def _messages(value: Any) -> list[tuple[str, str]] | None:
    """(role, text) of each message in ``value``, or None when it is not an input at all."""
    if isinstance(value, str):
        return [("user", value)] if value.strip() else None
    if not isinstance(value, list) or not value:
        return None
    found = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("role"), str):
            return None
        try:
            found.append((item["role"], content_text(item.get("content"))))
        except TypeError:
            return None
    return found


def _text(value: Any) -> str:
    return "\n".join(text for _, text in _messages(value) or [])


def _built(run: LearnerRun, question: str) -> Any:
    """The learner's input for ``question``, checked for shape (1) and content (2)."""
    run.raise_unexpected()
    value = run.value
    if _messages(value) is None:
        raise Incorrect(
            f"`{run.fn_name}(static_context, question)` returned {shown(value, 50)}; "
            "`responses.create(input=...)` needs a non-empty string or a list of messages "
            "(dicts with a 'role' and a text 'content').",
            rule=1,
        )
    text = _text(value)
    if CHECK_CONTEXT not in text:
        raise Incorrect(
            f"The input `{run.fn_name}` built does not contain the static context unchanged "
            f"(it holds {len(text):,} characters; the context alone is {len(CHECK_CONTEXT):,}).",
            rule=2,
        )
    if question not in text:
        raise Incorrect(
            f"The input `{run.fn_name}` built for the question {question!r} does not contain it.",
            rule=2,
        )
    return value


def _send(client: Any, value: Any) -> Any:
    try:
        return client.responses.create(model=DEFAULT_MODEL, input=value, max_output_tokens=16)
    except openai.BadRequestError as err:
        raise Incorrect(
            f"The API refused the input `{NAME}` built ({err.message[:120]}).", rule=1
        ) from None


def _why_no_hit(first: str, second: str, cached: int) -> Incorrect:
    """Name the rule a layout without cache hits breaks: the question first (3), or something
    else that changes before the context (4)."""
    start_1, start_2 = first.find(CHECK_CONTEXT), second.find(CHECK_CONTEXT)
    seen = f"the second request had {cached:,} cached tokens"
    if 0 <= first.find(CHECK_QUESTIONS[0]) < start_1:
        return Incorrect(
            f"The question comes before the static context, so each request starts with "
            f"different tokens and {seen}: nothing it shares with the first one is at its start.",
            rule=3,
        )
    if first[:start_1] != second[:start_2]:
        one, other = shown(first[: min(start_1, 40)], 50), shown(second[: min(start_2, 40)], 50)
        return Incorrect(
            f"What comes before the static context changes from call to call (one input starts "
            f"{one}, the next {other}), so {seen}.",
            rule=4,
        )
    return Incorrect(
        f"The static context does not start the request in a way the cache can reuse: {seen}.",
        rule=3,
    )


@exercise(NAME, rules=RULES, hints=HINTS, solution_notebook=SOLUTION_NOTEBOOK)
def check_build_input(fn: Any) -> str:
    """Two questions through the learner's layout; the second must be served from the cache."""
    values = [_built(run_learner(fn, CHECK_CONTEXT, q), q) for q in CHECK_QUESTIONS]
    with check_simulator() as sim:
        client = check_client(sim)
        try:
            second = [_send(client, v) for v in values][-1]  # the first one fills the cache
        finally:
            client.close()
    cached = int(second.usage.input_tokens_details.cached_tokens)
    context_tokens = count_tokens(CHECK_CONTEXT, DEFAULT_MODEL)
    if cached < context_tokens - 2 * CACHE_STEP:
        raise _why_no_hit(_text(values[0]), _text(values[1]), cached)
    share = cached / second.usage.input_tokens
    return (
        f"The second question was served {cached:,} of its {second.usage.input_tokens:,} input "
        f"tokens from the cache ({share:.0%}), billed at a tenth of the input price."
    )
