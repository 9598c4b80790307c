"""The simulated model's answers: on topic, in the shape asked for, marked simulated when it does
not know; and reasoning models as the service runs them (through the real SDK, against the
simulator)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass

import openai
import pytest
from conftest import warnings_as_errors
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai.types.responses import Response

from course_simulator import Simulator
from course_simulator.model import (
    REASONING_TOKEN_STEP,
    code_examples,
    compose,
    find_subjects,
    generate,
    resolve_effort,
)
from course_simulator.model.knowledge import subjects
from course_utils.prompting import CONCISE_TECHNIQUES, load_long_document, preflight_chunks
from course_utils.tokens import count_tokens

SUBJECTS = subjects()

MODEL = "gpt-5.4-mini"  # the catalogue's default; effort "none" unless a request sets one
REASONING_MODEL = "gpt-5"  # reasons at "medium" by default, as the service does
PLAIN_MODEL = "gpt-4.1"  # not a reasoning model

SEED_VERBOSE = """
Please explain what Python decorators are in a way that is easy for a beginner to understand.
Make sure your answer is helpful, educational, and includes enough detail to be understandable.
Also try to provide examples if useful, and make the explanation balanced so it is not too short
but also not too long.
"""
SEED_CONCISE = """
Explain Python decorators for a beginner.
Return:
- 3 bullet points
- 1 tiny code example
- under 120 words
"""
FRAGMENTS = ("me what", "explain to", "could you", "can you", "would you", "tell me")
FRAGMENT = re.compile(r"\b(?:" + "|".join(FRAGMENTS) + r")\b")  # "explain tokens" is fine


# --- reading answers ---------------------------------------------------------------------------


def code_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)\n```", text, re.DOTALL)


def prose(text: str) -> str:
    """The answer without its code blocks and their "Example:" label."""
    return re.sub(r"(?:Example:\n)?```python\n.*?\n```", "", text, flags=re.DOTALL).strip()


def bullets(text: str) -> list[str]:
    return [line[2:] for line in prose(text).splitlines() if line.startswith("- ")]


def sentences(text: str) -> int:
    body = " ".join(line for line in prose(text).splitlines() if line.strip())
    return len(re.findall(r"[.!?](?=\s|$)", body))


def answer(prompt: str | list[dict], model: str = MODEL, **kwargs: object) -> str:
    messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
    return compose(messages, model, **kwargs)  # type: ignore[arg-type]


def with_instructions(instructions: str, prompt: str) -> list[dict]:
    return [{"role": "developer", "content": instructions}, {"role": "user", "content": prompt}]


# --- the prompt table --------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A prompt and what its answer must hold (None: not checked)."""

    prompt: str | list[dict]
    names: tuple[str, ...] = ()  # each must appear (case-insensitive): the subject is named
    bullets: int | None = None
    sentences: int | None = None
    under_words: int | None = None  # fewer words than this (code included)
    code: bool = False  # a ```python block that parses
    decorator: bool = False  # ... whose code applies a decorator with @
    simulated: bool = False  # an unknown subject: says the answer is simulated
    max_tokens: int | None = None
    min_tokens: int | None = None
    words: int | None = None  # exactly this many words


