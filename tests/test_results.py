"""course_utils.results: the one record schema, its round trips, and clear errors for bad input."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import openai
import pytest

from course_simulator import Simulator
from course_utils import results
from course_utils.errors import CATEGORIES, CourseError
from course_utils.pricing import DEFAULT_MODEL
from course_utils.results import (
    FIELD_NAMES,
    USAGE_KEYS,
    InvalidResult,
    Result,
    usage_dict,
)
from course_utils.results_table import results_markdown

USAGE = {
    "input_tokens": 12,
    "output_tokens": 30,
    "reasoning_tokens": 0,
    "cached_tokens": 0,
    "total_tokens": 42,
}


def ok_result(**changes: Any) -> Result:
    fields: dict[str, Any] = {
        "id": "p1",
        "prompt": "Say hi in 3 words.",
        "ok": True,
        "output": "Hi there, friend!",
        "error_type": None,
        "message": None,
        "attempts": 1,
        "usage": dict(USAGE),
        "latency_s": 0.25,
        "request_id": "req_1",
    }
    fields.update(changes)
    return Result(**fields)


def failed_result(**changes: Any) -> Result:
    fields: dict[str, Any] = {
        "ok": False,
        "output": None,
        "error_type": "auth",
        "message": "The API rejected the key.",
        "usage": None,
    }
    fields.update(changes)
    return ok_result(**fields)


def test_schema_is_the_one_the_design_names() -> None:
    assert FIELD_NAMES == (
        "id",
        "prompt",
        "ok",
        "output",
        "error_type",
        "message",
        "attempts",
        "usage",
        "latency_s",
        "request_id",
        "batch_id",
    )
    assert USAGE_KEYS == (
        "input_tokens",
        "output_tokens",
        "reasoning_tokens",
        "cached_tokens",
        "total_tokens",
    )
    for name in FIELD_NAMES:  # the schema is documented once, in the module docstring
        assert f"``{name}``" in (results.__doc__ or "")


@pytest.mark.parametrize("make", [ok_result, failed_result])
def test_dict_and_json_round_trip(make: Any) -> None:
    r = make(batch_id="batch_9")
    assert Result.from_dict(r.to_dict()) == r
    line = r.to_json()
    assert "\n" not in line
    assert Result.from_json(line) == r
    assert list(json.loads(line)) == list(FIELD_NAMES)


def test_to_dict_is_a_copy() -> None:
    r = ok_result()
    d = r.to_dict()
    d["usage"]["input_tokens"] = 999
    assert r.usage is not None and r.usage["input_tokens"] == 12


def test_unicode_stays_readable_in_json() -> None:
    r = ok_result(prompt="Résumé in 日本語", output="✅")
    assert "日本語" in r.to_json() and Result.from_json(r.to_json()) == r


def test_optional_ids_default_to_none_and_int_ids_work() -> None:
    d = ok_result(id=7).to_dict()
    del d["request_id"], d["batch_id"]
    r = Result.from_dict(d)
    assert (r.id, r.request_id, r.batch_id) == (7, None, None)


def test_usage_is_completed_and_latency_becomes_float() -> None:
    r = ok_result(usage={"input_tokens": 5, "output_tokens": 7}, latency_s=2)
    assert r.usage == {
        "input_tokens": 5,
        "output_tokens": 7,
        "reasoning_tokens": 0,
        "cached_tokens": 0,
        "total_tokens": 12,
    }
    assert r.latency_s == 2.0 and isinstance(r.latency_s, float)


def test_frozen_and_with_revalidates() -> None:
    r = ok_result()
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.ok = False  # type: ignore[misc]
    assert r.with_(batch_id="b1").batch_id == "b1"
    with pytest.raises(InvalidResult, match="error_type"):
        r.with_(ok=False)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"id": ""}, "id must be a non-empty str or an int"),
        ({"id": True}, "id must be"),
        ({"prompt": None}, "prompt must be the prompt text"),
        ({"ok": "yes"}, "ok must be True or False"),
        ({"output": 3}, "output must be the answer text"),
        ({"output": None}, "output must be the answer text when ok=True"),
        ({"error_type": "auth"}, "error_type must be None when ok=True"),
        ({"attempts": 0}, "attempts must be at least 1 when ok=True"),
        ({"attempts": -1}, "whole number >= 0"),
        ({"attempts": 1.0}, "whole number >= 0"),
        ({"attempts": True}, "whole number >= 0"),
        ({"latency_s": -0.1}, "latency_s must be seconds"),
        ({"latency_s": float("nan")}, "latency_s must be seconds"),
        ({"latency_s": "0.2"}, "latency_s must be seconds"),
        ({"request_id": 5}, "request_id must be a str or None"),
        ({"message": 5}, "message must be a str or None"),
        ({"usage": "42 tokens"}, "usage must be a dict"),
        ({"usage": {"prompt_tokens": 1, "completion_tokens": 2}}, "Chat Completions names"),
        ({"usage": {"input_tokens": 1}}, "missing 'output_tokens'"),
        ({"usage": {"input_tokens": 1, "output_tokens": -2}}, r"usage\['output_tokens'\]"),
    ],
)
def test_bad_success_fields_are_named(changes: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidResult, match=match):
        ok_result(**changes)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"error_type": None}, "error_type must be a category name when ok=False"),
        ({"error_type": "RateLimitError"}, "one of auth"),
        ({"message": ""}, "what happened and what to do"),
        ({"message": None}, "what happened and what to do"),
    ],
)
def test_bad_failure_fields_are_named(changes: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidResult, match=match):
        failed_result(**changes)


def test_a_failure_before_sending_has_zero_attempts() -> None:
    assert failed_result(attempts=0).attempts == 0


def test_error_message_names_the_record() -> None:
    with pytest.raises(InvalidResult, match=r"Result\(id='p42'\): attempts"):
        ok_result(id="p42", attempts="2")


def test_from_dict_is_strict_and_clear() -> None:
    d = ok_result().to_dict()
    with pytest.raises(InvalidResult, match="unknown field\\(s\\) 'status'"):
        Result.from_dict({**d, "status": "done"})
    del d["attempts"], d["latency_s"]
    with pytest.raises(InvalidResult, match="missing field\\(s\\) 'attempts', 'latency_s'"):
        Result.from_dict(d)
    with pytest.raises(InvalidResult, match="takes a dict"):
        Result.from_dict(["p1"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{not json", "not valid JSON"),
        ("", "not valid JSON"),
        ("[1, 2]", "takes a dict"),
        ('{"id": "p1"}', "missing field"),
    ],
)
def test_from_json_bad_lines(text: str, match: str) -> None:
    with pytest.raises(InvalidResult, match=match):
        Result.from_json(text)


def test_invalid_result_is_a_course_error_and_a_value_error() -> None:
    assert issubclass(InvalidResult, CourseError) and issubclass(InvalidResult, ValueError)


def test_every_category_is_a_valid_error_type() -> None:
    for c in CATEGORIES:
        assert failed_result(error_type=c.name).error_type == c.name


# --- built from the real SDK against the simulator ------------------------------------------


def test_from_response_reads_text_usage_and_request_id(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    response = client.responses.create(model=DEFAULT_MODEL, input="Say hi in 3 words.")
    r = Result.from_response("p1", "Say hi in 3 words.", response, attempts=1, latency_s=0.1)
    assert r.ok and r.output == response.output_text and r.output
    assert r.usage is not None
    assert r.usage["input_tokens"] == response.usage.input_tokens  # type: ignore[union-attr]
    assert r.usage["output_tokens"] == response.usage.output_tokens  # type: ignore[union-attr]
    assert r.usage["total_tokens"] == r.usage["input_tokens"] + r.usage["output_tokens"]
    assert r.request_id == response._request_id
    assert Result.from_json(r.to_json()) == r


def test_from_response_reads_chat_completions(sim: Simulator) -> None:
    client = sim.client(max_retries=0)
    completion = client.chat.completions.create(
        model=DEFAULT_MODEL, messages=[{"role": "user", "content": "Say hi"}]
    )
    r = Result.from_response(1, "Say hi", completion, attempts=1, latency_s=0.1)
    assert r.output == completion.choices[0].message.content
    assert r.usage is not None and r.usage["input_tokens"] == completion.usage.prompt_tokens  # type: ignore[union-attr]


def test_from_error_classifies_the_real_exception(sim: Simulator) -> None:
    sim.queue_faults(["quota"])
    client = sim.client(max_retries=0)
    with pytest.raises(openai.RateLimitError) as caught:
        client.responses.create(model=DEFAULT_MODEL, input="Hello")
    r = Result.from_error("p2", "Hello", caught.value, attempts=1, latency_s=0.05)
    assert (r.ok, r.output, r.error_type, r.usage) == (False, None, "quota", None)
    assert r.message and "quota" in r.message.lower()
    assert r.request_id == caught.value.request_id
    assert Result.from_dict(r.to_dict()) == r


def test_usage_dict_from_sdk_objects_and_dicts() -> None:
    from openai.types import CompletionUsage
    from openai.types.responses import ResponseUsage

    responses_usage = ResponseUsage.model_validate(
        {
            "input_tokens": 10,
            "input_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 0},
            "output_tokens": 20,
            "output_tokens_details": {"reasoning_tokens": 8},
            "total_tokens": 30,
        }
    )
    chat_usage = CompletionUsage.model_validate(
        {
            "prompt_tokens": 10,
            "completion_tokens": 20,
            "total_tokens": 30,
            "prompt_tokens_details": {"cached_tokens": 4},
            "completion_tokens_details": {"reasoning_tokens": 8},
        }
    )
    expected = {
        "input_tokens": 10,
        "output_tokens": 20,
        "reasoning_tokens": 8,
        "cached_tokens": 4,
        "total_tokens": 30,
    }
    assert usage_dict(responses_usage) == expected
    assert usage_dict(chat_usage) == expected
    assert usage_dict(expected) == expected
    assert usage_dict(None) is None
    with pytest.raises(InvalidResult, match=r"takes response\.usage"):
        usage_dict(42)


def test_results_markdown_one_row_each_and_a_count() -> None:
    table = results_markdown(
        [ok_result(), failed_result(id="p2", prompt="a | pipe " + "x" * 80)]
    ).splitlines()
    assert table[0].startswith("| id | prompt | ok | error_type | attempts")
    assert len(table) == 2 + 2 + 2  # header, rule, two rows, blank, count
    assert table[2].startswith("| p1 | Say hi in 3 words. | ✅ ok |  | 1 | 42 | 0.25 s |")
    assert "| ❌ failed |" in table[3]  # words beside the symbol: readable without an emoji font
    assert "a \\| pipe" in table[3] and "…" in table[3] and "| auth |" in table[3]
    assert table[-1] == "1 succeeded, 1 failed"
    with pytest.raises(InvalidResult, match="takes Result objects"):
        results_markdown([{"ok": True}])  # type: ignore[list-item]


def test_public_surface() -> None:
    for name in results.__all__:
        assert hasattr(results, name)
