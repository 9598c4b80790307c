"""The knowledge base keeps the conventions answers are composed from (see knowledge.py)."""

from __future__ import annotations

import re

import pytest

from course_utils.simulator.model import find_subjects
from course_utils.simulator.model.knowledge import Subject, comparisons, phrases, subjects

SUBJECTS = subjects()

KEYS = {s.key for s in SUBJECTS}
COURSE_TOPICS = (  # the subjects issue 17 names: each must be known by at least this alias
    "api", "token", "tokenizer", "context window", "prompt", "prompt efficiency", "decorator",
    "list comprehension", "http status code", "rate limit", "rpm", "tpm", "backoff", "jitter",
    "retry", "transient error", "timeout", "error handling", "logging", "json",
    "structured output", "caching", "streaming", "batch processing", "cost", "model choice",
    "reasoning tokens", "virtual environment", "function",
)  # fmt: skip


def forms(text: str) -> tuple[str, str]:
    return text.replace("((", "").replace("))", ""), re.sub(r"\(\(.*?\)\)", "", text)


def sentences_of(s: Subject) -> list[tuple[str, str]]:
    return [
        ("what", s.what),
        ("why", s.why),
        ("code_says", s.code_says),
        *(("fact", f) for f in s.facts),
        *(("tip", t) for t in s.tips),
    ]


@pytest.mark.parametrize("subject", SUBJECTS, ids=[s.key for s in SUBJECTS])
def test_every_sentence_has_a_full_and_a_short_form(subject: Subject) -> None:
    for kind, text in sentences_of(subject):
        assert text.count("((") == text.count("))"), (kind, text)
        for form in forms(text):
            assert form.endswith("."), (kind, form)
            assert "\n" not in form and "((" not in form and "))" not in form, (kind, form)
            assert ". " not in form and "e.g." not in form, (kind, form)  # one sentence
            assert "  " not in form and " ," not in form, (kind, form)
        full, short = forms(text)
        assert len(full.split()) <= 36 and len(short.split()) <= 22, (kind, full)


@pytest.mark.parametrize("subject", SUBJECTS, ids=[s.key for s in SUBJECTS])
def test_definition_and_reason_name_their_subject(subject: Subject) -> None:
    for text in (subject.what, subject.why):
        for form in forms(text):
            assert subject in find_subjects(form), form


@pytest.mark.parametrize("subject", SUBJECTS, ids=[s.key for s in SUBJECTS])
def test_enough_to_compose_from(subject: Subject) -> None:
    assert len(subject.facts) >= 3 and len(subject.tips) >= 2
    assert subject.code.strip() and subject.one_liner.strip()
    assert all(a == a.lower() and a.strip() == a for a in subject.aliases)
    assert set(subject.related) <= KEYS and subject.key not in subject.related


def test_keys_and_aliases_are_unique() -> None:
    assert len(KEYS) == len(SUBJECTS)
    aliases = [a for s in SUBJECTS for a in s.aliases]
    assert len(aliases) == len(set(aliases))


def test_the_course_subjects_are_all_known() -> None:
    for topic in COURSE_TOPICS:
        assert find_subjects(topic), topic


def test_comparisons_refer_to_real_subjects() -> None:
    for pair, sentence in comparisons().items():
        assert len(pair) == 2 and pair <= KEYS
        assert sentence.endswith(".") and ". " not in sentence


def test_fixed_texts_are_sentences() -> None:
    said = phrases()
    for name in ("hedges", "transitions", "tips_intros", "closers", "about_me", "no_subject"):
        for text in getattr(said, name):
            assert text.endswith((".", "?")) and ". " not in text, (name, text)
    words = [len(g.split()) for g in said.greeting_by_words]
    assert words == list(range(1, len(words) + 1))
