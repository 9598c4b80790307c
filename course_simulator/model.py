"""The simulated model: deterministic answers about the question, shaped the way it asks.

Same model + same messages (+ same output settings) always gives the same text. The words come
from the course's own knowledge base (``knowledge.py``): the subject is found in the prompt
("explain to me what X is", "why should apps use X?", "X vs Y"), and its facts are composed
into the shape the prompt asks for — N bullets, N sentences, under N words (together: N
shorter bullets), a valid Python code block, JSON — while a verbose, open prompt gets a long,
padded answer, so prompt design visibly changes token counts. A prompt about anything else
gets a short, honest answer that names the subject and says what the simulated model knows.

Reasoning models (``reasoning = true`` in the catalogue) spend hidden reasoning tokens before
the visible answer, more for a higher ``reasoning.effort``; they are billed as output and
counted against ``max_output_tokens``, so a small cap can end ``incomplete`` with no visible
text, as on the service. ``text.verbosity`` makes open answers shorter or longer.

It is not a language model: it exists so that what the course teaches about tokens, caps and
formats behaves offline as it does live, with answers a reader can judge.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import zip_longest

from course_utils.pricing import DEFAULT_MODEL, ModelInfo, UnknownModelError, get_model, list_models
from course_utils.tokens import (
    DEFAULT_OUTPUT_RESERVE_TOKENS,
    count_message_tokens,
    count_tokens,
    truncate_to_tokens,
)
from course_utils.tokens import (
    content_text as text_of,  # the one content reader, kept under its old name
)

from .classify import classify, parse_classification
from .knowledge import (
    CLOSERS,
    COMPARISONS,
    GREETING,
    GREETING_WORDS,
    HEDGES,
    LONG_CLOSER,
    META,
    NO_SUBJECT,
    NO_SUBJECT_ONE_SENTENCE,
    PYTHON_SUBJECTS,
    SUBJECTS,
    TIPS_INTROS,
    TRANSITIONS,
    UNKNOWN,
    UNKNOWN_ONE_SENTENCE,
    Subject,
)

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


# --- reasoning models and verbosity ---------------------------------------------------------

EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")  # the SDK's ReasoningEffort
VERBOSITIES = ("low", "medium", "high")  # the SDK's ResponseTextConfig.verbosity
DEFAULT_VERBOSITY = "medium"

# Hidden reasoning spent per effort, in units of 64 tokens for a plain one-line question; a
# longer prompt, a longer answer or more constraints scale it up. "none" spends nothing and
# "minimal" next to nothing, as the service's docs describe them.
_EFFORT_UNITS = {
    "none": 0.0, "minimal": 0.6, "low": 2.0, "medium": 6.0, "high": 18.0, "xhigh": 36.0,
    "max": 60.0,
}  # fmt: skip
REASONING_TOKEN_STEP = 64  # reasoning counts come in whole steps of this many tokens


class UnsupportedSetting(ValueError):
    """A ``reasoning`` or ``verbosity`` value the model does not take (the service's 400)."""

    def __init__(self, message: str, param: str, code: str) -> None:
        super().__init__(message)
        self.param = param
        self.code = code


def _quoted(values: Sequence[str]) -> str:
    """'a', 'b', and 'c' — the service's way of listing supported values."""
    items = [f"'{v}'" for v in values]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f", and {items[-1]}"


def resolve_effort(model: str, effort: object, param: str = "reasoning.effort") -> str | None:
    """The reasoning effort a request runs at, or the service's 400 as ``UnsupportedSetting``.

    ``None`` (not set) means the model's default; models that do not reason take no effort at
    all and return ``None``.
    """
    info = profile(model)
    if effort is None:
        return info.default_reasoning_effort if info.reasoning else None
    if not isinstance(effort, str) or effort not in EFFORTS:
        raise UnsupportedSetting(
            f"Invalid value: {effort!r}. Supported values are: {_quoted(EFFORTS)}.",
            param,
            "invalid_value",
        )
    if not info.reasoning:
        raise UnsupportedSetting(
            f"Unsupported parameter: '{param}' is not supported with this model.",
            param,
            "unsupported_parameter",
        )
    if effort not in info.reasoning_efforts:
        raise UnsupportedSetting(
            f"Unsupported value: '{param}' does not support '{effort}' with this model. "
            f"Supported values are: {_quoted(info.reasoning_efforts)}.",
            param,
            "unsupported_value",
        )
    return effort


def resolve_verbosity(model: str, verbosity: object, param: str = "text.verbosity") -> str:
    """The verbosity a request runs at (``medium`` unless set), or the service's 400.

    The reasoning models (the gpt-5 family) take ``low``, ``medium`` and ``high``; the others
    take only ``medium``, as the service answers them.
    """
    if verbosity is None:
        return DEFAULT_VERBOSITY
    if not isinstance(verbosity, str) or verbosity not in VERBOSITIES:
        raise UnsupportedSetting(
            f"Invalid value: {verbosity!r}. Supported values are: {_quoted(VERBOSITIES)}.",
            param,
            "invalid_value",
        )
    if verbosity != DEFAULT_VERBOSITY and not profile(model).reasoning:
        raise UnsupportedSetting(
            f"Unsupported value: '{param}' does not support '{verbosity}' with this model. "
            f"Supported values are: '{DEFAULT_VERBOSITY}'.",
            param,
            "unsupported_value",
        )
    return verbosity


def reasoning_tokens(seed: int, effort: str | None, input_tokens: int, answer_tokens: int) -> int:
    """Hidden reasoning tokens for one request: more for higher effort and harder requests."""
    units = _EFFORT_UNITS.get(effort or "none", 0.0)
    if units == 0:
        return 0
    difficulty = 1.0 + answer_tokens / 400 + input_tokens / 2000
    wobble = 0.8 + 0.4 * random.Random(seed ^ 0x5EA5).random()  # same for every effort
    return round(units * difficulty * wobble) * REASONING_TOKEN_STEP


# --- reading the prompt ----------------------------------------------------------------------

MIN_WORDS_PER_ITEM = 7  # a word limit leaves at least this much per sentence beside a code block
MAX_ITEMS = 50  # a requested count of bullets/sentences/array items is clamped to 1..MAX_ITEMS
MAX_WORDS = 2000  # a word limit above this is treated as this
MAX_SCHEMA_VALUES = 500  # a JSON-schema answer holds about this many values at most

_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "single": 1, "a single": 1, "two": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "a couple of": 2,
    "a few": 3, "several": 4,
}  # fmt: skip
_NUM = (
    r"\b(\d+|a single|single|a couple of|a few|several|one|two|three|four|five|six|seven|"
    r"eight|nine|ten|an?)"
)
_ADJ = (
    r"(?:(?:short|brief|simple|clear|friendly|plain|concise|complete|quick|crisp|punchy|"
    r"easy|concrete|separate|informative|key|main|important|core|essential|useful|"
    r"practical|top|distinct|different|most\s+common|common|memorable)[,]?\s+){0,3}"
)
_BULLETS = re.compile(
    _NUM + r"[\s-]+" + _ADJ + r"(?:bullet(?:\s*points?)?s?|points|items|tips|reasons|facts|"
    r"steps|ways|ideas|takeaways|lines)\b"
)
_SENTENCES = re.compile(_NUM + r"[\s-]+" + _ADJ + r"sentences?\b")
_ONE_LINE = re.compile(r"\b(?:in (?:a single|one|a) line|one-liner|in one line)\b")
_WORDS = re.compile(
    r"\b(under|at most|no more than|not more than|fewer than|less than|within|up to|"
    r"max(?:imum)?(?: of)?|in|about|around|roughly)\s+(\d+)\s+words|"
    r"\b(\d+)\s+words\s+or\s+(?:less|fewer)|\b(\d+)[\s-]word\b"
)
_ITEMS = re.compile(
    r"\b(?:name|list|give(?: me)?|what are|enumerate|mention)\s+(?:the\s+)?(?:top\s+)?"
    + _NUM
    + r"\b(?![\s-]*(?:sentence|word|line|paragraph|short|brief|quick|one|tiny|bullet|detailed|"
    r"simple|concise|clear|example|code|\d))"
)
_CODE = re.compile(
    r"\bcode\s+(?:examples?|snippets?|samples?|blocks?)|\b(?:examples?|snippets?)\s+(?:of\s+)?"
    r"(?:python\s+)?code\b|\bshow\s+(?:me\s+)?(?:the\s+|some\s+)?code\b|\bcode\s+for\b|"
    r"\bwrite\s+(?:me\s+)?(?:a\s+|an\s+|some\s+)?(?:small\s+|short\s+|simple\s+|tiny\s+)?"
    r"(?:python\s+)?(?:function|code|snippet|script|program|class|decorator)\b|"
    r"\bin\s+python\s+code\b|\bwith\s+(?:an?|one|a\s+short|a\s+small|a\s+simple|a\s+tiny|"
    r"a\s+quick|some)\s+(?:python\s+)?(?:code\s+)?example\b|\b(?:an?|one|1)\s+(?:short\s+|tiny\s+"
    r"|small\s+|simple\s+|quick\s+|minimal\s+|concrete\s+|python\s+)+(?:code\s+)?examples?\b|"
    r"\bexample\s+in\s+python\b|\bpython\s+example\b|\bone[\s-]line\s+(?:code\s+)?example\b|"
    r"\b(?:a|one|1)\s+(?:short\s+|tiny\s+)?one[\s-]liner\b"
)
_ONE_LINE_CODE = re.compile(
    r"\bone[\s-]line(?:r)?\s+(?:code\s+)?(?:example|snippet|sample)|\b1[\s-]line\s+example|"
    r"\bsingle[\s-]line\s+(?:code\s+)?example|\bone[\s-]liner\b"
)
_JSON_OUT = re.compile(
    r"\b(?:as|in|into|return|returns|reply with|respond with|answer in|answer with|output|"
    r"format(?:ted)? as|give me|using|valid|only|send|produce|return only)\s+"
    r"(?:valid\s+|a\s+|an\s+|the\s+|only\s+|strict\s+|raw\s+)?json\b|"
    r"\bjson\s+(?:only|object|format|response|array)\b|^json\b",
    re.IGNORECASE,
)
_VERBOSE_STRONG = (
    "comprehensive", "detailed", "in detail", "thorough", "in depth", "in-depth", "elaborate",
    "everything", "step by step", "step-by-step", "essay", "extensive", "exhaustive",
    "long answer", "at length", "complete guide", "full explanation", "great detail",
)  # fmt: skip
_VERBOSE_WEAK = (
    "please", "helpful", "make sure", "examples", "balanced", "educational", "easy to follow",
    "well structured", "not too short", "enough detail", "explain everything", "really",
    "think carefully",
)  # fmt: skip
_BRIEF = re.compile(
    r"\b(?:briefly|be brief|brief answer|in brief|keep (?:it|answers|replies|responses|"
    r"the answer) (?:short|brief|concise)|short answer|be concise|concisely|a concise answer|"
    r"quick answer|tl;?dr|in a nutshell|short and sweet|in short|be short|keep it simple)\b"
)
_GREETING = re.compile(
    r"^\W*(?:hi|hello|hey|hiya|howdy|greetings|good (?:morning|afternoon|evening)|yo)\b"
    r"[\s,!.]*(?:there|again|everyone|all|friend|model)?[\s,!.]*$"
)
_SAY_HI = re.compile(
    r"^\W*(?:say|write|give(?: me)?|send)\s+(?:me\s+)?(?:a\s+)?(?:hi|hello|hey|greetings?|"
    r"a greeting|a welcome)\b"
)
_THANKS = re.compile(r"^\W*(?:thanks|thank you|cheers|ta)\b[\s\w,!.]{0,20}$")
_META = re.compile(
    r"\b(?:who|what) are you\b|\bwhat model are you\b|\bare you (?:a|an|the) (?:real )?"
    r"(?:model|ai|bot|robot|person|human|simulator)\b|\bwhat can you do\b|\bwho made you\b"
)
_SUMMARISE = re.compile(
    r"\b(?:summari[sz]e|summari[sz]ing|summary|tl;?dr|key points of|main points of|condense|"
    r"what is (?:this|the following) (?:text|section|passage|document) about)\b"
)
_CODE_FIRST = re.compile(
    r"^\W*(?:please\s+)?(?:show|write|give|share)\b(?:\s+me)?[^.?!]{0,40}?\b(?:code|function|"
    r"snippet|script|program|one-liner|example)s?\b",
    re.IGNORECASE,
)
_LIST_VERB = re.compile(r"(?:^|[.!?:]\s+|\n)\s*(?:please\s+)?(?:list|enumerate)\b")
_QUESTION_LABEL = re.compile(r"(?im)^\s*(?:question|q)\s*:\s*(.+)$")


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


