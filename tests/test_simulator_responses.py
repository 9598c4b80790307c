"""POST /v1/responses through the real SDK: shape, usage, truncation, validation."""

from __future__ import annotations

import json

import openai
import pytest
from conftest import warnings_as_errors
from openai.types.responses import Response

from course_simulator import Simulator
from course_utils.pricing import DEFAULT_MODEL
from course_utils.tokens import count_message_tokens, count_tokens

VERBOSE = (
    "Please explain what Python decorators are in a way that is easy for a beginner to "
    "understand. Make sure your answer is helpful, educational, and includes enough detail to "
    "be understandable. Also try to provide examples if useful, and make it comprehensive."
)
CONCISE = "Explain Python decorators for a beginner. Return 3 bullet points, under 80 words."


def test_basic_response_parses_and_logs(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    r = client.responses.create(model=DEFAULT_MODEL, input="Explain what an API is.")
    assert r.object == "response" and r.status == "completed"
    assert r.output_text and r.output[0].content[0].type == "output_text"
    assert r.incomplete_details is None
    rec = sim.requests[-1]
    assert (rec.path, rec.status, rec.outcome, rec.model) == (
        "/v1/responses",
        200,
        "ok",
        DEFAULT_MODEL,
    )
    assert rec.key_hint != "sim-course-key" and "***" in rec.key_hint


def test_raw_json_validates_against_sdk_types_without_warnings(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    raw = client.responses.with_raw_response.create(model=DEFAULT_MODEL, input=CONCISE)
    assert raw.headers["x-request-id"].startswith("req_")
    with warnings_as_errors():
        strict = Response.model_validate(json.loads(raw.text))
    assert strict.usage.input_tokens_details.cached_tokens == 0
    assert strict.usage.output_tokens_details.reasoning_tokens == 0
    assert raw.parse().id == strict.id


def test_usage_is_exact(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    r = client.responses.create(model=DEFAULT_MODEL, input=CONCISE, instructions="Be brief.")
    expected_in = count_message_tokens(
        [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": CONCISE}],
        DEFAULT_MODEL,
    )
    assert r.usage.input_tokens == expected_in
    assert r.usage.output_tokens == count_tokens(r.output_text, DEFAULT_MODEL)
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens


def test_message_list_input(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    msgs = [
        {"role": "developer", "content": "Answer in one sentence."},
        {"role": "user", "content": [{"type": "input_text", "text": "What is a token?"}]},
    ]
    r = client.responses.create(model=DEFAULT_MODEL, input=msgs)
    assert r.usage.input_tokens == count_message_tokens(msgs, DEFAULT_MODEL)
    counted = client.responses.input_tokens.count(model=DEFAULT_MODEL, input=msgs)
    assert counted.object == "response.input_tokens"
    assert counted.input_tokens == r.usage.input_tokens


def test_input_tokens_count_matches_usage(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    counted = client.responses.input_tokens.count(
        model=DEFAULT_MODEL, input=VERBOSE, instructions="You are a tutor."
    )
    r = client.responses.create(model=DEFAULT_MODEL, input=VERBOSE, instructions="You are a tutor.")
    assert counted.input_tokens == r.usage.input_tokens


@pytest.mark.parametrize("cap", [16, 17, 40, 120])
def test_truncation_is_exact(sim: Simulator, cap: int) -> None:
    client = sim.client(max_retries=0)
    r = client.responses.create(model=DEFAULT_MODEL, input=VERBOSE, max_output_tokens=cap)
    assert r.status == "incomplete"
    assert r.incomplete_details is not None
    assert r.incomplete_details.reason == "max_output_tokens"
    assert r.usage.output_tokens == cap == count_tokens(r.output_text, DEFAULT_MODEL)
    full = client.responses.create(model=DEFAULT_MODEL, input=VERBOSE)
    assert full.status == "completed" and full.output_text.startswith(r.output_text)
    assert sim.requests[-2].outcome == "incomplete"


def test_verbose_prompt_costs_more_than_concise(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    long = client.responses.create(model=DEFAULT_MODEL, input=VERBOSE)
    short = client.responses.create(model=DEFAULT_MODEL, input=CONCISE)
    assert long.usage.output_tokens >= 250
    assert short.usage.output_tokens < 100
    assert len(short.output_text.split()) < 80


def test_determinism(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    a = client.responses.create(model=DEFAULT_MODEL, input=VERBOSE)
    b = client.responses.create(model=DEFAULT_MODEL, input=VERBOSE)
    c = client.responses.create(model="gpt-5.4-nano", input=VERBOSE)
    assert a.output_text == b.output_text
    assert a.id != b.id
    assert c.output_text != a.output_text


@pytest.mark.parametrize(
    ("prompt", "check"),
    [
        ("List 4 bullet points about caching.", lambda t: t.count("\n- ") == 3),
        ("Describe rate limits in one sentence.", lambda t: t.count(". ") == 0),
        ("Describe rate limits in two sentences.", lambda t: t.count(". ") == 1),
        ("Explain retries in under 20 words.", lambda t: len(t.split()) < 20),
        ("Return JSON describing tokens.", lambda t: isinstance(json.loads(t), dict)),
    ],
)
def test_length_follows_prompt(sim: Simulator, prompt: str, check) -> None:
    text = sim.client(max_retries=0).responses.create(model=DEFAULT_MODEL, input=prompt).output_text
    assert check(text), text


def test_json_schema_format(sim: Simulator) -> None:
    schema = {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "score": {"type": "integer", "minimum": 1, "maximum": 5},
            "tags": {"type": "array", "items": {"type": "string"}},
            "sentiment": {"type": "string", "enum": ["good", "bad"]},
            "ok": {"type": "boolean"},
        },
        "required": ["title", "score", "tags", "sentiment", "ok"],
        "additionalProperties": False,
    }
    r = sim.client(max_retries=0).responses.create(
        model=DEFAULT_MODEL,
        input="Rate this course.",
        text={"format": {"type": "json_schema", "name": "rating", "schema": schema}},
    )
    data = json.loads(r.output_text)
    assert set(data) == set(schema["properties"])
    assert isinstance(data["title"], str) and 1 <= data["score"] <= 5
    assert data["sentiment"] in ("good", "bad") and isinstance(data["ok"], bool)
    assert all(isinstance(t, str) for t in data["tags"])


def test_unknown_model_and_fields_accepted(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    r = client.responses.create(
        model="gpt-retired-2023", input="Say hi in one sentence.", extra_body={"whatever": 1}
    )
    assert r.model == "gpt-retired-2023" and r.status == "completed"


@pytest.mark.parametrize(
    ("kwargs", "param", "code"),
    [
        ({"max_output_tokens": 15}, "max_output_tokens", "integer_below_min_value"),
        ({"max_output_tokens": -1}, "max_output_tokens", "integer_below_min_value"),
        ({"temperature": 3}, "temperature", "invalid_value"),
        ({"stream_options": {"include_obfuscation": False}}, "stream_options", "invalid_value"),
    ],
)
def test_invalid_parameters_get_400(sim: Simulator, kwargs: dict, param: str, code: str) -> None:
    client = sim.client(max_retries=0)
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.create(model=DEFAULT_MODEL, input="hi", **kwargs)
    assert info.value.status_code == 400
    assert (info.value.param, info.value.code) == (param, code)
    assert info.value.request_id and info.value.request_id.startswith("req_")


@pytest.mark.parametrize("missing", ["model", "input"])
def test_missing_required_parameter(sim: Simulator, missing: str) -> None:
    client = sim.client(max_retries=0)
    body = {"model": DEFAULT_MODEL, "input": "hi"}
    del body[missing]
    with pytest.raises(openai.BadRequestError) as info:
        client.post("/responses", body=body, cast_to=object)
    assert info.value.param == missing
    assert info.value.code == "missing_required_parameter"


def test_context_window_exceeded(sim: Simulator) -> None:
    window = 400_000  # gpt-5.4-nano
    with pytest.raises(openai.BadRequestError) as info:
        sim.client(max_retries=0).responses.create(
            model="gpt-5.4-nano", input="hi " * (window + 10)
        )
    assert (info.value.code, info.value.param) == ("context_length_exceeded", "input")
    assert sim.requests[-1].outcome == "context_length"


def test_unknown_route_lists_routes(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    with pytest.raises(openai.NotFoundError) as info:
        client.get("/nothing-here", cast_to=object)
    assert "POST /v1/responses" in info.value.message
    assert "GET /v1/models" in info.value.message


def test_models_list(sim: Simulator) -> None:
    ids = [m.id for m in sim.client(max_retries=0).models.list()]
    assert DEFAULT_MODEL in ids


def test_models_retrieve_one_model_or_the_service_404(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    model = client.models.retrieve(DEFAULT_MODEL)
    assert (model.id, model.object, model.owned_by) == (DEFAULT_MODEL, "model", "course-simulator")
    with pytest.raises(openai.NotFoundError) as info:
        client.models.retrieve("gpt-no-such-model")
    assert info.value.code == "model_not_found"
    assert info.value.body["message"] == (  # type: ignore[index]
        "The model 'gpt-no-such-model' does not exist or you do not have access to it."
    )


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": 5, "input": "hi"}, "model"),
        ({"model": DEFAULT_MODEL, "input": [{"content": "no role"}]}, "input"),
        (
            {
                "model": DEFAULT_MODEL,
                "input": [{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}],
            },
            "input",
        ),
        ({"model": DEFAULT_MODEL, "input": "hi", "instructions": 7}, "instructions"),
    ],
)
def test_malformed_bodies_get_400_not_500(sim: Simulator, body: dict, param: str) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        sim.client(max_retries=0).post("/responses", body=body, cast_to=object)
    assert info.value.param == param


def test_truncated_json_is_invalid_and_says_so(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    fmt = {"format": {"type": "json_object"}}
    cut = client.responses.create(
        model=DEFAULT_MODEL, input="Describe caching as JSON.", text=fmt, max_output_tokens=16
    )
    assert cut.status == "incomplete"
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.output_text)
    whole = client.responses.create(
        model=DEFAULT_MODEL, input="Describe caching as JSON.", text=fmt
    )
    assert whole.status == "completed" and isinstance(json.loads(whole.output_text), dict)


def test_json_schema_response_validates_strictly(sim: Simulator) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}}
    raw = sim.client(max_retries=0).responses.with_raw_response.create(
        model=DEFAULT_MODEL,
        input="Answer briefly.",
        text={"format": {"type": "json_schema", "name": "a", "schema": schema, "strict": True}},
    )
    with warnings_as_errors():
        strict = Response.model_validate(json.loads(raw.text))
    assert set(json.loads(strict.output_text)) == {"answer"}


ODD_PROMPTS = (
    "List 0 bullet points about caching.",
    "Explain tokens in 0 sentences.",
    "Give 5000 bullet points about rate limits.",
    "Explain retries in 9999 sentences.",
    "Describe backoff in under 0 words.",
    "Describe backoff in under 99999999 words.",
    "Return JSON with 0 bullet points about tokens.",
    "Return JSON with 5000 bullet points about tokens.",
)


@pytest.mark.parametrize("prompt", ODD_PROMPTS)
def test_odd_counts_in_prompts_give_a_sane_answer(sim: Simulator, prompt: str) -> None:
    client = sim.client(max_retries=0)
    r = client.responses.create(model=DEFAULT_MODEL, input=prompt)
    assert r.status == "completed" and r.output_text
    assert 0 < r.usage.output_tokens < 3000


ODD_SCHEMAS = (
    {"type": "array", "minItems": 0, "maxItems": 0, "items": {"type": "string"}},
    {"type": "array", "minItems": "many", "maxItems": None, "items": {"type": "string"}},
    {"type": "array", "minItems": 10**9, "items": {"type": "integer"}},
    {"type": "integer", "minimum": "low", "maximum": [1]},
    {"type": "number", "minimum": True, "maximum": "high"},
    {"type": "integer", "minimum": 50, "maximum": 3},
    {
        "type": "array",
        "minItems": 50,
        "items": {"type": "array", "minItems": 50, "items": {"type": "array", "minItems": 50}},
    },
)


@pytest.mark.parametrize("schema", ODD_SCHEMAS)
def test_odd_json_schemas_give_a_sane_answer(sim: Simulator, schema: dict) -> None:
    client = sim.client(max_retries=0)
    fmt = {
        "type": "json_schema",
        "name": "answer",
        "schema": {"type": "object", "properties": {"value": schema}},
    }
    r = client.responses.create(model=DEFAULT_MODEL, input="Describe tokens.", text={"format": fmt})
    assert "value" in json.loads(r.output_text)
    assert r.usage.output_tokens < 20_000
