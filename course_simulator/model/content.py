"""What an answer is made of: the sentences it can use, best first, from a known subject, a
stand-in for a subject the knowledge base does not hold, or a document sent with the prompt."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any

from .knowledge import Sentence, Subject, comparisons, forms, phrases, subject_by_key
from .prompt import ABOUT_ME, SUMMARISE, Ask
from .subjects import (
    FRAGMENTS,
    WH,
    ask_sentence,
    content_words,
    find_subjects,
    most_relevant,
    named,
    stem,
    strip_leads,
    subject_phrase,
)

__all__ = ["Content", "content_for", "extend"]


@dataclass
class Content:
    """The sentences an answer can use, best first, plus what it may show beside them."""

    title: str
    pool: list[Sentence]
    subjects: list[Subject] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    asks_back: bool = False  # no subject named: a short "which subject?", whatever the shape
    code_ok: bool = True
    angle: str = "what"  # what the question asks: what / why / how / howto / example / ...


def _subject_pool(s: Subject, angle: str, extra: frozenset[str]) -> list[Sentence]:
    what, why = forms(s.what), forms(s.why)
    facts = [forms(f) for f in s.facts]
    tips = [forms(t) for t in s.tips]
    if angle == "why":
        pool = [why, what, *facts, *tips]
    elif angle in ("how", "howto", "code"):
        pool = [what, *facts, why, *tips]
    elif angle == "when":
        pool = [what, *tips, why, *facts]
    else:
        pool = [what, why, *facts, *tips]
    if extra:
        scored = [(len(extra & content_words(p.full)), -i) for i, p in enumerate(pool)]
        best = max(range(len(pool)), key=lambda i: scored[i])
        if scored[best][0] > 0 and best > 0:
            pool.insert(0, pool.pop(best))
    return pool


def extend(pool: list[Sentence], subjects: list[Subject], n: int) -> list[Sentence]:
    """``pool`` grown to ``n`` sentences from related subjects (then repeated, if it must)."""
    seen = {s.key for s in subjects}
    queue = [k for s in subjects for k in s.related]
    out = list(pool)
    while len(out) < n and queue:
        key = queue.pop(0)
        if key in seen or key not in subject_by_key():
            continue
        seen.add(key)
        rel = subject_by_key()[key]
        out.extend(forms(t) for t in (rel.what, rel.why, *rel.facts, *rel.tips))
        queue.extend(rel.related)
    while out and len(out) < n:
        out.extend(out[: n - len(out)])
    return out[:n] if n else out


def _interleave(*pools: list[Sentence]) -> list[Sentence]:
    out: list[Sentence] = []
    for group in zip_longest(*pools):
        out.extend(p for p in group if p is not None)
    return out


def known(subjects: list[Subject], angle: str, question: str) -> Content:
    """One subject's sentences ordered for the angle asked, or two interleaved ("X vs Y")."""
    extra = content_words(question)
    for s in subjects:
        extra -= content_words(s.title) | {stem(s.key)}
    if len(subjects) == 1:
        s = subjects[0]
        pool = _subject_pool(s, angle, extra)
        return Content(s.title, pool, [s], list(s.items), angle=angle)
    a, b = subjects[:2]
    pools = [_subject_pool(s, "what", frozenset()) for s in (a, b)]
    pool = _interleave(*pools)
    cmp = comparisons().get(frozenset((a.key, b.key)))
    if cmp:
        pool.insert(0 if angle == "compare" else 2, Sentence(cmp, cmp))
    return Content(f"{a.title} and {b.title}", pool, [a, b], list(a.items), angle=angle)


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