@dataclass
class _Ask:
    """What a request asks for, read from its messages (the question apart from any material)."""

    question: str  # the user's request, without a document it came with
    material: str  # a document to summarise or answer from ("" if none)
    text: str  # where shape constraints are read: instructions + question, lower-cased
    history: bool  # earlier turns in the conversation
    bullets: int | None = None
    sentences: int | None = None
    max_words: int | None = None
    items: int | None = None  # "name an X" / "list the 5 X"
    code: str | None = None  # None, "block" or "line"
    json: bool = False
    length: int = 1  # 0 brief, 1 normal, 2 long, 3 very long


MAX_RULES_CHARS = 8000  # how much of a long request is read for its format rules


def _split_material(user: str) -> tuple[str, str]:
    """(question, material): a long block of text sent with a short instruction is material."""
    labelled = _QUESTION_LABEL.search(user)
    if labelled:
        question = labelled.group(1).strip()
        rest = (user[: labelled.start()] + user[labelled.end() :]).strip()
        if len(rest.split()) >= 15:
            return question, rest
    blocks = [b.strip() for b in re.split(r"\n\s*\n", user) if b.strip()]
    if len(blocks) < 2:
        return user.strip(), ""
    long = [b for b in blocks if len(b.split()) > 40 or b.count("\n") >= 2]
    short = [b for b in blocks if b not in long]
    if not long or not short:
        return user.strip(), ""
    return "\n\n".join(short), "\n\n".join(long)


