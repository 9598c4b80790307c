"""prompting: measured runs against the real simulator, JSON answers, token spans, chunks."""

from __future__ import annotations

import itertools

import pytest

from course_utils.pricing import estimate_cost
from course_utils.prompting import (
    CONCISE_TECHNIQUES,
    TECHNIQUE_CAP,
    PromptRun,
    TruncatedAnswerError,
    compare_runs,
    load_long_document,
    lowest_effort,
    parse_json_answer,
    preflight_chunks,
    request_overhead_tokens,
    run_prompt,
    token_spans,
)
from course_utils.tokens import count_tokens

MODEL = "gpt-5.4-mini"
VERBOSE = (
    "Please write a comprehensive and detailed explanation of caching, with examples, and "
    "make sure it is helpful and balanced, not too short and not too long."
)
CONCISE = "Explain caching in 3 bullet points, under 60 words."


def fake_clock(*times: float):
    it = iter(times)
    return lambda: next(it)


def test_run_prompt_reads_usage_cost_and_latency(sim):
    client = sim.client(max_retries=0)
    run = run_prompt(client, CONCISE, model=MODEL, clock=fake_clock(10.0, 10.25))
    assert run.status == "completed" and not run.truncated
    record = sim.requests[-1]
    assert (run.input_tokens, run.output_tokens) == (record.input_tokens, record.output_tokens)
    assert run.cost_usd == estimate_cost(MODEL, run.input_tokens, run.output_tokens)
    assert run.latency_s == pytest.approx(0.25)
    assert run.total_tokens == run.input_tokens + run.output_tokens
    assert run.output_text.startswith("- ")


def test_run_prompt_cap_truncates(sim):
    run = run_prompt(sim.client(max_retries=0), VERBOSE, model=MODEL, max_output_tokens=20)
    assert run.truncated and run.incomplete_reason == "max_output_tokens"
    assert run.output_tokens == 20 and run.max_output_tokens == 20


def test_run_prompt_instructions_count_as_input(sim):
    client = sim.client(max_retries=0)
    plain = run_prompt(client, CONCISE, model=MODEL)
    with_rules = run_prompt(client, CONCISE, model=MODEL, instructions="Be brief and friendly.")
    assert with_rules.input_tokens > plain.input_tokens


def test_run_prompt_rejects_empty_prompt(sim):
    with pytest.raises(ValueError, match="non-empty"):
        run_prompt(sim.client(max_retries=0), "   ")
    with pytest.raises(ValueError, match="list of"):
        run_prompt(sim.client(max_retries=0), [])
    assert sim.requests == []


