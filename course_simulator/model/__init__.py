"""The simulated model: deterministic answers about the question, shaped the way it asks.

Same model + same messages (+ same output settings) always gives the same text. The words come
from the course's knowledge base (``course_simulator/data/knowledge/*.toml``, read by
``knowledge``): the subject is found in the prompt (``subjects``), its facts are chosen
(``content``) and written in the shape the prompt asks for (``prompt`` reads it, ``writing``
writes it): N bullets, N sentences, under N words (together: N shorter bullets), a valid
Python code block, JSON (``values``) -- while a verbose, open prompt gets a long, padded
answer, so prompt design visibly changes token counts. A subject the knowledge base does not
hold gets the same shapes, naming it and marked as simulated.

Reasoning models spend hidden reasoning tokens first (``reasoning``). It is not a language
model: it exists so that what the course teaches about tokens, caps and formats behaves
offline as it does live, with answers a reader can judge.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from course_utils.tokens import (
    DEFAULT_OUTPUT_RESERVE_TOKENS,
    count_message_tokens,
    count_tokens,
    truncate_to_tokens,
)
from course_utils.tokens import content_text as text_of

from ..classify import classify, parse_classification
from .content import content_for
from .knowledge import code_examples, fill_model_ids, known_subjects, phrases
from .prompt import CODE_FIRST, IS_GREETING, IS_THANKS, NUM, SAY_HI, Ask, number, parse
from .reasoning import (
    DEFAULT_VERBOSITY,
    EFFORTS,
    REASONING_TOKEN_STEP,
    VERBOSITIES,
    UnsupportedSetting,
    profile,
    reasoning_tokens,
    resolve_effort,
    resolve_verbosity,
    spends_reasoning,
)
from .subjects import find_subjects
from .values import json_answer, value
from .writing import Writer, trim

__all__ = [
    "DEFAULT_OUTPUT_RESERVE_TOKENS",
    "DEFAULT_VERBOSITY",
    "EFFORTS",
    "REASONING_TOKEN_STEP",
    "VERBOSITIES",
    "Answer",
    "UnsupportedSetting",
    "code_examples",
    "compose",
    "count_input",
    "fill_model_ids",
    "find_subjects",
    "generate",
    "known_subjects",
    "profile",
    "reasoning_tokens",
    "resolve_effort",
    "resolve_verbosity",
    "text_of",
]


@dataclass(frozen=True)
class Answer:
    """One generated answer, kept apart from how an endpoint serialises it."""

    text: str
    input_tokens: int
    output_tokens: int  # everything billed as output: the visible text plus reasoning tokens
    truncated: bool  # cut at the output cap
    reasoning_tokens: int = 0  # hidden reasoning spent before the text (reasoning models)
    reasoning_effort: str | None = None  # the effort it ran at (None: not a reasoning model)
    verbosity: str = "medium"  # the text verbosity it ran at


def count_input(messages: Sequence[Mapping[str, object]], model: str) -> int:
    """Input tokens as the simulator bills them (request accounting lives in ``tokens``)."""
    return count_message_tokens(messages, profile(model).id)


def _greeting(ask: Ask) -> str | None:
    """The answer to small talk ("hi", "say hello in 3 words", "thanks"), else None."""
    q = ask.question.strip().lower()
    said = phrases()
    if SAY_HI.search(q):
        n = None
        if m := re.search(r"\b(?:in|with|using)\s+" + NUM + r"\s+words?", q):
            n = number(m.group(1))
        elif ask.max_words:
            n = ask.max_words
        if n is None:
            return said.greeting if not ask.sentences else said.greeting_by_words[5]
        if n <= len(said.greeting_by_words):
            return said.greeting_by_words[n - 1]
        words = said.greeting.split()
        return said.greeting if n >= len(words) else trim(words[:n])
    if IS_GREETING.match(q):
        return said.greeting
    if IS_THANKS.match(q):
        return said.thanks
    return None


MAX_COUNTED_ANSWER_CHARS = 8192  # answers up to this long are counted once, then remembered


@lru_cache(maxsize=2048)
def _counted(text: str, model: str) -> int:
    return count_tokens(text, model)


def _answer_tokens(text: str, model: str) -> int:
    """Tokens of an answer's text. The model writes the same texts again and again (a subject
    asked in other words, a lesson cell run by a whole room), so a short one is counted once."""
    if len(text) > MAX_COUNTED_ANSWER_CHARS:
        return count_tokens(text, model)
    return _counted(text, model)


def _seed(model: str, messages: Sequence[Mapping[str, object]], *extra: object) -> int:
    src = json.dumps(
        [model, [text_of(m.get("content")) for m in messages], *extra], sort_keys=True, default=str
    )
    return int.from_bytes(hashlib.blake2b(src.encode(), digest_size=8).digest(), "big")


def compose(
    messages: Sequence[Mapping[str, object]],
    model: str,
    *,
    json_mode: bool = False,
    schema: Mapping | None = None,
    verbosity: str | None = None,
) -> str:
    """The full (uncut) answer text for a conversation; deterministic."""
    ask = parse(messages)
    level = {"low": -1, "high": 1}.get(verbosity or "", 0)
    seed = _seed(model, messages, json_mode, schema, level)
    short = level < 0
    greeting = _greeting(ask)
    if greeting is not None and schema is None and not (json_mode or ask.json):
        return greeting
    content = content_for(ask)
    w = Writer(seed, content, ask)
    if schema is not None:
        return json.dumps(value(schema, "answer", w), indent=2)
    if json_mode or ask.json:
        return json_answer(w, ask.bullets or ask.items or 3, short or ask.max_words is not None)
    constrained = ask.bullets or ask.sentences or ask.max_words is not None
    if content.subjects and content.code_ok and not constrained and ask.length < 2:
        if content.angle in ("example", "code") or CODE_FIRST.match(ask.question):
            return w.code_answer()
        wants_python = "python" in ask.text or content.subjects[0].python
        if content.angle == "howto" and ask.code is None and wants_python:
            ask.code = "block"
    if ask.bullets:
        return w.listed(ask.bullets, short)
    if ask.items:
        return w.listed(ask.items, short)
    if ask.sentences:
        return w.sentences(ask.sentences, short)
    if ask.max_words is not None:
        most = 8 if ask.max_words >= 150 else 5
        return w.flexible(most, short)
    length = ask.length + level
    if length >= 2 and not content.asks_back:
        return w.long(extra=length >= 3)
    if content.asks_back:
        return w.flexible(3 if length >= 2 else 2, short)
    return w.flexible(2 if length <= 0 else 4, short and length > 0)


def _label(messages: Sequence[Mapping[str, object]], model: str) -> str | None:
    """The label a classification request asks for (lesson 06's benchmark), else None."""
    parts = [text_of(m.get("content")) for m in messages if m.get("role") != "assistant"]
    task = parse_classification("\n".join(parts))
    if task is None:
        return None
    labels, text = task
    return classify(text, labels, model, profile(model).tier)


def generate(
    messages: Sequence[Mapping[str, object]],
    model: str,
    max_output_tokens: int | None = None,
    *,
    json_mode: bool = False,
    schema: Mapping | None = None,
    input_tokens: int | None = None,
    reasoning_effort: str | None = None,
    verbosity: str | None = None,
) -> Answer:
    """Answer ``messages``: exact token counts, cut at ``max_output_tokens`` if given.

    On a reasoning model the hidden reasoning tokens come first and count against the cap, as
    on the service: a cap smaller than the reasoning leaves the visible answer empty.
    ``reasoning_effort`` / ``verbosity`` take the values ``resolve_effort`` /
    ``resolve_verbosity`` accept (``None`` means the model's default).
    """
    counting_model = profile(model).id
    if input_tokens is None:
        input_tokens = count_message_tokens(messages, counting_model)
    effort = resolve_effort(model, reasoning_effort)
    verbosity = resolve_verbosity(model, verbosity)
    text = _label(messages, model) or compose(
        messages, model, json_mode=json_mode, schema=schema, verbosity=verbosity
    )
    visible = _answer_tokens(text, counting_model)
    hidden = 0
    if spends_reasoning(effort):  # the seed is a hash of the conversation: only when needed
        hidden = reasoning_tokens(_seed(model, messages), effort, input_tokens, visible)
    truncated = False
    if max_output_tokens is not None and hidden + visible > max_output_tokens:
        truncated = True
        if hidden >= max_output_tokens:
            hidden, text, visible = max_output_tokens, "", 0
        else:
            text = truncate_to_tokens(text, max_output_tokens - hidden, counting_model)
            visible = count_tokens(text, counting_model)
    return Answer(text, input_tokens, visible + hidden, truncated, hidden, effort, verbosity)