def _parse(messages: Sequence[Mapping[str, object]]) -> _Ask:
    users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    last = users[-1] if users else len(messages) - 1
    user = text_of(messages[last].get("content")) if messages else ""
    instructions = " ".join(
        text_of(m.get("content")) for m in messages if m.get("role") in ("developer", "system")
    )
    question, material = _split_material(user)
    text = f"{instructions}\n{question}".lower()
    if len(text) > MAX_RULES_CHARS:  # rules sit at the start or the end of a request
        text = f"{text[: MAX_RULES_CHARS // 2]}\n{text[-MAX_RULES_CHARS // 2 :]}"
    ask = _Ask(question, material, text, history=last > 0 and any(
        m.get("role") == "assistant" for m in messages[:last]
    ))  # fmt: skip
    if m := _BULLETS.search(text):
        ask.bullets = _number(m.group(1))
    if m := _SENTENCES.search(text):
        ask.sentences = _number(m.group(1))
    elif _ONE_LINE.search(text) and not _ONE_LINE_CODE.search(text):
        ask.sentences = 1
    if m := _WORDS.search(text):
        raw = next(g for g in (m.group(2), m.group(3), m.group(4)) if g is not None)
        strict = m.group(1) in ("under", "fewer than", "less than")
        ask.max_words = max(1, min(int(raw), MAX_WORDS) - (1 if strict else 0))
    if m := _ITEMS.search(text):
        ask.items = _number(m.group(1))
    elif _LIST_VERB.search(text) and not (ask.bullets or ask.sentences):
        ask.items = 5
    if _ONE_LINE_CODE.search(text):
        ask.code = "line"
    elif _CODE.search(text):
        ask.code = "block"
    ask.json = bool(_JSON_OUT.search(text))
    strong = sum(v in text for v in _VERBOSE_STRONG)
    weak = sum(v in text for v in _VERBOSE_WEAK)
    if strong or weak >= 2:
        ask.length = 3 if strong + weak >= 5 else 2  # the more hedging, the longer the answer
    elif _BRIEF.search(text):
        ask.length = 0
    elif len(question.split()) >= 30:
        ask.length = 2
    return ask


# --- finding the subject ---------------------------------------------------------------------

_STOP = frozenset("""
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing done down during each few for from
further had has have having he her here hers him his how i if in into is it its itself just
like me more most my no nor not now of off on once only or other our out over own please same
describing explaining defining summarize summarise summarizing summarising matter matters
important work works working mean means app apps application applications happen happens
she should so some such than that the their them then there these they this those through to
too under until up us very was we were what when where which while who whom why will with
would you your yours explain explaining describe define tell give show write answer answers
sentence sentences bullet bullets point points word words short brief briefly simple simply
beginner beginners keep return list name example examples code tiny one two three four five
use using used make need needs want get way ways really maybe thing things help let know
api apis
""".split())  # fmt: skip  # noqa: SIM905

