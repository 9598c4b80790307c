"""What the simulated model knows, read from ``course_simulator/data/knowledge/*.toml``.

The content is data: each subject file holds ``[[subject]]`` entries, ``comparisons.toml``
ready-made "X vs Y" sentences, ``phrases.toml`` the fixed texts (greetings, padding, the answer
for an unknown subject) and ``words.toml`` the word lists prompts are read with. Everything is
loaded once and checked against the schema below, so a malformed entry fails with a message
that names the file, the entry and the field, not with a confusing answer later.

Conventions every subject follows (``tests/test_simulator_knowledge.py`` enforces them):
- Each sentence is one complete sentence ending in a full stop, with no line breaks and no
  ". " inside it (so counting sentences is unambiguous), and never an abbreviation such as "e.g.".
- ``((...))`` marks the part of a sentence a short answer may drop: the full form removes the
  markers, the short form removes the marked text. Both forms must read as good English.
- ``what`` defines the subject and ``why`` says why it matters; both name the subject, so a
  one-sentence answer is always on topic. ``facts`` explain how it works, ``tips`` give advice.
- ``code`` is a small, valid Python example that does what ``code_says`` says; ``one_liner``
  is a single line of valid Python (a decorator example may add the ``def`` line it needs).
  ``$MODEL`` and ``$LARGE_MODEL`` stand for catalogue model ids, filled in when an answer is
  written, so model ids stay in ``data/models.toml`` alone.
- ``aliases`` are lower-case phrases that name the subject in a prompt; ``generic`` subjects
  (Python, APIs, HTTP, language models) are chosen only when no more specific subject is named;
  ``python`` subjects (beginner Python) always show their code in a long answer.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from course_utils.pricing import DEFAULT_MODEL, list_models

__all__ = [
    "KnowledgeError",
    "Phrases",
    "Sentence",
    "Subject",
    "code_examples",
    "comparisons",
    "fill_model_ids",
    "forms",
    "known_subjects",
    "parse_subjects",
    "phrases",
    "subjects",
    "words",
]

FOLDER = "data/knowledge"  # inside the course_simulator package
WHERE = f"course_simulator/{FOLDER}"  # how error messages name it
NOT_SUBJECT_FILES = ("comparisons.toml", "phrases.toml", "words.toml")


class KnowledgeError(ValueError):
    """A knowledge file that does not match its schema (names the file, entry and field)."""


@dataclass(frozen=True)
class Subject:
    """One subject the simulated model can explain."""

    key: str
    title: str  # how a heading or a JSON "topic" names it
    aliases: tuple[str, ...]
    what: str
    why: str
    facts: tuple[str, ...]
    tips: tuple[str, ...]
    code: str
    code_says: str
    one_liner: str
    items: tuple[str, ...] = ()  # members a prompt can ask to "name" or "list"
    related: tuple[str, ...] = ()  # keys of subjects a long answer may point to
    generic: bool = False
    python: bool = False  # beginner Python: a long answer always shows the code


@dataclass(frozen=True)
class Phrases:
    """The fixed texts of ``phrases.toml``."""

    hedges: tuple[str, ...]
    transitions: tuple[str, ...]
    tips_intros: tuple[str, ...]
    closers: tuple[str, ...]
    closer: str  # "In short: {summary}"
    greeting: str
    greeting_by_words: tuple[str, ...]  # [n - 1] has n words
    thanks: str
    about_me: tuple[str, ...]
    no_subject: tuple[str, ...]
    no_subject_one_sentence: str
    unknown: dict[str, Any]  # a stand-in subject: Subject fields with {subject} in them


# The schema: field -> (type, required). Lists hold strings.
_SUBJECT_FIELDS: dict[str, tuple[type, bool]] = {
    "key": (str, True), "title": (str, True), "aliases": (list, True), "what": (str, True),
    "why": (str, True), "facts": (list, True), "tips": (list, True), "code": (str, True),
    "code_says": (str, True), "one_liner": (str, True), "items": (list, False),
    "related": (list, False), "generic": (bool, False), "python": (bool, False),
}  # fmt: skip


# The fields of phrases.toml's [unknown] stand-in subject (texts only; no key or aliases).
_STAND_IN_FIELDS = ("title", "what", "why", "facts", "tips", "code", "code_says", "one_liner")


def _read(name: str, text: str | None = None) -> dict[str, Any]:
    if text is None:
        text = resources.files("course_simulator").joinpath(f"{FOLDER}/{name}").read_text("utf-8")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise KnowledgeError(f"{WHERE}/{name}: not valid TOML: {err}") from None


def _check(where: str, table: object, fields: dict[str, tuple[type, bool]]) -> dict[str, Any]:
    """``table`` checked against ``fields`` (``where`` names the file and entry in errors)."""
    if not isinstance(table, dict):
        raise KnowledgeError(f"{where}: expected a table, got {type(table).__name__}")
    for name in table:
        if name not in fields:
            raise KnowledgeError(f"{where}: unknown field {name!r} (fields: {', '.join(fields)})")
    for name, (kind, required) in fields.items():
        if name not in table:
            if required:
                raise KnowledgeError(f"{where}: field {name!r} is missing")
            continue
        value = table[name]
        if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
            raise KnowledgeError(
                f"{where}: field {name!r} must be a non-empty {kind.__name__}, got {value!r}"
            )
        if isinstance(value, list) and not all(isinstance(v, str) and v.strip() for v in value):
            raise KnowledgeError(f"{where}: field {name!r} must hold non-empty strings only")
    return table


def _subject(where: str, table: object) -> Subject:
    row = _check(where, table, _SUBJECT_FIELDS)
    bad = [a for a in row["aliases"] if a != a.lower().strip()]
    if bad:
        raise KnowledgeError(f"{where}: field 'aliases' must be lower case, got {bad[0]!r}")
    lists = {k: tuple(v) for k, v in row.items() if isinstance(v, list)}
    return Subject(**{**row, **lists})


def parse_subjects(name: str, text: str) -> list[Subject]:
    """The ``[[subject]]`` entries of one knowledge file's ``text``, checked against the schema
    (``name`` is the file's name, for error messages)."""
    entries = _read(name, text).get("subject")
    if not isinstance(entries, list) or not entries:
        raise KnowledgeError(f"{WHERE}/{name}: no [[subject]] entries")
    out = []
    for i, entry in enumerate(entries, 1):
        key = entry.get("key") if isinstance(entry, dict) else None
        out.append(_subject(f"{WHERE}/{name}: subject {key or f'#{i}'!r}", entry))
    return out


@cache
def subjects() -> tuple[Subject, ...]:
    """Every subject, file by file (alphabetical) in the order the files list them."""
    folder = resources.files("course_simulator").joinpath(FOLDER)
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".toml"))
    out: list[Subject] = []
    for name in (n for n in names if n not in NOT_SUBJECT_FILES):
        out.extend(parse_subjects(name, folder.joinpath(name).read_text("utf-8")))
    keys = [s.key for s in out]
    for s in out:
        if keys.count(s.key) > 1:
            raise KnowledgeError(f"{WHERE}: subject {s.key!r} is defined twice")
        unknown = [k for k in s.related if k not in keys]
        if unknown:
            raise KnowledgeError(
                f"{WHERE}: subject {s.key!r}: field 'related' names unknown subject {unknown[0]!r}"
            )
    return tuple(out)