# fmt: off
CASES = {
    # lesson 00 and the lesson plan (seed 003)
    "lesson00 API 2 sentences": Case(
        "Explain what an API is to a beginner in 2 sentences.", ("API",), sentences=2,
        max_tokens=80,
    ),
    "seed API for a beginner": Case("Explain what an API is for a beginner.", ("API",)),
    "seed exercise 1 concise": Case(
        SEED_CONCISE, ("decorator",), bullets=3, under_words=120, code=True, decorator=True,
        max_tokens=120,
    ),
    "seed exercise 1 verbose": Case(
        SEED_VERBOSE, ("decorator",), code=True, decorator=True, min_tokens=250, max_tokens=800
    ),
    "seed retry 2 sentences": Case(
        "Give me a 2-sentence explanation of why retry logic matters in APIs.", ("retr",),
        sentences=2,
    ),
    "seed error handling 2 sentences": Case(
        "Summarize why error handling matters in AI apps in 2 sentences.", ("error handling",),
        sentences=2,
    ),
    "seed token limits": Case(
        "Explain token limits in one sentence.", ("token limit",), sentences=1
    ),
    "seed backoff": Case(
        "Why should apps use exponential backoff? Answer in one sentence.", ("backoff",),
        sentences=1,
    ),
    "seed transient": Case(
        "What is a transient API error? Answer in one sentence.", ("transient",), sentences=1
    ),
    # the issue's own examples
    "3 bullets under 40 words": Case(
        "Answer in 3 bullet points. Keep it under 40 words. What is a token?", ("token",),
        bullets=3, under_words=40,
    ),
    "could you maybe": Case(
        "Could you maybe explain to me what a Python list comprehension is?",
        ("list comprehension",),
    ),
    "say hi in 3 words": Case("Say hi in 3 words.", words=3),
    "what is a token": Case("What is a token?", ("token",)),
    # lessons 01-02, widgets and exercises
    "one friendly sentence": Case(
        with_instructions("You answer in one short, friendly sentence.", "What is a token?"),
        ("token",), sentences=1,
    ),
    "comparer B": Case(
        "Explain tokens in language models in 3 bullet points, under 60 words.", ("token",),
        bullets=3, under_words=60,
    ),
    "technique after": Case(
        "Explain API rate limits for a beginner in 3 bullet points, under 60 words.",
        ("rate limit",), bullets=3, under_words=60,
    ),
    "technique status codes": Case(
        "List the 5 most common HTTP status codes, one line each: code - meaning.", bullets=5
    ),
    "technique everything": Case(
        "Tell me everything about HTTP status codes.", ("status code",), min_tokens=250
    ),
    "check concise": Case(
        "Explain HTTP caching in 3 bullet points, under 60 words.", ("HTTP caching",),
        bullets=3, under_words=60,
    ),
    "style short": Case(
        with_instructions("Answer in one sentence.", "Explain how HTTP caching works."),
        ("HTTP caching",), sentences=1, max_tokens=60,
    ),
    "style medium": Case(
        with_instructions(
            "Answer in 3 bullet points, under 80 words.", "Explain how HTTP caching works."
        ),
        ("HTTP caching",), bullets=3, under_words=80, max_tokens=160,
    ),
    "style long": Case(
        with_instructions(
            "Answer in 6 bullet points with one short code example.",
            "Explain how HTTP caching works.",
        ),
        ("HTTP caching",), bullets=6, code=True, max_tokens=400,
    ),
    "style detailed": Case(
        with_instructions("Answer in detail.", "Explain how HTTP caching works."),
        ("HTTP caching",), min_tokens=300, max_tokens=800,
    ),
    "exercise 1 own concise": Case(
        "Explain Python virtual environments in 3 bullet points, under 60 words.",
        ("virtual environment",), bullets=3, under_words=60,
    ),
    "csv": Case("Explain what a CSV file is.", ("CSV",)),
    "why cap retries": Case("Why cap retries? One sentence.", ("retr",), sentences=1),
    "check retry prompt": Case(
        "Explain in one sentence why retries need a cap.", ("retr",), sentences=1
    ),
    "define jitter": Case("Define jitter.", ("jitter",)),
    "summarise caching": Case("Summarise HTTP caching for a beginner.", ("HTTP caching",)),
    # learner-style variations
    "explain to me": Case("explain to me what an API is", ("API",)),
    "can you tell me": Case("can you tell me about rate limits please", ("rate limit",)),
    "wondering": Case("I was wondering if you could explain jitter", ("jitter",)),
    "what's": Case("what's a token?", ("token",)),
    "X vs Y": Case("RPM vs TPM", ("RPM", "TPM")),
    "difference between": Case(
        "What is the difference between retries and backoff?", ("retr", "backoff")
    ),
    "tiny code example": Case(
        "Tell me about decorators in Python with a tiny code example.", ("decorator",),
        code=True, decorator=True,
    ),
    "one-line example": Case(
        "Give me a one-line example of a list comprehension.", ("list comprehension",),
        code=True,
    ),
    "write a function": Case(
        "Write a Python function that retries with exponential backoff.", code=True
    ),
    "under 25 words": Case("In under 25 words, what is JSON?", ("JSON",), under_words=25),
    "briefly": Case("explain prompt caching briefly", ("prompt caching",), sentences=2),
    "why do we need": Case("Why do we need timeouts?", ("timeout",)),
    "how do I in python": Case("How do I count tokens in Python?", ("token",), code=True),
    "two sentences logging": Case("Explain logging in two sentences.", ("logging",), sentences=2),
    "5 bullets under 30 words": Case(
        "Explain decorators in 5 bullet points, under 30 words.", ("decorator",), bullets=5,
        under_words=30,
    ),
    "reasoning tokens": Case("What are reasoning tokens?", ("reasoning",)),
    # things the simulated model does not know, and small talk
    "capital of Portugal": Case(
        "What is the capital of Portugal, and why is it famous?", ("the capital of Portugal",),
        simulated=True,
    ),
    "quantum foam": Case(
        "Could you maybe explain to me what quantum foam is?", ("quantum foam",), simulated=True
    ),
    "why question": Case(
        "Why was my upload rejected?", ("Why was my upload rejected?",), simulated=True
    ),
    "how-to question": Case(
        "How do I reset my password?", ("reset your password",), simulated=True
    ),
    "unknown in one sentence": Case(
        "What is a flux capacitor? Answer in one sentence.", ("a flux capacitor",), simulated=True,
        sentences=1,
    ),
    "hello": Case("Hello", ("simulated model",)),
    "no subject": Case("And now?", ("which subject",), simulated=True),
}
# fmt: on