_LEADS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^(?:please|pls|kindly|hey|hi|hello|ok|okay|so|now|then|and|but|also|"
        r"quick question|one more thing|next)\b[,!.:]?\s+",
        r"^(?:could|can|would|will) you(?:\s+(?:please|maybe|possibly|kindly|quickly|just|"
        r"briefly|perhaps|now))*\s+",
        r"^(?:would you mind|do you mind|mind)\s+",
        r"^i(?:'m| am| was) wondering (?:if|whether) you (?:could|can|would|might)\s+",
        r"^(?:i'd|i would|i|we)(?: really)? (?:like|love|want|need)(?: you)? to\s+",
        r"^(?:i want|i need|i'd like|we want|we need)\s+",
        r"^(?:help me|let's|let us|try to|go ahead and)\s+(?:understand\s+|learn\s+)?",
        r"^(?:in|using) (?:plain|simple|easy) (?:english|terms|words)[,:]?\s+",
        r"^(?:for a beginner|for beginners|as a beginner)[,:]?\s+",
    )
]
_ASKS: list[tuple[str, re.Pattern[str]]] = [
    (angle, re.compile(p, re.IGNORECASE))
    for angle, p in (
        (
            "compare",
            r"^(?:what(?:'s| is| are) )?(?:the |a )?(?:main |key )?differences? between "
            r"(?P<a>.+?) and (?P<b>.+)",
        ),
        ("compare", r"^(?:compare|contrast) (?P<a>.+?) (?:and|with|to|vs\.?|versus) (?P<b>.+)"),
        ("compare", r"^(?P<a>.+?) (?:vs\.?|versus|compared (?:to|with)|or) (?P<b>.+)"),
        (
            "why",
            r"^why (?:should|would|do|does|must|might|can|could|is it (?:important|useful|"
            r"a good idea|good|wise|smart) to)\s+(?:(?:an? |the |my |our |your )?(?:apps?|"
            r"applications?|developers?|devs?|programs?|programmers?|clients?|teams?|services?|"
            r"people|engineers?|code|systems?|we|you|i|one|companies|users)\s+)?(?:use|add|"
            r"implement|need|care about|bother with|have|apply|learn|prefer|avoid|set|handle|"
            r"consider|worry about|understand|know about|do|cap|limit|log|include|watch|measure|"
            r"count|track|think about)\s+(?P<x>.+)",
        ),
        (
            "why",
            r"^why (?:is|are) (?P<x>.+?) (?:so )?(?:important|useful|needed|necessary|good|"
            r"helpful|a good idea|used|recommended|essential|valuable|worth it|a thing|needed)\b",
        ),
        ("why", r"^why (?:does|do) (?P<x>.+?) (?:matter|exist|help)\b"),
        ("why", r"^why (?P<x>.+?) (?:matters?|is important|are important|is useful|helps?)\b"),
        (
            "why",
            r"^why (?:use|add|implement|cap|limit|set|handle|have|prefer|log|measure|count|"
            r"avoid|need)\s+(?P<x>.+)",
        ),
        ("why", r"^(?:the )?(?:reasons? )?why (?P<x>.+)"),
        ("why", r"^why (?:is|are|was|were|did|does|do) (?P<x>.+)"),
        (
            "how",
            r"^how (?:does|do|did|can|could) (?P<x>.+?) (?:work|function|operate|help|"
            r"happen)\b",
        ),
        ("how", r"^how (?P<x>.+?) works?\b"),
        ("howto", r"^how (?:do|can|should|would|might|could) (?:i|we|you|one)\s+(?P<x>.+)"),
        ("howto", r"^how to (?P<x>.+)"),
        (
            "when",
            r"^when (?:should|do|would|to|must|can) (?:i |we |you |apps? |developers? )?"
            r"(?:use |add |apply |choose )?(?P<x>.+)",
        ),
        ("what", r"^what (?:does|do) (?P<x>.+?) (?:mean|do|stand for|refer to|look like)\b"),
        ("what", r"^what (?!is\b|are\b|'s\b)(?P<x>.+?) (?:is|are)\b"),
        (
            "what",
            r"^what(?:'s| is| are| was| were)(?: exactly| actually| really| meant by)?\s+"
            r"(?P<x>.+)",
        ),
        ("what", r"^(?:who|where) (?:is|are|was|were)\s+(?P<x>.+)"),
        (
            "example",
            r"^(?:an? |one |some |the )?(?:(?:short|tiny|small|simple|quick|minimal|"
            r"one-line|1-line|single-line|concrete|python|code|good|real|practical)\s+)*"
            r"(?:code\s+)?(?:examples?|snippets?|demo) (?:of|for|showing|using) (?P<x>.+)",
        ),
        ("example", r"^(?:some |the )?code (?:for|of|showing|using|that uses) (?P<x>.+)"),
        (
            "code",
            r"^(?:a |an |some )(?:(?:small|short|simple|tiny|python)\s+)*(?:function|"
            r"code|snippet|script|program|class|decorator)s? (?:that|which|to|for) (?P<x>.+)",
        ),
        (
            "what",
            r"^(?:explain(?:ing)?|describe|describing|define|defining|summari[sz]e|"
            r"summari[sz]ing|clarify|outline|discuss|introduce|elaborate on|expand on|talk about|"
            r"tell|teach|walk|break down|go over|cover|present|review|list|name|give|show|write|"
            r"provide|offer|share|mention|enumerate|recommend|suggest|state|help)\b"
            r"(?:\s+(?:to|for|with) (?:me|us|a beginner|beginners))?(?:\s+(?:me|us))?"
            r"(?:\s+(?:about|through|on|with|regarding))?\s+(?P<x>.+)",
        ),
        (
            "what",
            r"^(?:an? |the |some )?(?:[\w'-]+[, ]+){0,8}?(?:explanation|overview|summary|"
            r"definition|introduction|description|rundown|guide|primer|intro|breakdown|answer|"
            r"paragraph|sentence|sentences|bullet points|bullets|points|tips|reasons|facts|list|"
            r"note|notes|words|lines?)\s+(?:of|about|on|for|explaining|describing|covering|"
            r"regarding|why|that explains)\s+(?P<x>.+)",
        ),
        ("what", r"^(?:about|regarding|re|on|concerning)\s+(?P<x>.+)"),
    )
]
_VERB_ASK = next(p for _, p in _ASKS if p.pattern.startswith(r"^(?:explain(?:ing)?|"))
_CUT = re.compile(
    r"[?!;:\n]|\.(?:\s|$)|,\s|\s+(?:and|or) (?:why|how|what|when|where|give|show|keep|use|"
    r"return|answer|include|explain|describe|list|make|add|then)\b|"
    r"\s+(?:in|as|using|with|within|under|into|at|for|to|like)\s+(?:a |an |one |two |three |"
    r"four |five |\d|exactly|no more|not more|less than|fewer than|at most|up to|under|"
    r"simple|plain|layman|easy|json|bullet|short|brief|detail|depth|full|one sentence|"
    r"a sentence|a single|a few|few|several|my |our |beginners?|newcomers?|novices?|"
    r"kids?|children|non-programmers?|students?|learners?|me\b|us\b|someone|i'm|im\b|"
    r"i am|python code|code|an example|examples|words)",
    re.IGNORECASE,
)
_TRAIL = re.compile(
    r"(?:\s+(?:is|are|was|were|works?|means?|matters?|do|does|did|exactly|please|briefly|"
    r"again|then|now|really|actually|anyway|for me|to me|for us|to us|in python|"
    r"in general|generally|simply|quickly|in short|overall|all about|mean|really is|"
    r"here|there|today|used for|for)|\s*[\"'`]+)$",
    re.IGNORECASE,
)
_PREPOSITIONS = frozenset(("in", "as", "with", "for", "to", "on", "at", "by", "from", "into"))
_WH = frozenset(("how", "who", "where", "when", "which", "whether", "whom", "whose"))
_SENTENCE_END = re.compile(r"[?!;\n]|\.(?:\s|$)")
_CLEAN_LEAD = re.compile(r"^(?:[\"'`]+|(?:me|us|to me|for me|about)\s+)", re.IGNORECASE)
_FLIP = {"my": "your", "our": "your", "i": "you", "we": "you", "me": "you", "us": "you",
         "myself": "yourself", "mine": "yours", "i'm": "you're", "am": "are"}  # fmt: skip
_FRAGMENTS = ("me what", "explain to", "could you", "can you", "would you", "tell me", "please")


def _strip_leads(text: str) -> str:
    changed = True
    while changed:
        changed = False
        for lead in _LEADS:
            new = lead.sub("", text, count=1)
            if new != text:
                text, changed = new, True
    return text


def _tidy(phrase: str) -> str:
    """Cut a subject phrase at the first clause or constraint and drop trailing filler."""
    m = _CUT.search(phrase)
    if m:
        phrase = phrase[: m.start()]
    phrase = phrase.strip(" \t\"'`")
    while True:
        new = _CLEAN_LEAD.sub("", _TRAIL.sub("", phrase)).strip(" \t\"'`,")
        if new == phrase:
            return phrase
        phrase = new


_CONSTRAINT_ONLY = re.compile(
    r"^\W*(?:answer|reply|respond|keep|return|use|be|format|write|limit|no more|"
    r"under|in|one|two|three|\d)\b.{0,60}\b(?:words?|sentences?|bullets?|points?|json|"
    r"brief|short|concise|lines?|examples?|tokens?)\W*$|^\W*(?:be (?:brief|concise)|"
    r"briefly|one sentence|json only|thanks)\W*$",
    re.IGNORECASE,
)
_ROLE = re.compile(
    r"^\W*(?:(?:you are|you're|act as|pretend|answer only|only answer|never|always|"
    r"keep answers|keep replies|use plain|do not|don't|avoid|respond only|reply only)\b|"
    r"be \w+\W*$)",
    re.IGNORECASE,
)