@cache
def subject_by_key() -> dict[str, Subject]:
    """Every subject by its key (``related`` names subjects by key)."""
    return {s.key: s for s in subjects()}


@cache
def comparisons() -> dict[frozenset[str], str]:
    """Ready-made sentences for two subjects asked about together, by their two keys."""
    where = f"{WHERE}/comparisons.toml"
    keys = subject_by_key()
    out: dict[frozenset[str], str] = {}
    for i, entry in enumerate(_read("comparisons.toml").get("comparison", []), 1):
        row = _check(f"{where}: comparison #{i}", entry, {"subjects": (list, True),
                                                          "text": (str, True)})  # fmt: skip
        pair = row["subjects"]
        if len(pair) != 2 or not set(pair) <= set(keys):
            raise KnowledgeError(
                f"{where}: comparison #{i}: field 'subjects' must name two known subjects, "
                f"got {pair!r}"
            )
        out[frozenset(pair)] = row["text"]
    return out


def _section(raw: dict, name: str, fields: dict[str, tuple[type, bool]]) -> dict[str, Any]:
    return _check(f"{WHERE}/phrases.toml: [{name}]", raw.get(name), fields)


@cache
def phrases() -> Phrases:
    """The fixed texts of ``phrases.toml``, checked."""
    raw = _read("phrases.toml")
    long = _section(raw, "long_answer", {
        "hedges": (list, True), "transitions": (list, True), "tips_intros": (list, True),
        "closers": (list, True), "closer": (str, True),
    })  # fmt: skip
    hello = _section(raw, "greeting", {"text": (str, True), "by_words": (list, True),
                                       "thanks": (str, True)})  # fmt: skip
    me = _section(raw, "about_me", {"sentences": (list, True)})
    none = _section(raw, "no_subject", {"sentences": (list, True), "one_sentence": (str, True)})
    unknown = _section(raw, "unknown", {k: _SUBJECT_FIELDS[k] for k in _STAND_IN_FIELDS})
    for i, text in enumerate(hello["by_words"], 1):
        if len(text.split()) != i:
            raise KnowledgeError(
                f"{WHERE}/phrases.toml: [greeting]: field 'by_words' entry {i} must have {i} "
                f"words, got {text!r}"
            )
    return Phrases(
        hedges=tuple(long["hedges"]),
        transitions=tuple(long["transitions"]),
        tips_intros=tuple(long["tips_intros"]),
        closers=tuple(long["closers"]),
        closer=long["closer"],
        greeting=hello["text"],
        greeting_by_words=tuple(hello["by_words"]),
        thanks=hello["thanks"],
        about_me=tuple(me["sentences"]),
        no_subject=tuple(none["sentences"]),
        no_subject_one_sentence=none["one_sentence"],
        unknown=unknown,
    )


