"""What a learner tries in Exercise 1 and with JSON gets a real answer (issue 27, items 5 and 9).

- A subject the course model knows well is answered from its knowledge, in the form asked.
- Any other subject still gets the form asked for (three bullets, under N words, a tiny code
  example, a long answer to a hedging prompt), naming the subject and marked as simulated:
  never a refusal dressed as an answer, never a subject taken from the wrong words.
- Keys named in a prompt, or in a JSON schema, come back, with values about the named subject
  (through the real SDK, against the simulator).
"""

from __future__ import annotations

import ast
import json
import re

import pytest

from course_simulator import Simulator
from course_simulator.model import compose, find_subjects, known_subjects
from course_utils.pricing import DEFAULT_MODEL
from course_utils.tokens import count_tokens

UNKNOWN = ("sourdough baking", "git rebase", "the Roman empire", "Kubernetes pods")
EXERCISE_1_IDEAS = (  # what a learner would naturally try: the course model knows them all
    "git branches", "Python decorators", "list comprehensions", "HTTP status codes",
    "recursion", "virtual environments", "exceptions", "dictionaries", "unit tests",
    "regular expressions",
)  # fmt: skip


def answer(prompt: str, **kwargs: object) -> str:
    return compose([{"role": "user", "content": prompt}], DEFAULT_MODEL, **kwargs)  # type: ignore[arg-type]


def bullets(text: str) -> list[str]:
    prose = re.sub(r"(?:Example:\n)?```python\n.*?\n```", "", text, flags=re.DOTALL)
    return [line[2:] for line in prose.splitlines() if line.startswith("- ")]


def concise(subject: str) -> str:
    return f"Explain {subject} in 3 bullet points, under 60 words."


def verbose(subject: str) -> str:
    """A hedging prompt that opens with a greeting: the subject is in its second sentence."""
    return (
        f"Hi! I'd like you to please write a comprehensive and helpful explanation of "
        f"{subject}, with examples, detailed enough for a beginner but balanced, so it is not "
        f"too short and not too long."
    )


# --- subjects the course model knows well ----------------------------------------------------


def test_known_subjects_lists_specific_titles() -> None:
    titles = known_subjects()
    assert {"Git branches", "Python decorators", "Recursion", "HTTP status codes"} <= set(titles)
    assert "Python" not in titles and "APIs" not in titles  # generic subjects are not suggested
    assert len(titles) == len(set(titles))


@pytest.mark.parametrize("title", known_subjects())
def test_every_known_subject_answers_exercise_1_from_knowledge(title: str) -> None:
    short, long = answer(concise(title)), answer(verbose(title))
    assert len(bullets(short)) == 3 and len(short.split()) < 60
    for text in (short, long):
        assert "simulated" not in text.lower() and "can't tell you" not in text.lower()
        assert any(s.title == title for s in find_subjects(text)), text
    assert count_tokens(long) >= 2.5 * count_tokens(short)


@pytest.mark.parametrize("idea", EXERCISE_1_IDEAS)
def test_the_subjects_a_learner_tries_are_known(idea: str) -> None:
    assert find_subjects(idea), idea
    assert "simulated" not in answer(concise(idea)).lower()


# --- subjects it does not know: the form asked for, marked simulated --------------------------


@pytest.mark.parametrize("subject", UNKNOWN)
def test_unknown_subject_gets_the_bullets_and_word_limit_asked_for(subject: str) -> None:
    text = answer(concise(subject))
    lines = bullets(text)
    assert len(lines) == 3 and len(text.split()) < 60
    assert all(subject.lower() in line.lower() for line in lines), text  # named, even when cut
    assert "simulated answer" in text and "can't tell you" not in text


@pytest.mark.parametrize("subject", UNKNOWN)
def test_unknown_subject_gets_a_tiny_code_example_that_parses(subject: str) -> None:
    text = answer(
        f"Explain {subject} in 3 bullet points with one tiny code example, under 80 words."
    )
    blocks = re.findall(r"```python\n(.*?)\n```", text, re.DOTALL)
    assert len(bullets(text)) == 3 and len(blocks) == 1 and len(text.split()) < 80
    ast.parse(blocks[0])
    assert subject in blocks[0]