def _check(case: Case, text: str) -> None:
    lower = text.lower()
    for name in case.names:
        assert name.lower() in lower, f"{name!r} not named"
    if case.bullets is not None:
        assert len(bullets(text)) == case.bullets
    if case.sentences is not None:
        assert sentences(text) == case.sentences
    if case.under_words is not None:
        assert len(text.split()) < case.under_words
    if case.words is not None:
        assert len(text.split()) == case.words
    blocks = code_blocks(text)
    if case.code:
        assert blocks, "no code block"
        trees = [ast.parse(b) for b in blocks]
        if case.decorator:
            assert "@" in blocks[0]
            assert any(getattr(node, "decorator_list", None) for t in trees for node in ast.walk(t))
    else:
        assert not blocks or case.min_tokens, "a code block nobody asked for"
    if case.simulated:
        assert "simulated" in lower
    assert "can't tell you" not in lower  # never a refusal dressed as an answer
    n = count_tokens(text, MODEL)
    if case.max_tokens is not None:
        assert n <= case.max_tokens
    if case.min_tokens is not None:
        assert n >= case.min_tokens
    assert not FRAGMENT.search(lower), FRAGMENT.search(lower)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_prompt_table(case: Case) -> None:
    text = answer(case.prompt)
    _check(case, text)


def _runner_prompts() -> list[str]:
    from importlib import resources

    text = resources.files("course_utils").joinpath("data/prompts.txt").read_text("utf-8")
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("prompt", _runner_prompts())
def test_mini_project_prompts_are_answered_in_shape(prompt: str) -> None:
    """The runner's sample prompts (course_utils/data/prompts.txt) all get a course answer."""
    text = answer(prompt)
    assert "simulated model" not in text
    if "one sentence" in prompt:
        assert sentences(text) == 1
    if m := re.search(r"under (\d+) words", prompt):
        assert len(text.split()) < int(m.group(1))
    if m := re.search(r"(\d+) bullet points", prompt):
        assert len(bullets(text)) == int(m.group(1))
    if m := re.search(r"in (\d+) sentences", prompt):
        assert sentences(text) == int(m.group(1))