def test_run_prompt_accepts_messages(sim):
    messages = [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    run = run_prompt(sim.client(max_retries=0), messages)
    assert run.input_tokens == sim.requests[-1].input_tokens and run.prompt == messages


def test_compare_runs_summary(sim):
    client = sim.client(max_retries=0)
    comparison = compare_runs(run_prompt(client, VERBOSE), run_prompt(client, CONCISE))
    assert comparison.tokens_saved > 0 and comparison.token_ratio > 1
    assert comparison.cost_saved_per_1000_usd > 0
    assert "fewer tokens than A" in comparison.summary() and "saves $" in comparison.summary()
    assert f"({comparison.percent_saved:.0f}% fewer)" in comparison.summary()
    assert "x less" not in comparison.summary()
    assert 0 < comparison.percent_saved < 100
    assert "cut at" not in comparison.summary()
    reverse = compare_runs(comparison.b, comparison.a)
    assert "more tokens" in reverse.summary() and "more per 1,000 requests" in reverse.summary()
    capped = compare_runs(run_prompt(client, VERBOSE, max_output_tokens=20), comparison.b)
    assert "(A cut at the output cap)" in capped.summary()
    with pytest.raises(TypeError, match="PromptRun"):
        compare_runs("a", "b")  # type: ignore[arg-type]


def _run(text: str, status: str = "completed", cap: int | None = None) -> PromptRun:
    return PromptRun(
        "p", MODEL, text, status, "max_output_tokens" if status == "incomplete" else None,
        5, 5, 0.0, 0.0, cap,
    )  # fmt: skip


def test_parse_json_answer_checks_status_first(sim):
    run = run_prompt(sim.client(max_retries=0), "Describe caching as JSON.", max_output_tokens=25)
    assert run.truncated
    with pytest.raises(TruncatedAnswerError, match=r"max_output_tokens=25.*Raise"):
        parse_json_answer(run)
    full = run_prompt(sim.client(max_retries=0), "Describe caching as JSON.")
    assert set(parse_json_answer(full)) >= {"topic", "summary"}
    with pytest.raises(ValueError, match="not valid JSON"):
        parse_json_answer(_run("not json"))


@pytest.mark.parametrize(
    "text", ["Hello world", "unbelievable", "def f(x):\n    return x**2", "Grüße 👋🏽 日本語", ""]
)
def test_token_spans_rejoin_and_count(text):
    spans = token_spans(text)
    assert "".join(s.text for s in spans) == text
    assert sum(s.tokens for s in spans) == count_tokens(text)


def test_token_spans_keeps_multi_token_characters_whole():
    spans = token_spans("👋🏽")
    assert all(s.text for s in spans)
    assert sum(s.tokens for s in spans) > len(spans) or len(spans) == count_tokens("👋🏽")


def test_techniques_all_save_tokens(sim):
    assert len(CONCISE_TECHNIQUES) == 5
    client = sim.client(max_retries=0)
    for t in CONCISE_TECHNIQUES:
        before, after = t.run(client)
        assert after.total_tokens < before.total_tokens, t.name
        # capped (live, an uncapped request is priced at the model's maximum output and the
        # default spend cap refuses it), and far enough above the answers never to cut them
        assert before.max_output_tokens == after.max_output_tokens == TECHNIQUE_CAP, t.name
        assert not before.truncated and not after.truncated, t.name
        if t.name != "Constrain the output":  # that one trades a longer prompt for less output
            assert t.tokens() == (before.input_tokens, after.input_tokens), t.name
    constrain = next(t for t in CONCISE_TECHNIQUES if t.name == "Constrain the output")
    before, after = constrain.run(client)
    assert after.output_tokens < before.output_tokens


INSTRUCTION = "Summarise this section of the handbook in one sentence."


def test_long_document_and_preflight():
    doc = load_long_document()
    n = count_tokens(doc)
    assert 6000 <= n <= 10000
    assert preflight_chunks("short text", 100) == ["short text"]
    chunks = preflight_chunks(doc, 1500, instructions=INSTRUCTION)
    assert len(chunks) > 1 and "".join(chunks) == doc
    room = 1500 - request_overhead_tokens(INSTRUCTION)
    assert all(count_tokens(c) <= room for c in chunks)
    assert all(a.rstrip()[-1] in ".!?:" or "\n" in b[:1] for a, b in itertools.pairwise(chunks))


@pytest.mark.parametrize("instructions", [None, INSTRUCTION])
def test_preflight_budget_covers_the_whole_billed_request(sim, instructions):
    """Every chunk, sent as the docstring says, is billed at most the budget (and uses it)."""
    client = sim.client(max_retries=0)
    budget = 1500
    chunks = preflight_chunks(load_long_document(), budget, MODEL, instructions=instructions)
    billed = []
    for chunk in chunks:
        kwargs = {"instructions": instructions} if instructions else {}
        response = client.responses.create(model=MODEL, input=chunk, max_output_tokens=16, **kwargs)
        billed.append(response.usage.input_tokens)
        counted = client.responses.input_tokens.count(model=MODEL, input=chunk, **kwargs)
        assert counted.input_tokens == response.usage.input_tokens
    assert max(billed) <= budget
    assert max(billed) > budget - 60  # full chunks: the budget is used, not wasted
    overhead = request_overhead_tokens(instructions, MODEL)
    assert billed == [overhead + count_tokens(c, MODEL) for c in chunks]


def test_preflight_single_request_when_the_whole_request_fits(sim):
    text = "A short note. It fits."
    budget = request_overhead_tokens(INSTRUCTION) + count_tokens(text)
    assert preflight_chunks(text, budget, instructions=INSTRUCTION) == [text]
    assert len(preflight_chunks(text, budget - 1, instructions=INSTRUCTION)) == 2
    response = sim.client(max_retries=0).responses.create(
        model=MODEL, input=text, instructions=INSTRUCTION, max_output_tokens=16
    )
    assert response.usage.input_tokens == budget


def test_preflight_rejects_a_budget_with_no_room_for_text():
    overhead = request_overhead_tokens(INSTRUCTION)
    with pytest.raises(ValueError, match=rf"alone bill {overhead} tokens"):
        preflight_chunks("Some text.", overhead, instructions=INSTRUCTION)
    with pytest.raises(TypeError, match="whole number"):
        preflight_chunks("Some text.", 1500.0)  # type: ignore[arg-type]


# --- reasoning models ---------------------------------------------------------------------------


def test_lowest_effort_comes_from_the_catalogue():
    from course_utils.pricing import list_models

    assert lowest_effort("gpt-5.4-mini") == "none"
    assert lowest_effort("gpt-5-mini") == "minimal"
    assert lowest_effort("gpt-4.1-mini") is None
    assert lowest_effort("not-in-the-catalogue") is None
    for m in list_models():
        assert (lowest_effort(m.id) is None) == (not m.reasoning), m.id
        if m.reasoning:
            assert lowest_effort(m.id) in m.reasoning_efforts


def test_reasoning_tokens_are_read_and_count_against_the_cap(sim):
    client = sim.client(max_retries=0)
    question = "Explain tokens in language models in 3 bullet points, under 60 words."
    low = run_prompt(client, question, model="gpt-5-mini", max_output_tokens=200,
                     reasoning_effort="minimal")  # fmt: skip
    assert low.status == "completed" and low.output_text and low.reasoning_effort == "minimal"
    assert 0 < low.reasoning_tokens < low.output_tokens
    assert low.answer_tokens == low.output_tokens - low.reasoning_tokens
    high = run_prompt(client, question, model="gpt-5-mini", max_output_tokens=200,
                      reasoning_effort="medium")  # fmt: skip
    assert high.truncated and high.output_text == ""
    assert high.reasoning_tokens == high.output_tokens == 200
    plain = run_prompt(client, question, model="gpt-4.1-mini")
    assert plain.reasoning_tokens == 0 and plain.reasoning_effort is None


def test_every_catalogue_model_answers_a_small_cap_at_its_lowest_effort(sim):
    """What the comparer sends by default: never an empty answer on a 200-token cap."""
    from course_utils.pricing import list_models

    client = sim.client(max_retries=0)
    for m in list_models():
        run = run_prompt(client, CONCISE, model=m.id, max_output_tokens=200,
                         reasoning_effort=lowest_effort(m.id))  # fmt: skip
        assert run.status == "completed" and run.output_text, m.id
