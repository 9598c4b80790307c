"""widgets: press the comparer's button by calling its callback; read what it shows."""

from __future__ import annotations

import base64

from course_utils.pricing import DEFAULT_MODEL, list_models
from course_utils.widgets import PromptComparer, show_tokens, token_html


def test_token_html_escapes_and_alternates():
    out = token_html("<b>x</b> & y")
    assert "<b>" not in out and "&lt;" in out and "&amp;" in out
    assert out.count("<span") >= 4
    assert "#cfe3ff" in out and "#ffe0b3" in out
    assert "1 token, 2 characters" in show_tokens("hi").data
    assert "3 tokens, 12 characters" in token_html("unbelievable")


def test_comparer_defaults():
    comparer = PromptComparer(client=object())
    assert comparer.model.options == tuple(m.id for m in list_models())
    assert comparer.model.value == DEFAULT_MODEL
    assert (comparer.max_output_tokens.min, comparer.max_output_tokens.max) == (16, 1000)
    assert comparer._repr_mimebundle_()


def test_run_button_fills_answers_stats_and_chart(sim):
    comparer = PromptComparer(sim.client(max_retries=0))
    comparer.max_output_tokens.value = 1000
    comparer._on_run(comparer.run_button)
    a, b = comparer.runs
    assert comparer.answer_a.value == a.output_text and comparer.answer_b.value == b.output_text
    assert f"{a.input_tokens:,} in + {a.output_tokens:,} out" in comparer.stats_a.value
    assert "per 1,000" in comparer.stats_b.value and "ms" in comparer.stats_b.value
    assert "fewer tokens" in comparer.status.value
    (output,) = comparer.chart.outputs
    assert base64.b64decode(output["data"]["image/png"]).startswith(b"\x89PNG")
    assert not comparer.run_button.disabled
    assert len(sim.requests) == 2


def test_slider_cap_is_sent_and_truncation_is_shown(sim):
    comparer = PromptComparer(sim.client(max_retries=0))
    comparer.max_output_tokens.value = 16
    comparer.model.value = "gpt-5.4-nano"
    comparer.run()
    a, _ = comparer.runs
    assert a.model == "gpt-5.4-nano" and a.output_tokens == 16
    assert "incomplete" in comparer.stats_a.value


def test_api_error_is_a_friendly_message(sim):
    sim.queue_faults(["rate_limit"])
    comparer = PromptComparer(sim.client(max_retries=0))
    comparer._on_run(None)
    assert comparer.runs is None
    assert "RateLimitError" in comparer.status.value and "wait" in comparer.status.value.lower()
    assert "Traceback" not in comparer.status.value
    assert not comparer.run_button.disabled


def test_bad_key_and_empty_prompt_are_friendly(make_sim):
    locked = make_sim(api_key="right-key")
    comparer = PromptComparer(locked.client(api_key="wrong-key", max_retries=0))
    comparer.run()
    assert "AuthenticationError" in comparer.error and "OPENAI_API_KEY" in comparer.error
    assert "wrong-key" not in comparer.status.value
    comparer.prompt_a.value = ""
    comparer.run()
    assert "non-empty" in comparer.error and "press Run again" in comparer.error


def test_without_a_client_it_uses_the_course_backend():
    comparer = PromptComparer(max_output_tokens=64)
    a, b = comparer.run()
    assert comparer.error is None and a.output_tokens <= 64 and b.status == "completed"