@pytest.mark.parametrize("subject", UNKNOWN)
def test_unknown_subject_in_a_verbose_prompt_is_named_not_the_greeting(subject: str) -> None:
    """The seen bug: "Hi! ... git branches ..." was answered "I can't tell you about hi"."""
    long, short = answer(verbose(subject)), answer(concise(subject))
    assert subject.lower() in long.lower() and "simulated answer" in long
    assert "about hi" not in long.lower() and "Hi:" not in long
    assert count_tokens(long) >= 2.5 * count_tokens(short)  # Exercise 1's contrast still shows


def test_unknown_subject_one_sentence() -> None:
    text = answer("What is a flux capacitor? Answer in one sentence.")
    assert text.startswith("A flux capacitor: a simulated answer") and text.count(". ") == 0


# --- JSON keys from the prompt or a schema ----------------------------------------------------


def test_keys_named_in_the_prompt_come_back_about_the_named_word() -> None:
    """The seen bug: this came back as {"topic": "Classes", "summary": ...}."""
    prompt = "Return a JSON object with keys 'term' and 'definition' for the word 'token'"
    data = json.loads(answer(prompt))
    assert list(data) == ["term", "definition"]
    assert data["term"] == "token" and "token" in data["definition"].lower()


@pytest.mark.parametrize(
    "prompt",
    [
        "Give me JSON with the fields name, definition and why for recursion.",
        'Describe recursion as JSON with keys "name", "definition" and "why".',
        "Return JSON about recursion with keys: name, definition, why",
    ],
)
def test_key_lists_in_several_wordings(prompt: str) -> None:
    data = json.loads(answer(prompt))
    assert list(data) == ["name", "definition", "why"]
    assert data["name"] == "Recursion"
    assert data["definition"].startswith("Recursion is") and "recursion" in data["why"].lower()


def test_keys_for_an_unknown_word_are_marked_simulated() -> None:
    data = json.loads(answer("Return JSON with keys 'term' and 'meaning' for the word 'hygge'."))
    assert data["term"] == "hygge" and "simulated" in data["meaning"]


def test_responses_json_schema_fields_are_about_the_subject(sim: Simulator) -> None:
    schema = {
        "type": "object",
        "properties": {
            "term": {"type": "string"},
            "definition": {"type": "string"},
            "why_it_matters": {"type": "string"},
            "tips": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["term", "definition", "why_it_matters", "tips"],
        "additionalProperties": False,
    }
    r = sim.client(max_retries=0).responses.create(
        model=DEFAULT_MODEL,
        input="Define exponential backoff for a glossary.",
        text={"format": {"type": "json_schema", "name": "entry", "schema": schema}},
    )
    data = json.loads(r.output_text)
    assert set(data) == set(schema["properties"])
    assert data["term"] == "Exponential backoff"
    assert "backoff" in data["definition"].lower() and "backoff" in data["why_it_matters"].lower()
    assert len(data["tips"]) >= 2 and len(set(data["tips"])) == len(data["tips"])


def test_chat_response_format_schema_fields_are_about_the_subject(sim: Simulator) -> None:
    schema = {
        "type": "object",
        "properties": {"word": {"type": "string"}, "meaning": {"type": "string"}},
        "required": ["word", "meaning"],
    }
    c = sim.client(max_retries=0).chat.completions.create(
        model=DEFAULT_MODEL,
        messages=[{"role": "user", "content": "Explain the term 'jitter'."}],
        response_format={"type": "json_schema", "json_schema": {"name": "w", "schema": schema}},
    )
    data = json.loads(c.choices[0].message.content or "")
    assert data["word"] == "jitter" and "jitter" in data["meaning"].lower()


@pytest.mark.parametrize("json_mode", [False, True])
def test_prompt_keys_through_the_sdk(sim: Simulator, json_mode: bool) -> None:
    extra = {"text": {"format": {"type": "json_object"}}} if json_mode else {}
    r = sim.client(max_retries=0).responses.create(
        model=DEFAULT_MODEL,
        input="Return a JSON object with keys 'term' and 'definition' for the word 'token'",
        **extra,  # type: ignore[arg-type]
    )
    data = json.loads(r.output_text)
    assert data["term"] == "token" and "token" in data["definition"].lower()


def test_key_and_word_phrases_outside_json_leave_the_subject_alone() -> None:
    """ "keys: ..." and "the word limit" are read as JSON keys / a named word only in JSON."""
    text = answer("Explain API keys: why they matter, in 2 sentences.")
    assert text.startswith("An API key") and not text.startswith("{")
    text = answer("Answer in 3 bullets about retries and stay within the word limit")
    assert len(bullets(text)) == 3 and "simulated" not in text