def test_verbose_and_concise_contrast_stays_strong() -> None:
    """Lessons 01-02 and Exercise 1 show a verbose prompt costing several times a concise one."""
    for verbose, concise in [
        (SEED_VERBOSE, SEED_CONCISE),
        (CONCISE_TECHNIQUES[0].before, CONCISE_TECHNIQUES[0].after),
    ]:
        long, short = count_tokens(answer(verbose)), count_tokens(answer(concise))
        assert long >= 2.5 * short, (long, short)


def test_name_an_http_status_code() -> None:
    text = answer("Name an HTTP status code.")
    assert re.match(r"^[1-5]\d\d [A-Z]", text) and sentences(text) == 1


def test_status_code_list_is_code_then_meaning() -> None:
    lines = bullets(answer(CONCISE_TECHNIQUES[1].after))
    assert all(re.match(r"^[1-5]\d\d ", line) for line in lines)


def test_json_when_asked_is_valid_and_on_topic() -> None:
    data = json.loads(answer("Describe HTTP caching as JSON with 3 key points."))
    assert data["topic"] == "HTTP caching" and len(data["key_points"]) == 3
    data = json.loads(answer("Return JSON describing tokens."))
    assert data["topic"] == "Tokens" and "token" in data["summary"].lower()
    assert "```" not in answer("Explain JSON in 2 sentences.")  # the subject, not the format


def test_json_schema_fields_come_from_the_subject() -> None:
    schema = {
        "type": "object",
        "properties": {"topic": {"type": "string"}, "summary": {"type": "string"}},
    }
    data = json.loads(answer("Summarise HTTP caching for a beginner.", schema=schema))
    assert data["topic"] == "HTTP caching" and "caching" in data["summary"].lower()


def test_chunk_summaries_quote_their_own_section() -> None:
    for chunk in preflight_chunks(load_long_document(), 1500)[:3]:
        text = answer(f"Summarise this section in one sentence.\n\n{chunk}")
        assert sentences(text) == 1 and text in chunk and count_tokens(text) <= 60


def test_relevant_context_is_answered_from_the_document() -> None:
    technique = CONCISE_TECHNIQUES[4]
    for prompt in (technique.before, technique.after):
        text = answer(prompt)
        assert "rear door" in text and text in str(prompt)


def test_conversation_context_without_knowledge_is_marked_simulated() -> None:
    for prompt in (CONCISE_TECHNIQUES[3].before, CONCISE_TECHNIQUES[2].after):
        text = answer(prompt)  # type: ignore[arg-type]
        assert "simulated answer" in text and "can't tell you" not in text


def test_same_request_same_text_other_model_other_text() -> None:
    assert answer(SEED_VERBOSE) == answer(SEED_VERBOSE)
    assert answer(SEED_VERBOSE, model="gpt-5.4-nano") != answer(SEED_VERBOSE)


def test_verbosity_changes_open_answers_not_counts() -> None:
    prompt = "Explain what an API is."
    low, medium, high = (
        count_tokens(answer(prompt, verbosity=v)) for v in ("low", "medium", "high")
    )
    assert low < medium < high
    for v in ("low", "high"):
        assert len(bullets(answer("Explain retries in 3 bullet points.", verbosity=v))) == 3


def test_every_subject_answers_about_itself() -> None:
    for s in SUBJECTS:
        text = answer(f"What is {s.aliases[0]}? Answer in one sentence.")
        assert s in find_subjects(text), (s.key, text)
        assert sentences(text) == 1


def test_subjects_are_found_whatever_the_case_of_the_prompt() -> None:
    """The alias regex runs on the lower-cased text (a case-blind regex was 3x slower)."""
    for s in SUBJECTS:
        alias = s.aliases[0]
        for text in (f"What is {alias.upper()}?", f"{alias.title()}: what is it?"):
            assert s in find_subjects(text), (s.key, text)
    assert find_subjects("RATE LIMITS and Exponential Backoff") == find_subjects(
        "rate limits and exponential backoff"
    )


