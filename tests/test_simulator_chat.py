"""POST /v1/chat/completions through the real SDK: usage with the chat overhead, caps, JSON."""

from __future__ import annotations

import json

import openai
import pytest
from conftest import warnings_as_errors
from openai.types.chat import ChatCompletion

from course_simulator import Simulator
from course_utils.pricing import DEFAULT_MODEL
from course_utils.tokens import count_message_tokens, count_tokens

MESSAGES = [
    {"role": "system", "content": "You are a patient tutor."},
    {"role": "user", "content": "Please explain in detail how token budgets work for APIs."},
]


@pytest.mark.parametrize("named", [False, True])
def test_usage_matches_count_message_tokens(sim: Simulator, named: bool) -> None:
    messages = [dict(m) for m in MESSAGES]
    if named:
        messages[1]["name"] = "ada"
    c = sim.client(max_retries=0).chat.completions.create(model=DEFAULT_MODEL, messages=messages)
    assert c.usage is not None
    assert c.usage.prompt_tokens == count_message_tokens(messages, DEFAULT_MODEL)
    text = c.choices[0].message.content or ""
    assert c.usage.completion_tokens == count_tokens(text, DEFAULT_MODEL)
    assert c.choices[0].finish_reason == "stop"


def test_name_costs_tokens(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    plain = client.chat.completions.create(model=DEFAULT_MODEL, messages=MESSAGES)
    named = [MESSAGES[0], {**MESSAGES[1], "name": "ada"}]
    with_name = client.chat.completions.create(model=DEFAULT_MODEL, messages=named)
    assert with_name.usage.prompt_tokens == plain.usage.prompt_tokens + 1 + count_tokens("ada")


@pytest.mark.parametrize("cap_name", ["max_tokens", "max_completion_tokens"])
def test_length_finish_reason(sim: Simulator, cap_name: str) -> None:
    c = sim.client(max_retries=0).chat.completions.create(
        model=DEFAULT_MODEL, messages=MESSAGES, **{cap_name: 7}
    )
    assert c.choices[0].finish_reason == "length"
    assert c.usage.completion_tokens == 7
    assert count_tokens(c.choices[0].message.content or "") == 7
    assert sim.requests[-1].outcome == "incomplete"


def test_strict_parse_without_warnings(sim: Simulator) -> None:
    raw = sim.client(max_retries=0).chat.completions.with_raw_response.create(
        model=DEFAULT_MODEL, messages=MESSAGES
    )
    with warnings_as_errors():
        ChatCompletion.model_validate(json.loads(raw.text))


def test_json_object_and_schema(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    c = client.chat.completions.create(
        model=DEFAULT_MODEL,
        messages=[{"role": "user", "content": "Describe tokens as JSON."}],
        response_format={"type": "json_object"},
    )
    assert isinstance(json.loads(c.choices[0].message.content or ""), dict)
    schema = {
        "type": "object",
        "properties": {"summary": {"type": "string"}, "count": {"type": "integer"}},
    }
    c = client.chat.completions.create(
        model=DEFAULT_MODEL,
        messages=[{"role": "user", "content": "Summarise retries."}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "s", "schema": schema, "strict": True},
        },
    )
    data = json.loads(c.choices[0].message.content or "")
    assert set(data) == {"summary", "count"} and isinstance(data["count"], int)


def test_chat_errors(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=DEFAULT_MODEL, messages=[])
    assert info.value.param == "messages"
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=DEFAULT_MODEL, messages=MESSAGES, max_tokens=0)
    assert info.value.code == "integer_below_min_value"
    sim.queue_faults(["context_length"])
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=DEFAULT_MODEL, messages=MESSAGES)
    assert (info.value.code, info.value.param) == ("context_length_exceeded", "messages")
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model=DEFAULT_MODEL, messages=MESSAGES, stream_options={"include_usage": True}
        )
    assert "only allowed when 'stream' is enabled" in info.value.message