def from_material(ask: Ask, summarise: bool) -> Content | None:
    """Sentences from a document sent with the prompt: its key sentences for a summary, else
    the passage that answers the question (None: the document does not answer it)."""
    material = ask.material[:MAX_MATERIAL_CHARS]
    sentences = _sentences_of(material)
    body = list(dict.fromkeys(s for s in sentences if not _is_heading(s)))
    if not body:
        return None
    if summarise:
        freq: dict[str, int] = {}
        for s in body:
            for w in content_words(s):
                freq[w] = freq.get(w, 0) + 1

        def score(i: int) -> float:
            s = body[i]
            n = len(s.split())
            fit = 1.0 if 8 <= n <= 35 else 0.5
            return fit * sum(freq[w] for w in content_words(s)) / math.sqrt(n) - i * 1e-3

        ranked = sorted(range(len(body)), key=score, reverse=True)
        pool = [Sentence(body[i], body[i]) for i in ranked]
        return Content("Summary", pool, code_ok=False)
    wanted = content_words(ask.question)
    if not wanted:
        return None
    blocks = [_sentences_of(b) for b in material.splitlines() if b.strip()]
    spots = [(len(wanted & content_words(s)), -b, -i) for b, ss in enumerate(blocks)
             for i, s in enumerate(ss)]  # fmt: skip
    overlap, b, i = max(spots)
    if overlap == 0:
        return None
    block, anchor = blocks[-b], -i
    start = anchor + 1 if len(block[anchor].split()) <= 6 and anchor + 1 < len(block) else anchor
    picked = [s for s in block[start:] if not _is_heading(s)] or [block[anchor]]
    return Content("Answer", [Sentence(s, s) for s in picked], code_ok=False)


def _stand_in(name: str) -> Subject:
    """A subject the knowledge base does not hold, written from ``phrases.toml``'s template:
    sentences that name it and say the answer is simulated, and code that parses."""
    literal = json.dumps(name)  # a valid Python string literal for the code examples

    def fill(field: str, text: str) -> str:
        text = text.replace("{Subject}", cap(name))
        return text.replace("{subject}", literal if field in ("code", "one_liner") else name)

    fields: dict[str, Any] = {
        k: tuple(fill(k, x) for x in v) if isinstance(v, list) else fill(k, v)
        for k, v in phrases().unknown.items()
    }
    return Subject(key="unknown", aliases=(), **fields)


def unknown(ask: Ask, angle: str, phrases_: list[str]) -> Content:
    """A subject outside the knowledge base: the form the prompt asks for, naming the subject
    and marked as simulated (never a refusal dressed as an answer).

    A "what is X" subject is named as the prompt wrote it; another kind of question ("Why was
    my upload rejected?") is quoted whole, when it can be quoted cleanly. A request that names
    nothing at all gets a short question back.
    """
    start = ask.question.strip()
    names = [named(p, start.lower().startswith(p.lower())) for p in phrases_]
    subject = next((n for n in names if n), None)
    sentence = strip_leads(ask_sentence(ask.question))
    quotable = 0 < len(sentence.split()) <= 16 and not any(
        f in f" {sentence.lower()} " for f in FRAGMENTS
    )
    if subject is not None and subject.lower().split()[0] in WH:
        about = subject
    elif angle in ("why", "how", "when") and quotable:
        about = f'"{cap(sentence)}"'
    elif subject is not None:
        about = subject
    else:
        said = phrases()
        pool = [forms(s) for s in said.no_subject]
        pool.insert(1, forms(said.no_subject_one_sentence))  # for "one sentence"
        return Content("No subject", pool, asks_back=True, code_ok=False)
    return known([_stand_in(about)], "what", "")  # its sentences stay in their order


def content_for(ask: Ask) -> Content:
    """What the answer is about: material, a known subject, or a subject it does not know."""
    if ask.material:
        found = from_material(ask, bool(SUMMARISE.search(ask.question.lower())))
        if found is not None:
            return found
    question = ask.subject_text()
    angle, said = subject_phrase(re.sub(r"\s{2,}", " ", question).strip())
    found_subjects: list[Subject] = []
    for p in said:
        for s in find_subjects(p):
            if s not in found_subjects:
                found_subjects.append(s)
        if angle != "compare" and found_subjects:
            break
    if not found_subjects:  # a verb can name the subject too: "why log the request id?"
        found_subjects = find_subjects(ask_sentence(question) if said else question)
    if found_subjects:
        if angle != "compare":
            specific = [s for s in found_subjects if not s.generic]
            found_subjects = [most_relevant(specific or found_subjects, ask.question)]
        return known(found_subjects[:2], angle, ask.question)
    if ABOUT_ME.search(ask.question.lower()):
        pool = [forms(s) for s in phrases().about_me]
        return Content("The course simulator", pool, code_ok=False)
    return unknown(ask, angle, said)


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def decap(s: str) -> str:
    first = s.split(" ", 1)[0]
    if first in ("A", "An", "The") or (
        first[1:2].islower() and first not in ("Python", "OpenAI", "I")
    ):
        return s[:1].lower() + s[1:]
    return s