def _ask_sentence(question: str) -> str:
    """The sentence of a request that carries its subject (not a format rule or a role)."""
    parts = [s.strip() for s in re.split(r"(?<=[.?!])\s+|\n", question.strip()) if s.strip()]
    useful = [s for s in parts if not _CONSTRAINT_ONLY.match(s) and not _ROLE.match(s)]
    if not useful and parts and all(_CONSTRAINT_ONLY.match(s) for s in parts):
        return ""  # only format rules ("3 bullet points."): no subject named
    named = next((s for s in useful[:20] if find_subjects(s)), None)
    return named or (useful or parts or [question])[0]


def _subject_phrase(question: str) -> tuple[str, list[str]]:
    """The question's angle ("what", "why", "how", ...) and the phrases naming its subject."""
    angle = "what"
    text = _ask_sentence(question)
    phrases: list[str] = []
    for step in range(5):
        text = _strip_leads(text)
        for kind, pattern in _ASKS:
            m = pattern.match(text)
            if not m or (step and pattern is _VERB_ASK):
                continue  # a verb opens a request only once: "explain list ..." names "list"
            if kind == "compare":
                a, b = _tidy(m.group("a")), _tidy(m.group("b"))
                if a and b:
                    a_inner = _subject_phrase(a)[1]
                    return "compare", [*(a_inner or [a]), b]
                continue
            if angle == "what" and kind != "what":
                angle = kind
            if kind == "howto":
                text = "how to " + m.group("x")
                phrases = [_tidy(text)]
                return angle, [p for p in phrases if p]
            text = _SENTENCE_END.split(m.group("x"), maxsplit=1)[0]
            break
        else:
            break
    phrase = _tidy(text)
    words = re.findall(r"[A-Za-z0-9][\w'-]*", phrase)
    return angle, [phrase] if any(w.lower() not in _STOP for w in words) else []


def _named(phrase: str, at_start: bool) -> str | None:
    """``phrase`` fit to stand in an honest answer ("you" for "I"), or None when it is not."""
    words = phrase.split()
    if not words or len(words) > 12 or len(phrase) > 80 or words[0].lower() in _PREPOSITIONS:
        return None
    flipped = [_FLIP.get(w.lower(), w) if w.lower() in _FLIP else w for w in words]
    if at_start and flipped[0][:1].isupper() and flipped[0][1:].islower():
        flipped[0] = flipped[0].lower()
    named = " ".join(flipped).strip(" ,")
    lower = f" {named.lower()} "
    if any(f in lower for f in _FRAGMENTS) or not re.search(r"[A-Za-z0-9]", named):
        return None
    return named


# --- the knowledge base, indexed ---------------------------------------------------------------


@dataclass(frozen=True)
class _Sentence:
    full: str
    short: str


@cache
def _forms(text: str) -> _Sentence:
    """A knowledge sentence's full form and its short form (the ``((...))`` part dropped)."""
    return _Sentence(text.replace("((", "").replace("))", ""), re.sub(r"\(\(.*?\)\)", "", text))


@cache
def _model_ids() -> dict[str, str]:
    large = max((m for m in list_models() if m.tier == "large"), key=lambda m: m.output)
    return {"$LARGE_MODEL": large.id, "$MODEL": DEFAULT_MODEL}


def fill_model_ids(code: str) -> str:
    """A knowledge-base code example with its ``$MODEL`` placeholders made catalogue ids."""
    for placeholder, model_id in _model_ids().items():
        code = code.replace(placeholder, model_id)
    return code


def code_examples() -> list[tuple[str, str, str]]:
    """Every code example the simulated model can write: (subject key, kind, code)."""
    out = []
    for s in SUBJECTS:
        out.append((s.key, "block", fill_model_ids(s.code)))
        out.append((s.key, "line", fill_model_ids(s.one_liner)))
    return out


@cache
def _alias_index() -> tuple[re.Pattern[str], dict[str, Subject]]:
    by_alias: dict[str, Subject] = {}
    for s in SUBJECTS:
        for alias in s.aliases:
            by_alias.setdefault(alias, s)
            if alias[-1].isalpha():
                by_alias.setdefault(alias + "s", s)
                by_alias.setdefault(alias + "es", s)
    pattern = re.compile(r"(?<![\w@])" + _trie_regex(by_alias) + r"(?!\w)", re.IGNORECASE)
    return pattern, by_alias


