"""Reading a prompt: what the request asks for (bullets, sentences, a word limit, code, JSON,
a long or a brief answer), apart from its subject, which ``subjects`` finds."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from course_utils.tokens import content_text as text_of

from .knowledge import words

__all__ = ["Ask", "parse"]

MAX_ITEMS = 50  # a requested count of bullets/sentences/array items is clamped to 1..MAX_ITEMS
MAX_WORDS = 2000  # a word limit above this is treated as this

NUMBERS: dict[str, int] = words()["numbers"]  # "three" -> 3, "a few" -> 3
NUM = (
    r"\b(\d+|a single|single|a couple of|a few|several|one|two|three|four|five|six|seven|"
    r"eight|nine|ten|an?)"
)
_ADJ = (
    r"(?:(?:short|brief|simple|clear|friendly|plain|concise|complete|quick|crisp|punchy|"
    r"easy|concrete|separate|informative|key|main|important|core|essential|useful|"
    r"practical|top|distinct|different|most\s+common|common|memorable)[,]?\s+){0,3}"
)
_BULLETS = re.compile(
    NUM + r"[\s-]+" + _ADJ + r"(?:bullet(?:\s*points?)?s?|points|items|tips|reasons|facts|"
    r"steps|ways|ideas|takeaways|lines)\b"
)
_SENTENCES = re.compile(NUM + r"[\s-]+" + _ADJ + r"sentences?\b")
_ONE_LINE = re.compile(r"\b(?:in (?:a single|one|a) line|one-liner|in one line)\b")
_WORDS = re.compile(
    r"\b(under|at most|no more than|not more than|fewer than|less than|within|up to|"
    r"max(?:imum)?(?: of)?|in|about|around|roughly)\s+(\d+)\s+words|"
    r"\b(\d+)\s+words\s+or\s+(?:less|fewer)|\b(\d+)[\s-]word\b"
)
_ITEMS = re.compile(
    r"\b(?:name|list|give(?: me)?|what are|enumerate|mention)\s+(?:the\s+)?(?:top\s+)?"
    + NUM
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
JSON_OUT = re.compile(
    r"\b(?:as|in|into|return|returns|reply with|respond with|answer in|answer with|output|"
    r"format(?:ted)? as|give me|using|valid|only|send|produce|return only)\s+"
    r"(?:valid\s+|a\s+|an\s+|the\s+|only\s+|strict\s+|raw\s+)?json\b|"
    r"\bjson\s+(?:only|object|format|response|array)\b|^json\b",
    re.IGNORECASE,
)
VERBOSE_STRONG: tuple[str, ...] = tuple(words()["verbose_strong"])
VERBOSE_WEAK: tuple[str, ...] = tuple(words()["verbose_weak"])
_BRIEF = re.compile(
    r"\b(?:briefly|be brief|brief answer|in brief|keep (?:it|answers|replies|responses|"
    r"the answer) (?:short|brief|concise)|short answer|be concise|concisely|a concise answer|"
    r"quick answer|tl;?dr|in a nutshell|short and sweet|in short|be short|keep it simple)\b"
)
IS_GREETING = re.compile(
    r"^\W*(?:hi|hello|hey|hiya|howdy|greetings|good (?:morning|afternoon|evening)|yo)\b"
    r"[\s,!.]*(?:there|again|everyone|all|friend|model)?[\s,!.]*$"
)
SAY_HI = re.compile(
    r"^\W*(?:say|write|give(?: me)?|send)\s+(?:me\s+)?(?:a\s+)?(?:hi|hello|hey|greetings?|"
    r"a greeting|a welcome)\b"
)
IS_THANKS = re.compile(r"^\W*(?:thanks|thank you|cheers|ta)\b[\s\w,!.]{0,20}$")
ABOUT_ME = re.compile(
    r"\b(?:who|what) are you\b|\bwhat model are you\b|\bare you (?:a|an|the) (?:real )?"
    r"(?:model|ai|bot|robot|person|human|simulator)\b|\bwhat can you do\b|\bwho made you\b"
)
SUMMARISE = re.compile(
    r"\b(?:summari[sz]e|summari[sz]ing|summary|tl;?dr|key points of|main points of|condense|"
    r"what is (?:this|the following) (?:text|section|passage|document) about)\b"
)
CODE_FIRST = re.compile(
    r"^\W*(?:please\s+)?(?:show|write|give|share)\b(?:\s+me)?[^.?!]{0,40}?\b(?:code|function|"
    r"snippet|script|program|one-liner|example)s?\b",
    re.IGNORECASE,
)
_KEY_NAME = re.compile(r"[`'\"]?([A-Za-z_][\w-]{0,40})[`'\"]?")
_KEY_LIST = re.compile(  # "with keys 'term' and 'definition'", "fields: name, why"
    r"\b(?:(?:with|using|having|containing|includ(?:e|es|ing))\s+(?:the\s+)?(?:keys?|fields?|"
    r"properties)(?:\s+(?:named|called))?\s*:?|(?:keys?|fields?|properties)\s*(?::|named|called))"
    r"\s*(?P<names>"
    + _KEY_NAME.pattern
    + r"(?:\s*(?:,\s*(?:and\s+)?|and\s+|&\s*)"
    + _KEY_NAME.pattern
    + r"){0,19})",
    re.IGNORECASE,
)
_NAMED_WORD = re.compile(
    r"\b(?:the\s+)?(?:word|term|concept|phrase)\s+(?:[`'\"]([^`'\"\n]{1,40})[`'\"]|(\w+)$)",
    re.IGNORECASE,
)
_JSON_KIND = re.compile(r"\bjson\s+(?:objects?|arrays?|format|response)\b", re.IGNORECASE)
_LIST_VERB = re.compile(r"(?:^|[.!?:]\s+|\n)\s*(?:please\s+)?(?:list|enumerate)\b")
_QUESTION_LABEL = re.compile(r"(?im)^\s*(?:question|q)\s*:\s*(.+)$")


def number(word: str) -> int:
    """A requested count, clamped so "0 bullets" or "5000 bullets" stay a sane answer."""
    n = int(word) if word.isdigit() else NUMBERS[word]
    return min(max(n, 1), MAX_ITEMS)


@dataclass
class Ask:
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
    keys: list[str] = field(default_factory=list)  # JSON keys the prompt names
    named_word: str | None = None  # "for the word 'token'"

    def subject_text(self) -> str:
        """The question without what is not its subject: the JSON request and its keys."""
        if self.named_word:
            return f"What is {self.named_word}?"
        question = _KEY_LIST.sub(" ", self.question) if self.keys else self.question
        if self.json:
            question = JSON_OUT.sub(" ", _JSON_KIND.sub("json", question))
        return question


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


def parse(messages: Sequence[Mapping[str, object]]) -> Ask:
    """What the last user turn asks for, with the instructions' format rules applied."""
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
    ask = Ask(question, material, text, history=last > 0 and any(
        m.get("role") == "assistant" for m in messages[:last]
    ))  # fmt: skip
    if m := _BULLETS.search(text):
        ask.bullets = number(m.group(1))
    if m := _SENTENCES.search(text):
        ask.sentences = number(m.group(1))
    elif _ONE_LINE.search(text) and not _ONE_LINE_CODE.search(text):
        ask.sentences = 1
    if m := _WORDS.search(text):
        raw = next(g for g in (m.group(2), m.group(3), m.group(4)) if g is not None)
        strict = m.group(1) in ("under", "fewer than", "less than")
        ask.max_words = max(1, min(int(raw), MAX_WORDS) - (1 if strict else 0))
    if m := _ITEMS.search(text):
        ask.items = number(m.group(1))
    elif _LIST_VERB.search(text) and not (ask.bullets or ask.sentences):
        ask.items = 5
    if _ONE_LINE_CODE.search(text):
        ask.code = "line"
    elif _CODE.search(text):
        ask.code = "block"
    ask.json = bool(JSON_OUT.search(text))
    if ask.json and (m := _KEY_LIST.search(question)):  # not "API keys: why they matter"
        names = [n for n in _KEY_NAME.findall(m.group("names")) if n.lower() != "and"]
        ask.keys = list(dict.fromkeys(names))[:MAX_ITEMS]
    if (m := _NAMED_WORD.search(question)) and (m.group(1) or ask.json):
        ask.named_word = m.group(1) or m.group(2)  # unquoted only in JSON: "the word limit"
    strong = sum(v in text for v in VERBOSE_STRONG)
    weak = sum(v in text for v in VERBOSE_WEAK)
    if strong or weak >= 2:
        ask.length = 3 if strong + weak >= 5 else 2  # the more hedging, the longer the answer
    elif _BRIEF.search(text):
        ask.length = 0
    elif len(question.split()) >= 30:
        ask.length = 2
    return ask