# --- code the simulated model writes -----------------------------------------------------------


def test_every_code_example_parses_and_compiles() -> None:
    examples = code_examples()
    assert len(examples) == 2 * len(SUBJECTS)
    for key, kind, code in examples:
        assert not re.search(r"\$[A-Z_]*MODEL", code), (key, "placeholder left in")
        compile(code, f"{key}:{kind}", "exec")  # stricter than ast.parse: no top-level await
        if kind == "line":
            lines = code.strip().splitlines()
            assert len(lines) == 1 or (key == "decorators" and len(lines) == 2), key
        if key == "decorators":
            assert any(getattr(n, "decorator_list", None) for n in ast.walk(ast.parse(code)))


def test_every_code_block_in_an_answer_parses() -> None:
    for s in SUBJECTS:
        for prompt in (
            f"Show me a code example of {s.aliases[0]}.",
            f"Give me a one-line example of {s.aliases[0]}.",
            f"Explain {s.aliases[0]} in 3 bullet points with a tiny code example.",
        ):
            blocks = code_blocks(answer(prompt))
            assert blocks, (s.key, prompt)
            for block in blocks:
                compile(block, s.key, "exec")


RUNNER = textwrap.dedent(
    """
    import contextlib, io, json, sys
    from course_simulator.model import code_examples
    from course_utils.tokens import count_tokens

    count_tokens("seed the offline vocabulary")
    NEEDS_OUTSIDE = ("client", "urlopen", "subprocess", "long_instructions", "openai.OpenAI")
    ran, failed = [], []
    for key, kind, code in code_examples():
        if kind != "block" or any(word in code for word in NEEDS_OUTSIDE):
            continue
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(code, key, "exec"), {"__name__": "example"})
            ran.append(key)
        except BaseException as err:
            failed.append(f"{key}: {type(err).__name__}: {err}")
    print(json.dumps({"ran": ran, "failed": failed}))
    """
)


@pytest.mark.slow
def test_self_contained_code_examples_run(tmp_path) -> None:
    """Examples that need no API or network run as written (in a scratch folder, own process)."""
    env = {"OPENAI_API_KEY": "placeholder-for-the-example", "PYTHONPATH": ":".join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", RUNNER], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["failed"] == []
    assert {"decorators", "list_comprehensions", "backoff", "jitter", "tokens"} <= set(
        report["ran"]
    )


# --- the instruction never leaks into the answer ----------------------------------------------

WRAPPERS = (
    "Could you maybe explain to me what {} is?",
    "could you explain to me what {} is",
    "Can you tell me what {} means?",
    "Would you explain {} to me, please?",
    "Please explain to me {} in simple terms.",
    "I was wondering if you could explain {}.",
    "Explain to me what {} is in 2 sentences.",
    "can you please tell me about {}",
    "Could you explain to me why {} matters?",
    "explain to me what {} is, in 3 bullet points under 40 words",
    "Would you mind explaining what {} is?",
    "Tell me what {} is.",
)
KNOWN = [s.aliases[0] for s in SUBJECTS]
NOUNS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=10)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    wrapper=st.sampled_from(WRAPPERS),
    subject=st.one_of(
        st.sampled_from(KNOWN),
        st.lists(NOUNS, min_size=1, max_size=3).map(" ".join),
        st.sampled_from(["a flux capacitor", "the Roman empire", "quantum foam", "my cat"]),
    ),
)
def test_no_instruction_fragment_in_any_answer(wrapper: str, subject: str) -> None:
    text = answer(wrapper.format(subject)).lower()
    assert not FRAGMENT.search(text), (FRAGMENT.search(text), text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prompt=st.text(max_size=300), verbosity=st.sampled_from([None, "low", "high"]))