def _trie_regex(words: Iterable[str]) -> str:
    """One regex for many words, as a character trie: fast to compile and to match, and it
    prefers the longest alias at a position (a shorter one is tried only if that fails)."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return "(?:" + build(trie) + ")"


MAX_SUBJECT_TEXT = 4000  # characters of a text searched for subject names


def find_subjects(text: str) -> list[Subject]:
    """Subjects named in ``text`` (its first ``MAX_SUBJECT_TEXT`` characters), in order of first
    mention, specific ones before generic."""
    pattern, by_alias = _alias_index()
    found: list[Subject] = []
    for m in pattern.finditer(text[:MAX_SUBJECT_TEXT]):
        s = by_alias[m.group(0).lower()]
        if s not in found:
            found.append(s)
    return [s for s in found if not s.generic] + [s for s in found if s.generic]


_SUBJECT_BY_KEY = {s.key: s for s in SUBJECTS}


def _stem(word: str) -> str:
    word = word.lower().strip("`'\"")
    for suffix in ("ing", "ies", "ied", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
            if suffix in ("ing", "ed") and len(word) > 3 and word[-1] == word[-2]:
                word = word[:-1]
            break
    return word


@lru_cache(maxsize=4096)
def _content_words(text: str) -> frozenset[str]:
    words = re.findall(r"[A-Za-z][A-Za-z'-]+", text)
    return frozenset(_stem(w) for w in words if w.lower() not in _STOP)


# --- what an answer is made of -----------------------------------------------------------------


@dataclass
class _Content:
    """The sentences an answer can use, best first, plus what it may show beside them."""

    title: str
    pool: list[_Sentence]
    subjects: list[Subject] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    honest: bool = False  # an "I don't know" answer: stays short whatever the prompt asks
    code_ok: bool = True
    angle: str = "what"  # what the question asks: what / why / how / howto / example / ...


def _most_relevant(candidates: list[Subject], question: str) -> Subject:
    """Of the subjects a question names, the one with a sentence closest to what it asks
    ("Which API errors should never be retried?" is about retries more than errors)."""
    words = _content_words(question)

    def score(i: int) -> tuple[int, int]:
        s = candidates[i]
        extra = words - _content_words(s.title) - {_stem(s.key)}
        texts = (s.what, s.why, *s.facts, *s.tips)
        return max(len(extra & _content_words(_forms(t).full)) for t in texts), -i

    return candidates[max(range(min(len(candidates), 3)), key=score)]


def _subject_pool(s: Subject, angle: str, extra: frozenset[str]) -> list[_Sentence]:
    what, why = _forms(s.what), _forms(s.why)
    facts = [_forms(f) for f in s.facts]
    tips = [_forms(t) for t in s.tips]
    if angle == "why":
        pool = [why, what, *facts, *tips]
    elif angle in ("how", "howto", "code"):
        pool = [what, *facts, why, *tips]
    elif angle == "when":
        pool = [what, *tips, why, *facts]
    else:
        pool = [what, why, *facts, *tips]
    if extra:
        scored = [(len(extra & _content_words(p.full)), -i) for i, p in enumerate(pool)]
        best = max(range(len(pool)), key=lambda i: scored[i])
        if scored[best][0] > 0 and best > 0:
            pool.insert(0, pool.pop(best))
    return pool


def _extend(pool: list[_Sentence], subjects: list[Subject], n: int) -> list[_Sentence]:
    """``pool`` grown to ``n`` sentences from related subjects (then repeated, if it must)."""
    seen = {s.key for s in subjects}
    queue = [k for s in subjects for k in s.related]
    out = list(pool)
    while len(out) < n and queue:
        key = queue.pop(0)
        if key in seen or key not in _SUBJECT_BY_KEY:
            continue
        seen.add(key)
        rel = _SUBJECT_BY_KEY[key]
        out.extend(_forms(t) for t in (rel.what, rel.why, *rel.facts, *rel.tips))
        queue.extend(rel.related)
    while out and len(out) < n:
        out.extend(out[: n - len(out)])
    return out[:n] if n else out


def _interleave(*pools: list[_Sentence]) -> list[_Sentence]:
    out: list[_Sentence] = []
    for group in zip_longest(*pools):
        out.extend(p for p in group if p is not None)
    return out


def _known(subjects: list[Subject], angle: str, question: str) -> _Content:
    extra = _content_words(question)
    for s in subjects:
        extra -= _content_words(s.title) | {_stem(s.key)}
    if len(subjects) == 1:
        s = subjects[0]
        pool = _subject_pool(s, angle, extra)
        return _Content(s.title, pool, [s], list(s.items), angle=angle)
    a, b = subjects[:2]
    pools = [_subject_pool(s, "what", frozenset()) for s in (a, b)]
    pool = _interleave(*pools)
    cmp = COMPARISONS.get(frozenset((a.key, b.key)))
    if cmp:
        pool.insert(0 if angle == "compare" else 2, _Sentence(cmp, cmp))
    return _Content(f"{a.title} and {b.title}", pool, [a, b], list(a.items), angle=angle)


def _sentences_of(text: str) -> list[str]:
    """Sentences of a document, one per line break or sentence end (headings kept apart)."""
    out = []
    for line in text.splitlines():
        for part in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])", line.strip()):
            if part.strip():
                out.append(part.strip())
    return out


def _is_heading(sentence: str) -> bool:
    return not sentence.endswith((".", "!", "?")) or len(sentence.split()) <= 3


MAX_MATERIAL_CHARS = 200_000  # a document is read this far (about 50,000 tokens)


def _from_material(ask: _Ask, summarise: bool) -> _Content | None:
    material = ask.material[:MAX_MATERIAL_CHARS]
    sentences = _sentences_of(material)
    body = list(dict.fromkeys(s for s in sentences if not _is_heading(s)))
    if not body:
        return None
    if summarise:
        freq: dict[str, int] = {}
        for s in body:
            for w in _content_words(s):
                freq[w] = freq.get(w, 0) + 1

        def score(i: int) -> float:
            s = body[i]
            n = len(s.split())
            fit = 1.0 if 8 <= n <= 35 else 0.5
            return fit * sum(freq[w] for w in _content_words(s)) / math.sqrt(n) - i * 1e-3

        ranked = sorted(range(len(body)), key=score, reverse=True)
        pool = [_Sentence(body[i], body[i]) for i in ranked]
        return _Content("Summary", pool, code_ok=False)
    wanted = _content_words(ask.question)
    if not wanted:
        return None
    blocks = [_sentences_of(b) for b in material.splitlines() if b.strip()]
    spots = [(len(wanted & _content_words(s)), -b, -i) for b, ss in enumerate(blocks)
             for i, s in enumerate(ss)]  # fmt: skip
    overlap, b, i = max(spots)
    if overlap == 0:
        return None
    block, anchor = blocks[-b], -i
    start = anchor + 1 if len(block[anchor].split()) <= 6 and anchor + 1 < len(block) else anchor
    picked = [s for s in block[start:] if not _is_heading(s)] or [block[anchor]]
    return _Content("Answer", [_Sentence(s, s) for s in picked], code_ok=False)


def _honest(ask: _Ask, angle: str, phrases: list[str]) -> _Content:
    """The short, honest answer for a subject the knowledge base does not hold.

    A "what is X" subject is named as the prompt wrote it ("about X"); another kind of
    question ("Why was my upload rejected?") is quoted whole, when it can be quoted cleanly.
    """
    start = ask.question.strip()
    names = [_named(p, start.lower().startswith(p.lower())) for p in phrases]
    subject = next((n for n in names if n), None)
    sentence = _strip_leads(_ask_sentence(ask.question))
    quotable = 0 < len(sentence.split()) <= 16 and not any(
        f in f" {sentence.lower()} " for f in _FRAGMENTS
    )
    if subject is not None and subject.lower().split()[0] in _WH:
        about = subject
    elif angle in ("why", "how", "when") and quotable:
        about, subject = f'the answer to "{_cap(sentence)}"', subject or sentence
    elif subject is not None:
        about = f"about {subject}"
    else:
        pool = [_forms(s) for s in NO_SUBJECT]
        pool.insert(1, _forms(NO_SUBJECT_ONE_SENTENCE))  # for "one sentence"
        return _Content("No subject", pool, honest=True, code_ok=False)
    pool = [_forms(s.format(about=about)) for s in UNKNOWN]
    pool.insert(1, _forms(UNKNOWN_ONE_SENTENCE.format(about=about)))  # for "one sentence"
    return _Content(_cap(subject), pool, honest=True, code_ok=False)


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _decap(s: str) -> str:
    first = s.split(" ", 1)[0]
    if first in ("A", "An", "The") or (
        first[1:2].islower() and first not in ("Python", "OpenAI", "I")
    ):
        return s[:1].lower() + s[1:]
    return s


# --- shaping the answer ------------------------------------------------------------------------


def _words(text: str) -> int:
    return len(text.split())


_DANGLING = frozenset((
    "a", "an", "and", "or", "the", "of", "to", "with", "for", "in", "on", "by", "at", "as",
    "is", "are", "but", "so", "that", "which", "your", "its", "their", "from", "than", "then",
))  # fmt: skip


def _trim(words: list[str]) -> str:
    """A sentence cut to ``words``, ending cleanly: no dangling "and", no open code span."""
    words = list(words)
    first = words[0] if words else "Yes"
    while words and (words[-1].lower().strip(",;:") in _DANGLING or words[-1].count("`") % 2):
        words.pop()
    text = " ".join(words).rstrip(",;:-—(")
    if text.count("`") % 2:
        text = text[: text.rfind("`")].rstrip()
    return (text or first.strip("`,;:.")).rstrip(".") + "."


def _choose(pool: list[_Sentence], n: int, budget: int | None, per_item: int) -> list[_Sentence]:
    """``n`` sentences from ``pool``: the first ``n``, unless even their short forms overflow
    ``budget`` -- then the first one and the shortest of the rest, kept in order."""
    first = pool[:n]
    if budget is None or sum(_words(s.short) + per_item for s in first) <= budget or n < 2:
        return first
    rest = sorted(range(1, len(pool)), key=lambda i: (_words(pool[i].short), i))[: n - 1]
    return [pool[0], *(pool[i] for i in sorted(rest))]


def _fit_counted(
    sents: list[_Sentence], budget: int | None, short: bool, per_item: int
) -> list[str]:
    """Exactly ``len(sents)`` parts, shortened (short forms, then trimming) to fit ``budget``."""
    chosen = [s.short if short else s.full for s in sents]
    if budget is None:
        return chosen

    def total() -> int:
        return sum(_words(c) + per_item for c in chosen)

    while total() > budget:
        longer = [i for i, s in enumerate(sents) if chosen[i] == s.full and s.short != s.full]
        if not longer:
            break
        i = max(longer, key=lambda i: _words(chosen[i]))
        chosen[i] = sents[i].short
    while total() > budget:
        i = max(range(len(chosen)), key=lambda i: (_words(chosen[i]), -i))
        words = chosen[i].split()
        if len(words) <= 3:
            break
        chosen[i] = _trim(words[:-1])
    while total() > budget and len(chosen) > 1:
        chosen.pop()
    return chosen


def _fit_flexible(sents: list[_Sentence], budget: int | None, most: int, short: bool) -> list[str]:
    """As many sentences (up to ``most``) as fit ``budget``, full forms where they fit."""
    out: list[str] = []
    used = 0
    for s in sents[:most]:
        forms = [s.short] if short else [s.full, s.short]
        fitting = [f for f in forms if budget is None or used + _words(f) <= budget]
        if not fitting:
            break
        out.append(fitting[0])
        used += _words(fitting[0])
    if not out and sents:
        out = [_trim(sents[0].short.split()[: max(1, budget or 1)])]
    return out


def _block(code: str) -> str:
    return "```python\n" + fill_model_ids(code).rstrip("\n") + "\n```"


class _Writer:
    """Builds one answer from its content; every random choice comes from the request's seed."""

    def __init__(self, seed: int, content: _Content, ask: _Ask) -> None:
        self.rng = random.Random(seed)
        self.c = content
        self.ask = ask
        self.values_left = MAX_SCHEMA_VALUES  # nested large arrays stop growing past this
        self.next_sentence = 0

    # -- pieces
    def code(self, items: int = 1) -> str | None:
        """The code example asked for, if any: the one-liner when a word limit leaves too little
        room beside it for ``items`` readable sentences, and none if even that does not fit."""
        subjects = self.c.subjects
        if not self.ask.code or not subjects or not self.c.code_ok:
            return None
        s = subjects[0]
        options = [s.one_liner] if self.ask.code == "line" else [s.code, s.one_liner]
        if self.ask.max_words is None:
            return options[0]
        for code in options:
            if self.ask.max_words - _words(_block(code)) - 1 >= MIN_WORDS_PER_ITEM * items:
                return code
        return None

    def sentence(self) -> str:
        """The next sentence of the pool, for JSON-schema fields (cycling when it runs out)."""
        pool = self.c.pool
        s = pool[self.next_sentence % len(pool)]
        self.next_sentence += 1
        return s.full

    def pool(self, n: int) -> list[_Sentence]:
        if self.c.honest or not self.c.subjects:
            return self.c.pool[:n]
        return _extend(self.c.pool, self.c.subjects, n)

    # -- shapes
    def listed(self, n: int, short: bool) -> str:
        """N bullets (from the subject's items when it has them and the prompt names some)."""
        if self.c.honest:
            n = min(n, 3)
            sents = [s for i, s in enumerate(self.c.pool[:4]) if i != 1][:n]
        elif self.ask.items and self.c.items:
            items = self.c.items[:n] if n > 1 else [self.rng.choice(self.c.items[:7])]
            sents = [_Sentence(t, t.split(":")[0] + ".") for t in items]
        else:
            sents = self.pool(n)
        code = self.code(n)
        budget = self._prose_budget(code)
        if not self.c.honest and not (self.ask.items and self.c.items):
            sents = _choose(self.pool(3 * n), n, budget, 1)
        parts = _fit_counted(sents, budget, short or code is not None, per_item=1)
        bulleted = n > 1 or self.ask.bullets
        text = "\n".join(f"- {p}" for p in parts) if bulleted else parts[0]
        return self._with_code(text, code, budget)

    def sentences(self, n: int, short: bool) -> str:
        if self.c.honest:
            pool = self.c.pool
            sents = [pool[1]] if n == 1 else [p for i, p in enumerate(pool) if i != 1][: min(n, 3)]
        else:
            sents = _choose(self.pool(3 * n), n, self._prose_budget(self.code(n)), 0)
        code = self.code(n)
        budget = self._prose_budget(code)
        return self._with_code(" ".join(_fit_counted(sents, budget, short, 0)), code, budget)

    def flexible(self, most: int, short: bool) -> str:
        if self.c.honest:
            most = min(most, 2 if most <= 2 else 3)
            sents = [p for i, p in enumerate(self.c.pool) if i != 1]
        else:
            sents = self.pool(max(most, 1))
        code = self.code()
        budget = self._prose_budget(code)
        return self._with_code(" ".join(_fit_flexible(sents, budget, most, short)), code, budget)

    def code_answer(self) -> str:
        """A request for code: one line saying what it is, the code, then what it does."""
        s = self.c.subjects[0]
        intro = _forms(s.what).short
        if self.ask.code == "line":
            return f"{intro}\n\n{_block(s.one_liner)}"
        return f"{intro}\n\n{_block(s.code)}\n\n{_forms(s.code_says).full}"

    def _prose_budget(self, code: str | None) -> int | None:
        if self.ask.max_words is None:
            return None
        used = _words(_block(code)) + 1 if code else 0
        return max(self.ask.max_words - used, 1)

    def _with_code(self, text: str, code: str | None, budget: int | None) -> str:
        if not code:
            return text
        if budget is not None and self.ask.max_words is not None:
            room = self.ask.max_words - _words(text) - 1
            if _words(_block(code)) > room:
                return text
        return f"{text}\n\nExample:\n{_block(code)}"

    def long(self, extra: bool) -> str:
        """A long, padded answer: what verbose, open prompts get from a real model too."""
        if self.c.honest:
            return " ".join(p.full for i, p in enumerate(self.c.pool) if i != 1)
        if not self.c.subjects:
            return " ".join(p.full for p in self.c.pool[: 8 if extra else 6])
        hedges = self.rng.sample(HEDGES, 3)
        subjects = self.c.subjects
        s = subjects[0]
        paras = []
        opening = [p.full for p in self.c.pool[:2]]
        if len(subjects) > 1:
            opening = [p.full for p in self.c.pool[:3]]
        paras.append(" ".join([*opening, hedges[0]]))
        used = set(opening)
        for subject in subjects:
            facts = [f.full for f in map(_forms, subject.facts) if f.full not in used]
            paras.append(" ".join([self.rng.choice(TRANSITIONS), *facts]))
            used.update(facts)
        want_code = (
            self.ask.code is not None or "example" in self.ask.text or s.key in PYTHON_SUBJECTS
        )
        if want_code:
            code = s.one_liner if self.ask.code == "line" else s.code
            paras.append(f"{_forms(s.code_says).full}\n\n{_block(code)}")
        tips = [_forms(t).full for subject in subjects for t in subject.tips]
        paras.append(" ".join([self.rng.choice(TIPS_INTROS), *tips, hedges[1]]))
        related = [_SUBJECT_BY_KEY[k] for k in s.related if k in _SUBJECT_BY_KEY][
            : 2 if extra else 1
        ]
        related = [r for r in related if r not in subjects]
        for rel in related:
            paras.append(
                " ".join(
                    ["A closely related idea is worth knowing too.", _forms(rel.what).full,
                     _forms(rel.why).full]
                )
            )  # fmt: skip
        if extra:
            paras.append(" ".join([hedges[2], *(_forms(t).full for t in s.tips[:1])]))
        summary = _decap(_forms(s.what).short)
        paras.append(f"{LONG_CLOSER.format(summary=summary)} {self.rng.choice(CLOSERS)}")
        return "\n\n".join(paras)

    def json_object(self, n: int, short: bool) -> str:
        pool = self.c.pool if self.c.honest else self.pool(n + 1)
        pick = [p.short if short else p.full for p in pool]
        return json.dumps(
            {"topic": self.c.title, "summary": pick[0], "key_points": pick[1 : n + 1]}, indent=2
        )


