"""The simulated model: deterministic teaching answers whose length follows the prompt.

Same model + same messages (+ same output format) always gives the same text: the choice of
sentences is seeded from a hash of the request. The text is built from the course's own sentence
templates around the prompt's topic. It is not a language model; it exists so that prompt
design visibly changes token counts ("3 bullet points" is short, a hedging essay request is
long) and so that JSON, truncation and usage behave as the service's do.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from ..pricing import DEFAULT_MODEL, ModelInfo, UnknownModelError, get_model
from ..tokens import (
    DEFAULT_OUTPUT_RESERVE_TOKENS,
    count_message_tokens,
    count_tokens,
    truncate_to_tokens,
)
from ..tokens import content_text as text_of  # the one content reader, kept under its old name

__all__ = [
    "DEFAULT_OUTPUT_RESERVE_TOKENS",
    "Answer",
    "compose",
    "count_input",
    "generate",
    "profile",
    "text_of",
]

_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "single": 1, "a single": 1, "two": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip
_NUM = r"\b(\d+|a single|single|one|two|three|four|five|six|seven|eight|nine|ten|an?)"
_BULLETS = re.compile(
    _NUM + r"[\s-]+(?:short\s+|key\s+|main\s+)?(?:bullet(?:\s*points?)?s?|points)"
)
_SENTENCES = re.compile(_NUM + r"[\s-]+(?:short\s+)?sentences?\b")
_WORDS = re.compile(
    r"\b(under|at most|no more than|fewer than|less than|within|max(?:imum)?(?: of)?|in)\s+"
    r"(\d+)\s+words"
)
_CODE = re.compile(r"\bcode\s+(?:example|snippet|sample)|\b(?:example|snippet)\s+(?:of\s+)?code")
_JSON = re.compile(r"\bjson\b")
_VERBOSE_WORDS = (
    "please",
    "comprehensive",
    "detailed",
    "in detail",
    "thorough",
    "make sure",
    "helpful",
    "examples",
    "balanced",
    "everything",
    "elaborate",
    "in depth",
)
_TOPIC = re.compile(
    r"\b(?:explain|describe|summari[sz]e|define|discuss|introduce|tell me about|teach me|"
    r"write about|what (?:is|are)|why|how (?:do|does|to|can)|explanation of|overview of|about)"
    r"\s+(.+?)(?=[.?!\n:;,]|\s(?:in|as|for|to|using|with|so|that|and why)\s|$)",
    re.IGNORECASE,
)
_LEADING = re.compile(r"^(?:what|how|why|is|are|does|do|to)\s+", re.IGNORECASE)
_TRAILING = re.compile(r"\s+(?:is|are|works?|means?|matters?|do|does)$", re.IGNORECASE)

_OPENERS = (
    "In short, the point of {topic} is to do one job well and make its cost visible.",
    "The core idea behind {topic} is simple once you see the problem it solves.",
    "The easiest way into {topic} is one small, concrete example.",
    "At its heart, working with {topic} means trading a little setup for code that is easier "
    "to change.",
    "A practical question sits behind {topic}: how do you get a reliable result at a known cost?",
)
_BODY = (
    "A good first step is to write down what goes in, what comes out and what can fail.",
    "Most of the difficulty appears at the edges: empty input, slow services and hard limits.",
    "Measure before you optimise, because intuition about cost is often wrong.",
    "Keeping each piece small makes it easy to test on its own.",
    "When something fails, a clear error message saves more time than a clever fix.",
    "Beginners learn it fastest by changing one thing at a time and watching the result.",
    "Name things after what they do, not after how they do it.",
    "Retries help with brief failures, but they cannot fix a request that is wrong.",
    "Token counts decide both the price of a request and whether it fits at all.",
    "A short, specific prompt usually gets a short, specific answer.",
    "Logging what happened, with numbers, turns guesses into decisions.",
    "The same pattern shows up in many libraries, so learning it once pays off often.",
    "Defaults are chosen for the common case, so check them before relying on them.",
    "For {topic}, the simplest version that works is usually the right place to start.",
    "Teams that use {topic} well write the trade-offs down next to the code.",
    "A common mistake with {topic} is adding complexity before it is needed.",
    "Using {topic} goes best when inputs are checked early and failures are explicit.",
    "Reading a real example of {topic} in a well-kept library teaches more than a summary.",
)
_HEDGES = (
    "It is worth noting that the details can vary from one situation to another.",
    "Of course, there are exceptions, and the right choice depends on your context.",
    "To put it another way, the goal is to make behaviour predictable.",
    "That said, it helps to keep the bigger picture in mind as you go.",
    "In many cases this is enough, although larger systems may need more care.",
    "There is no single right answer here, only trade-offs to weigh carefully.",
)
_CLOSERS = (
    "Start small, check the result, and grow from there.",
    "With that in place, {topic} becomes a tool you can reach for with confidence.",
    "Try it on a tiny example first, then apply it where it matters.",
)


@dataclass(frozen=True)
class Answer:
    """One generated answer, kept apart from how an endpoint serialises it."""

    text: str
    input_tokens: int
    output_tokens: int
    truncated: bool  # cut at the output cap


@cache
def profile(model: str) -> ModelInfo:
    """The catalogue row that shapes ``model`` (any id works: unknown ids get the default's)."""
    try:
        return get_model(model)
    except (UnknownModelError, TypeError):
        return get_model(DEFAULT_MODEL)


def count_input(messages: Sequence[Mapping[str, object]], model: str) -> int:
    """Input tokens as the simulator bills them (request accounting lives in ``tokens``)."""
    return count_message_tokens(messages, profile(model).id)


MAX_ITEMS = 50  # a requested count of bullets/sentences/array items is clamped to 1..MAX_ITEMS
MAX_WORDS = 2000  # a word limit above this is treated as this
MAX_SCHEMA_VALUES = 500  # a JSON-schema answer holds about this many values at most


def _number(word: str) -> int:
    """A requested count, clamped so "0 bullets" or "5000 bullets" stay a sane answer."""
    n = int(word) if word.isdigit() else _NUMBERS[word]
    return min(max(n, 1), MAX_ITEMS)


def _schema_number(schema: Mapping, key: str, default: float) -> float:
    """A numeric JSON-schema keyword, or ``default`` when it is missing or not a finite number."""
    value = schema.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return default
    return value


_STOP_WORDS = frozenset((
    "about", "answer", "brief", "bullet", "bullets", "explain", "format", "from", "give", "have",
    "into", "json", "keep", "list", "make", "only", "please", "point", "points", "return",
    "sentence", "sentences", "short", "should", "simple", "sure", "than", "that", "their",
    "there", "these", "this", "tiny", "under", "using", "very", "what", "when", "which", "with",
    "words", "would", "write", "your", "example", "examples", "code", "describe", "describing",
))  # fmt: skip


def _topic(prompt: str) -> str:
    """A short noun phrase for what the prompt is about (templates wrap it in sentences)."""
    m = _TOPIC.search(prompt)
    if m:
        topic = _LEADING.sub("", m.group(1).strip())
        topic = _TRAILING.sub("", topic).strip(" \"'")
        words = topic.split()
        if words:
            return " ".join(words[:6])
    words = [
        w for w in re.findall(r"[A-Za-z][A-Za-z-]{3,}", prompt) if w.lower() not in _STOP_WORDS
    ]
    if not words:
        return "this topic"
    longest = set(sorted(set(words), key=lambda w: (-len(w), w))[:2])
    picked: list[str] = []
    for w in words:
        if w in longest and w not in picked:
            picked.append(w)
    return " ".join(picked)


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


class _Writer:
    """Draws sentences for one request from a seeded generator."""

    def __init__(self, seed: int, topic: str) -> None:
        self.rng = random.Random(seed)
        self.topic = topic
        self.values_left = MAX_SCHEMA_VALUES  # nested large arrays stop growing past this

    def fill(self, template: str) -> str:
        return template.format(topic=self.topic, Topic=_cap(self.topic))

    def pick(self, bank: Sequence[str], n: int) -> list[str]:
        chosen = self.rng.sample(bank, min(n, len(bank)))
        while len(chosen) < n:
            chosen.append(self.rng.choice(bank))
        return [self.fill(t) for t in chosen]

    def sentences(self, n: int) -> list[str]:
        n = min(max(n, 1), MAX_ITEMS)
        return self.pick(_OPENERS, 1)[:n] + self.pick(_BODY, n - 1)

    def code(self) -> str:
        name = re.sub(r"\W+", "_", self.topic.lower()).strip("_")[:24] or "example"
        return (
            "Example:\n"
            f"def demo_{name}(value):\n"
            f'    """A tiny illustration of {self.topic}."""\n'
            "    result = value * 2\n"
            "    return result\n"
        )

    def long(self) -> str:
        paragraphs = []
        for i in range(4):
            body = self.pick(_BODY, 4) + self.pick(_HEDGES, 2)
            self.rng.shuffle(body)
            if i == 0:
                body = self.pick(_OPENERS, 1) + body
            paragraphs.append(" ".join(body))
        paragraphs.append(" ".join(self.pick(_HEDGES, 1) + self.pick(_CLOSERS, 1)))
        return "\n\n".join(paragraphs)


def _value(schema: object, name: str, w: _Writer, depth: int = 0) -> object:
    """A plausible value for a JSON-schema node (objects, arrays, enums, scalars)."""
    w.values_left -= 1
    if not isinstance(schema, Mapping) or depth > 6:
        return w.fill("{topic}")
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return w.rng.choice(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            options = [
                s for s in schema[key] if not (isinstance(s, Mapping) and s.get("type") == "null")
            ]
            return _value((options or schema[key])[0], name, w, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    lname = name.lower()
    if kind == "object":
        props = schema.get("properties")
        if not isinstance(props, Mapping):
            return {}
        return {k: _value(v, k, w, depth + 1) for k, v in props.items()}
    if kind == "array":
        lo = int(_schema_number(schema, "minItems", 0))
        hi = int(_schema_number(schema, "maxItems", 3))
        n = min(max(lo, min(3, hi), 0), MAX_ITEMS)
        singular = lname[:-1] if lname.endswith("s") else lname
        items: list[object] = []
        while len(items) < n and (not items or w.values_left > 0):
            items.append(_value(schema.get("items", {}), singular, w, depth + 1))
        return items
    if kind == "integer":
        lo = int(_schema_number(schema, "minimum", 1))
        hi = int(_schema_number(schema, "maximum", max(lo, 10)))
        return w.rng.randint(lo, max(lo, hi))
    if kind == "number":
        low = float(_schema_number(schema, "minimum", 0.0))
        high = float(_schema_number(schema, "maximum", max(low, 1.0)))
        return round(w.rng.uniform(low, max(low, high)), 2)
    if kind == "boolean":
        return w.rng.random() < 0.7
    if kind == "null":
        return None
    if any(k in lname for k in ("summary", "description", "explanation", "answer", "reason")):
        return w.sentences(1)[0]
    if any(k in lname for k in ("title", "topic", "name", "subject", "keyword", "tag")):
        return _cap(w.topic)
    if "sentiment" in lname:
        return w.rng.choice(["positive", "neutral", "negative"])
    if "email" in lname:
        return "learner@example.com"
    if "url" in lname or "link" in lname:
        return "https://example.com/course"
    if "date" in lname:
        return "2026-01-15"
    if any(k in lname for k in ("language", "lang")):
        return "en"
    return w.pick(_BODY, 1)[0]


def _limit_words(parts: list[str], max_words: int) -> list[str]:
    """Drop trailing parts (then words) until the whole is at most ``max_words`` words."""
    kept: list[str] = []
    total = 0
    for part in parts:
        n = len(part.split())
        if total + n > max_words:
            if not kept:
                kept.append(" ".join(part.split()[: max(1, max_words)]))
            break
        kept.append(part)
        total += n
    return kept


def compose(
    messages: Sequence[Mapping[str, object]],
    model: str,
    *,
    json_mode: bool = False,
    schema: Mapping | None = None,
) -> str:
    """The full (uncut) answer text for a conversation; deterministic."""
    prompt = "\n".join(text_of(m.get("content")) for m in messages)
    lower = prompt.lower()
    seed_src = json.dumps(
        [model, [text_of(m.get("content")) for m in messages], json_mode, schema],
        sort_keys=True,
        default=str,
    )
    seed = int.from_bytes(hashlib.blake2b(seed_src.encode(), digest_size=8).digest(), "big")
    user = [m for m in messages if m.get("role") == "user"]
    w = _Writer(seed, _topic(text_of(user[-1].get("content")) if user else prompt))

    bullets = _BULLETS.search(lower)
    sentences = _SENTENCES.search(lower)
    words = _WORDS.search(lower)
    if schema is not None:
        return json.dumps(_value(schema, "answer", w), indent=2)
    if json_mode or _JSON.search(lower):
        n = _number(bullets.group(1)) if bullets else 3
        obj = {"topic": _cap(w.topic), "summary": w.sentences(1)[0], "key_points": w.pick(_BODY, n)}
        return json.dumps(obj, indent=2)
    if bullets:
        parts = [f"- {s}" for s in w.sentences(_number(bullets.group(1)))]
    elif sentences:
        parts = w.sentences(_number(sentences.group(1)))
    elif words or (len(lower.split()) < 25 and not any(v in lower for v in _VERBOSE_WORDS)):
        parts = w.sentences(4)
    else:
        return w.long()
    if _CODE.search(lower):
        parts.append(w.code())
    if words:
        limit = min(int(words.group(2)), MAX_WORDS) - (
            1 if words.group(1) in ("under", "fewer than", "less than") else 0
        )
        parts = _limit_words(parts, limit)
    sep = "\n" if bullets else " "
    return sep.join(p.rstrip("\n") if sep == " " else p for p in parts).strip()


def generate(
    messages: Sequence[Mapping[str, object]],
    model: str,
    max_output_tokens: int | None = None,
    *,
    json_mode: bool = False,
    schema: Mapping | None = None,
    input_tokens: int | None = None,
) -> Answer:
    """Answer ``messages``: exact token counts, cut at ``max_output_tokens`` if given."""
    counting_model = profile(model).id
    if input_tokens is None:
        input_tokens = count_message_tokens(messages, counting_model)
    text = compose(messages, model, json_mode=json_mode, schema=schema)
    output_tokens = count_tokens(text, counting_model)
    truncated = False
    if max_output_tokens is not None and output_tokens > max_output_tokens:
        text = truncate_to_tokens(text, max_output_tokens, counting_model)
        output_tokens = count_tokens(text, counting_model)
        truncated = True
    return Answer(text, input_tokens, output_tokens, truncated)
