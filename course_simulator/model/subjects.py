"""Finding the subject of a prompt: the phrase that names it ("explain to me what X is", "why
should apps use X?", "X vs Y") and the knowledge-base subjects its words name."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache, lru_cache

from .knowledge import Subject, forms, subjects, words
from .prompt import IS_GREETING, IS_THANKS

__all__ = ["find_subjects", "most_relevant", "subject_phrase"]

STOP = frozenset(words()["stop_words"])  # words that never name a subject on their own

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
WH = frozenset(("how", "who", "where", "when", "which", "whether", "whom", "whose"))
_SENTENCE_END = re.compile(r"[?!;\n]|\.(?:\s|$)")
_CLEAN_LEAD = re.compile(r"^(?:[\"'`]+|(?:me|us|to me|for me|about)\s+)", re.IGNORECASE)
FLIP: dict[str, str] = words()["flip"]  # "my cat" -> "your cat"
FRAGMENTS: tuple[str, ...] = tuple(words()["fragments"])


def strip_leads(text: str) -> str:
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


def ask_sentence(question: str) -> str:
    """The sentence of a request that carries its subject (not a format rule or a role)."""
    parts = [s.strip() for s in re.split(r"(?<=[.?!])\s+|\n", question.strip()) if s.strip()]
    useful = [
        s for s in parts
        if not _CONSTRAINT_ONLY.match(s) and not _ROLE.match(s)
        and not IS_GREETING.match(s.lower()) and not IS_THANKS.match(s.lower())
    ]  # fmt: skip  # "Hi! Please explain X ..." is about X, not "hi"
    if not useful and parts and all(_CONSTRAINT_ONLY.match(s) for s in parts):
        return ""  # only format rules ("3 bullet points."): no subject named
    named = next((s for s in (*useful[:20], *useful[-5:]) if find_subjects(s)), None)
    return named or (useful or parts or [question])[0]


def subject_phrase(question: str) -> tuple[str, list[str]]:
    """The question's angle ("what", "why", "how", ...) and the phrases naming its subject."""
    angle = "what"
    text = ask_sentence(question)
    phrases: list[str] = []
    for step in range(5):
        text = strip_leads(text)
        for kind, pattern in _ASKS:
            m = pattern.match(text)
            if not m or (step and pattern is _VERB_ASK):
                continue  # a verb opens a request only once: "explain list ..." names "list"
            if kind == "compare":
                a, b = _tidy(m.group("a")), _tidy(m.group("b"))
                if a and b:
                    a_inner = subject_phrase(a)[1]
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
    return angle, [phrase] if any(w.lower() not in STOP for w in words) else []


def named(phrase: str, at_start: bool) -> str | None:
    """``phrase`` fit to name the subject of an answer ("you" for "I"), or None when it is not."""
    words = phrase.split()
    if not words or len(words) > 12 or len(phrase) > 80 or words[0].lower() in _PREPOSITIONS:
        return None
    flipped = [FLIP.get(w.lower(), w) if w.lower() in FLIP else w for w in words]
    if at_start and flipped[0][:1].isupper() and flipped[0][1:].islower():
        flipped[0] = flipped[0].lower()
    named = " ".join(flipped).strip(" ,")
    lower = f" {named.lower()} "
    if any(f in lower for f in FRAGMENTS) or not re.search(r"[A-Za-z0-9]", named):
        return None
    return named


@cache
def _alias_index() -> tuple[re.Pattern[str], dict[str, Subject]]:
    by_alias: dict[str, Subject] = {}
    for s in subjects():
        for alias in map(str.lower, s.aliases):
            by_alias.setdefault(alias, s)
            if alias[-1].isalpha():
                by_alias.setdefault(alias + "s", s)
                by_alias.setdefault(alias + "es", s)
    # Matched against the lower-cased text (aliases are lower case): a case-blind regex of
    # 2,000 names was three times slower, and this runs on every prompt.
    pattern = re.compile(r"(?<![\w@])" + _trie_regex(by_alias) + r"(?!\w)")
    return pattern, by_alias


def _trie_regex(names: Iterable[str]) -> str:
    """One regex for many words, as a character trie: fast to compile and to match, and it
    prefers the longest alias at a position (a shorter one is tried only if that fails)."""
    trie: dict = {}
    for word in names:
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
    for m in pattern.finditer(text[:MAX_SUBJECT_TEXT].lower()):
        s = by_alias[m.group(0)]
        if s not in found:
            found.append(s)
    return [s for s in found if not s.generic] + [s for s in found if s.generic]


def stem(word: str) -> str:
    word = word.lower().strip("`'\"")
    for suffix in ("ing", "ies", "ied", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
            if suffix in ("ing", "ed") and len(word) > 3 and word[-1] == word[-2]:
                word = word[:-1]
            break
    return word


@lru_cache(maxsize=4096)
def content_words(text: str) -> frozenset[str]:
    words = re.findall(r"[A-Za-z][A-Za-z'-]+", text)
    return frozenset(stem(w) for w in words if w.lower() not in STOP)


def most_relevant(candidates: list[Subject], question: str) -> Subject:
    """Of the subjects a question names, the one with a sentence closest to what it asks
    ("Which API errors should never be retried?" is about retries more than errors)."""
    words = content_words(question)

    def score(i: int) -> tuple[int, int]:
        s = candidates[i]
        extra = words - content_words(s.title) - {stem(s.key)}
        texts = (s.what, s.why, *s.facts, *s.tips)
        return max(len(extra & content_words(forms(t).full)) for t in texts), -i

    return candidates[max(range(min(len(candidates), 3)), key=score)]