def _value(schema: object, name: str, w: _Writer, depth: int = 0) -> object:
    """A plausible value for a JSON-schema node (objects, arrays, enums, scalars)."""
    w.values_left -= 1
    if not isinstance(schema, Mapping) or depth > 6:
        return w.c.title
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
    if any(k in lname for k in ("title", "topic", "name", "subject", "keyword", "tag")):
        return w.c.title
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
    if "code" in lname and w.c.subjects:
        return fill_model_ids(w.c.subjects[0].one_liner)
    return w.sentence()


# --- composing ---------------------------------------------------------------------------------


def _greeting(ask: _Ask) -> str | None:
    q = ask.question.strip().lower()
    if _SAY_HI.search(q):
        n = None
        if m := re.search(r"\b(?:in|with|using)\s+" + _NUM + r"\s+words?", q):
            n = _number(m.group(1))
        elif ask.max_words:
            n = ask.max_words
        if n is None:
            return GREETING if not ask.sentences else GREETING_WORDS[5]
        if n <= len(GREETING_WORDS):
            return GREETING_WORDS[n - 1]
        words = GREETING.split()
        return GREETING if n >= len(words) else _trim(words[:n])
    if _GREETING.match(q):
        return GREETING
    if _THANKS.match(q):
        return "You're welcome! Ask me about another of the course's subjects any time."
    return None