@cache
def words() -> dict[str, Any]:
    """The word lists of ``words.toml`` (stop words, verbose markers, counts, ...)."""
    lists = ("stop_words", "verbose_strong", "verbose_weak", "dangling", "fragments")
    raw = _check(f"{WHERE}/words.toml", _read("words.toml"),
                 {**{k: (list, True) for k in lists}, "numbers": (dict, True),
                  "flip": (dict, True)})  # fmt: skip
    for name in ("numbers", "flip"):
        for k, v in raw[name].items():
            kind = int if name == "numbers" else str
            if not isinstance(v, kind) or isinstance(v, bool):
                raise KnowledgeError(
                    f"{WHERE}/words.toml: [{name}]: field {k!r} must be a {kind.__name__}, "
                    f"got {v!r}"
                )
    return raw


def known_subjects() -> tuple[str, ...]:
    """The subjects the course's simulated model knows well, as a learner would name them
    ("Python decorators", "Git branches"): specific subjects only, in the files' order.

    Any of them makes a good topic for a prompt exercise; other subjects still get an answer
    in the form asked for, marked as simulated.
    """
    return tuple(s.title for s in subjects() if not s.generic)


@dataclass(frozen=True)
class Sentence:
    """A knowledge sentence in its two forms."""

    full: str
    short: str


@lru_cache(maxsize=8192)  # bounded: an unknown subject's sentences are new text every time
def forms(text: str) -> Sentence:
    """A knowledge sentence's full form and its short form (the ``((...))`` part dropped)."""
    return Sentence(text.replace("((", "").replace("))", ""), re.sub(r"\(\(.*?\)\)", "", text))


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
    for s in subjects():
        out.append((s.key, "block", fill_model_ids(s.code)))
        out.append((s.key, "line", fill_model_ids(s.one_liner)))
    return out