def test_any_text_gets_a_non_empty_answer(prompt: str, verbosity: str | None) -> None:
    text = answer(prompt, verbosity=verbosity)
    assert text.strip()
    for block in code_blocks(text):
        compile(block, "answer", "exec")


def test_huge_requests_still_get_a_sane_answer() -> None:
    """Rules and subjects are read from a bounded part of a request (no runaway regexes)."""
    paragraph = "Explain this. " + "word after word " * 20_000
    assert "simulated model" in answer(paragraph)
    question = "Answer in one sentence. " + "filler text here. " * 5_000 + "What is a token?"
    text = answer(question)
    assert sentences(text) == 1 and "token" in text.lower()
    document = "Summarise this in one sentence.\n\n" + load_long_document() * 10
    assert sentences(answer(document)) == 1


# --- reasoning models, through the real SDK -----------------------------------------------------


def test_default_effort_comes_from_the_catalogue() -> None:
    assert resolve_effort(MODEL, None) == "none"
    assert resolve_effort(REASONING_MODEL, None) == "medium"
    assert resolve_effort(PLAIN_MODEL, None) is None


def test_small_cap_on_a_reasoning_model_ends_empty(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    r = client.responses.create(
        model=REASONING_MODEL, input="What is a token?", max_output_tokens=60
    )
    assert r.status == "incomplete" and r.incomplete_details.reason == "max_output_tokens"
    assert r.output_text == ""
    assert r.usage.output_tokens == 60 == r.usage.output_tokens_details.reasoning_tokens
    assert [item.type for item in r.output] == ["reasoning"]
    assert r.reasoning.effort == "medium"
    assert sim.requests[-1].output_tokens == 60  # billed as output


def test_reasoning_tokens_count_against_the_cap(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    kwargs = {"model": REASONING_MODEL, "input": "What is a token?", "reasoning": {"effort": "low"}}
    full = client.responses.create(**kwargs)
    hidden = full.usage.output_tokens_details.reasoning_tokens
    assert full.status == "completed" and hidden > 0 and hidden % REASONING_TOKEN_STEP == 0
    assert full.usage.output_tokens == hidden + count_tokens(full.output_text, REASONING_MODEL)
    cap = hidden + 10
    cut = client.responses.create(**kwargs, max_output_tokens=cap)
    assert cut.status == "incomplete" and cut.usage.output_tokens == cap
    assert count_tokens(cut.output_text, REASONING_MODEL) == 10
    assert full.output_text.startswith(cut.output_text)


def test_effort_changes_the_reasoning_count(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    counts = []
    for effort in ("minimal", "low", "medium", "high"):
        r = client.responses.create(
            model=REASONING_MODEL, input="Define jitter.", reasoning={"effort": effort}
        )
        assert r.status == "completed" and r.reasoning.effort == effort
        counts.append(r.usage.output_tokens_details.reasoning_tokens)
    assert counts == sorted(counts) and counts[0] < counts[1] < counts[2] < counts[3]
    again = client.responses.create(
        model=REASONING_MODEL, input="Define jitter.", reasoning={"effort": "high"}
    )
    assert again.usage.output_tokens_details.reasoning_tokens == counts[3]  # deterministic


def test_none_effort_spends_nothing_low_effort_fits_a_small_cap(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    plain = client.responses.create(model=MODEL, input="Define jitter.", max_output_tokens=120)
    assert plain.usage.output_tokens_details.reasoning_tokens == 0
    assert [item.type for item in plain.output] == ["message"]
    low = client.responses.create(
        model=REASONING_MODEL, input="Define jitter. One sentence.",
        reasoning={"effort": "low"}, max_output_tokens=300,
    )  # fmt: skip
    assert low.status == "completed" and low.output_text
    assert [item.type for item in low.output] == ["reasoning", "message"]


def test_reasoning_response_validates_strictly(sim: Simulator) -> None:
    raw = sim.client(max_retries=0).responses.with_raw_response.create(
        model=REASONING_MODEL, input="What is a token?", max_output_tokens=40,
        text={"verbosity": "low"},
    )  # fmt: skip
    with warnings_as_errors():
        strict = Response.model_validate(json.loads(raw.text))
    assert strict.usage.output_tokens_details.reasoning_tokens == 40
    assert strict.text.verbosity == "low"


def test_chat_reports_reasoning_and_empties_content(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    messages = [{"role": "user", "content": "Define jitter."}]
    c = client.chat.completions.create(
        model=REASONING_MODEL, messages=messages, max_completion_tokens=50
    )
    assert c.choices[0].finish_reason == "length" and c.choices[0].message.content == ""
    assert c.usage.completion_tokens == 50 == c.usage.completion_tokens_details.reasoning_tokens
    ok = client.chat.completions.create(
        model=REASONING_MODEL, messages=messages, reasoning_effort="minimal", verbosity="low"
    )
    details = ok.usage.completion_tokens_details
    assert ok.choices[0].finish_reason == "stop" and ok.choices[0].message.content
    assert ok.usage.completion_tokens == details.reasoning_tokens + count_tokens(
        ok.choices[0].message.content, REASONING_MODEL
    )


def test_verbosity_changes_length_through_the_sdk(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    lengths = [
        client.responses.create(
            model=MODEL, input="Explain what an API is.", text={"verbosity": v}
        ).usage.output_tokens
        for v in ("low", "medium", "high")
    ]
    assert lengths[0] < lengths[1] < lengths[2]


@pytest.mark.parametrize(
    ("kwargs", "param", "code"),
    [
        ({"model": PLAIN_MODEL, "reasoning": {"effort": "low"}}, "reasoning.effort",
         "unsupported_parameter"),
        ({"model": MODEL, "reasoning": {"effort": "minimal"}}, "reasoning.effort",
         "unsupported_value"),
        ({"model": REASONING_MODEL, "reasoning": {"effort": "none"}}, "reasoning.effort",
         "unsupported_value"),
        ({"model": REASONING_MODEL, "reasoning": {"effort": "ultra"}}, "reasoning.effort",
         "invalid_value"),
        ({"model": REASONING_MODEL, "reasoning": "low"}, "reasoning", "invalid_type"),
        ({"model": PLAIN_MODEL, "text": {"verbosity": "low"}}, "text.verbosity",
         "unsupported_value"),
        ({"model": MODEL, "text": {"verbosity": "loud"}}, "text.verbosity", "invalid_value"),
    ],
)  # fmt: skip
def test_settings_a_model_does_not_take_get_the_services_400(
    sim: Simulator, kwargs: dict, param: str, code: str
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        sim.client(max_retries=0).responses.create(input="Hi", **kwargs)
    assert (info.value.param, info.value.code) == (param, code)
    assert sim.requests[-1].status == 400


def test_supported_values_are_listed_in_the_message(sim: Simulator) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        sim.client(max_retries=0).responses.create(
            model=MODEL, input="Hi", reasoning={"effort": "minimal"}
        )
    assert "'none', 'low', 'medium', 'high', and 'xhigh'" in str(info.value)


def test_chat_parameter_names(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    messages = [{"role": "user", "content": "Hi"}]
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=PLAIN_MODEL, messages=messages, verbosity="high")
    assert info.value.param == "verbosity"
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=PLAIN_MODEL, messages=messages, reasoning_effort="low")
    assert info.value.param == "reasoning_effort"


def test_generate_counts_reasoning_as_output() -> None:
    messages = [{"role": "user", "content": "What is a token?"}]
    plain = generate(messages, REASONING_MODEL, reasoning_effort="minimal")
    high = generate(messages, REASONING_MODEL, reasoning_effort="high")
    assert plain.text == high.text  # effort changes the thinking, not the answer
    assert (
        high.output_tokens - high.reasoning_tokens == plain.output_tokens - plain.reasoning_tokens
    )
    assert high.reasoning_tokens > plain.reasoning_tokens