def _seed(model: str, messages: Sequence[Mapping[str, object]], *extra: object) -> int:
    src = json.dumps(
        [model, [text_of(m.get("content")) for m in messages], *extra], sort_keys=True, default=str
    )
    return int.from_bytes(hashlib.blake2b(src.encode(), digest_size=8).digest(), "big")


def _content(ask: _Ask) -> _Content:
    """What the answer is about: material, a known subject, or an honest "I don't know"."""
    if ask.material:
        found = _from_material(ask, bool(_SUMMARISE.search(ask.question.lower())))
        if found is not None:
            return found
    question = _JSON_OUT.sub(" ", ask.question) if ask.json else ask.question
    angle, phrases = _subject_phrase(re.sub(r"\s{2,}", " ", question).strip())
    subjects: list[Subject] = []
    for p in phrases:
        for s in find_subjects(p):
            if s not in subjects:
                subjects.append(s)
        if angle != "compare" and subjects:
            break
    if not subjects:  # a verb can name the subject too: "why log the request id?"
        subjects = find_subjects(_ask_sentence(question) if phrases else ask.question)
    if subjects:
        if angle != "compare":
            specific = [s for s in subjects if not s.generic]
            subjects = [_most_relevant(specific or subjects, ask.question)]
        return _known(subjects[:2], angle, ask.question)
    if _META.search(ask.question.lower()):
        return _Content("The course simulator", [_forms(s) for s in META], honest=False,
                        code_ok=False)  # fmt: skip
    return _honest(ask, angle, phrases)


def compose(
    messages: Sequence[Mapping[str, object]],
    model: str,
    *,
    json_mode: bool = False,
    schema: Mapping | None = None,
    verbosity: str | None = None,
) -> str:
    """The full (uncut) answer text for a conversation; deterministic."""
    ask = _parse(messages)
    level = {"low": -1, "high": 1}.get(verbosity or "", 0)
    seed = _seed(model, messages, json_mode, schema, level)
    short = level < 0
    greeting = _greeting(ask)
    if greeting is not None and schema is None and not (json_mode or ask.json):
        return greeting
    content = _content(ask)
    w = _Writer(seed, content, ask)
    if schema is not None:
        return json.dumps(_value(schema, "answer", w), indent=2)
    if json_mode or ask.json:
        return w.json_object(ask.bullets or ask.items or 3, short or ask.max_words is not None)
    constrained = ask.bullets or ask.sentences or ask.max_words is not None
    if content.subjects and content.code_ok and not constrained and ask.length < 2:
        if content.angle in ("example", "code") or _CODE_FIRST.match(ask.question):
            return w.code_answer()
        wants_python = "python" in ask.text or content.subjects[0].key in PYTHON_SUBJECTS
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
    if length >= 2 and not content.honest:
        return w.long(extra=length >= 3)
    if content.honest:
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
    visible = count_tokens(text, counting_model)
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
