"""The knowledge base keeps the conventions answers are composed from (see model/knowledge.py),
its files are checked when loaded, and they ship in the package."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path, PurePosixPath

import pytest

from course_simulator.model import find_subjects
from course_simulator.model.knowledge import (
    KnowledgeError,
    Subject,
    comparisons,
    parse_subjects,
    phrases,
    subjects,
)

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
    stand_in = said.unknown  # an unknown subject's sentences, with a subject filled in
    for text in (stand_in["what"], stand_in["why"], *stand_in["facts"], *stand_in["tips"]):
        assert text.startswith("{Subject}"), text  # so a sentence cut to a word limit names it
        for form in forms(text.replace("{Subject}", "Kites")):
            assert form.endswith(".") and ". " not in form and "((" not in form, form
    assert "simulated" in forms(stand_in["what"])[1]  # the short form says it, too
    words = [len(g.split()) for g in said.greeting_by_words]
    assert words == list(range(1, len(words) + 1))


# --- the files: checked when loaded, shipped in the package ------------------------------------

GOOD = """
[[subject]]
key = "kites"
title = "Kites"
aliases = ["kite", "kites"]
what = "A kite flies on the wind."
why = "Kites are fun."
facts = ["One.", "Two.", "Three."]
tips = ["Four.", "Five."]
code = "print('kite')"
code_says = "This prints kite."
one_liner = "print('kite')"
"""


def test_a_well_formed_file_parses() -> None:
    (kite,) = parse_subjects("kites.toml", GOOD)
    assert kite.key == "kites" and kite.facts == ("One.", "Two.", "Three.")
    assert not kite.generic and kite.related == ()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('title = "Kites"', "title = 3"),
            "subject 'kites': field 'title' must be a non-empty str",
        ),
        (('why = "Kites are fun."\n', ""), "subject 'kites': field 'why' is missing"),
        (
            ('code = "print', 'colour = "red"\ncode = "print'),
            "subject 'kites': unknown field 'colour'",
        ),
        (('facts = ["One.",', "facts = [1,"), "subject 'kites': field 'facts' must hold non-empty"),
        (('"kite", "kites"', '"Kite"'), "subject 'kites': field 'aliases' must be lower case"),
        (('key = "kites"\n', ""), "subject '#1': field 'key' is missing"),
        (("[[subject]]", "[[subject"), "not valid TOML"),
    ],
)
def test_a_malformed_entry_names_the_file_the_entry_and_the_field(
    change: tuple[str, str], expected: str
) -> None:
    with pytest.raises(KnowledgeError) as info:
        parse_subjects("kites.toml", GOOD.replace(*change))
    message = str(info.value)
    assert message.startswith("course_simulator/data/knowledge/kites.toml: ")
    assert expected in message, message


def test_every_knowledge_file_ships_in_the_package() -> None:
    """setuptools copies only the package-data globs: each TOML file must match one."""
    root = Path(__file__).resolve().parents[1]
    globs = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"][
        "package-data"
    ]["course_simulator"]
    files = sorted((root / "course_simulator" / "data" / "knowledge").glob("*.toml"))
    assert len(files) >= 4
    for file in files:
        relative = PurePosixPath(file.relative_to(root / "course_simulator").as_posix())
        assert any(relative.match(g) for g in globs), relative  # "*" stays in one folder
