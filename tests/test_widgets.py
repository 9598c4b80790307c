"""widgets: press the comparer's button by calling its callback; read what it shows."""

from __future__ import annotations

import html

import ipywidgets as w
import pytest

from course_utils.pricing import DEFAULT_MODEL, list_models
from course_utils.prompting import PromptRun
from course_utils.widgets import PromptComparer, _answer_html, show_tokens, token_html


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
    assert html.escape(a.output_text) in comparer.answer_a.value
    assert html.escape(b.output_text) in comparer.answer_b.value
    assert "Answer A" in comparer.answer_a.value and "pre-wrap" in comparer.answer_a.value
    assert f"{a.input_tokens:,} in + {a.output_tokens:,} out" in comparer.stats_a.value
    assert "per 1,000" in comparer.stats_b.value and "ms" in comparer.stats_b.value
    assert "fewer tokens than A" in comparer.status.value and "% fewer" in comparer.status.value
    # The default pair shows the lesson's point: both on topic, the verbose one far longer.
    assert a.output_tokens > 3 * b.output_tokens and "simulated model" not in a.output_text
    assert bytes(comparer.chart.value).startswith(b"\x89PNG")
    # The chart's text alternative (its title in the page) says what it shows, in numbers.
    assert f"A: {a.input_tokens:,} in, {a.output_tokens:,} out" in comparer.chart.tooltip
    assert not comparer.run_button.disabled
    assert len(sim.requests) == 2


def test_answers_are_readable_text_not_disabled_boxes():
    comparer = PromptComparer(client=object())
    for answer in (comparer.answer_a, comparer.answer_b):
        assert isinstance(answer, w.HTML) and "course-answer" in answer._dom_classes
    assert not any(
        isinstance(child, w.Textarea) and child.disabled for child in _descendants(comparer.widget)
    )


def _descendants(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _descendants(child)


def test_answer_html_escapes_and_explains_an_empty_answer():
    run = PromptRun("p", "m", "<b>1 < 2</b>", "completed", None, 5, 5, 0.0, 0.0)
    assert "&lt;b&gt;1 &lt; 2&lt;/b&gt;" in _answer_html("Answer A", run)
    empty = PromptRun("p", "m", "", "incomplete", "max_output_tokens", 5, 16, 0.0, 0.0, 16)
    assert "no text: the output cap was used up" in _answer_html("Answer B", empty)


def _ran(sim) -> PromptComparer:
    comparer = PromptComparer(sim.client(max_retries=0), max_output_tokens=64)
    assert comparer.run() is not None
    assert comparer.answer_a.value and comparer.stats_b.value and comparer.chart.value
    return comparer


def _assert_cleared(comparer: PromptComparer) -> None:
    assert comparer.runs is None
    assert comparer.answer_a.value == comparer.answer_b.value == ""
    assert comparer.stats_a.value == comparer.stats_b.value == ""
    assert comparer.chart.value == b"" and not comparer.chart.tooltip


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        ("Explain tokens.", "", "Prompt B is empty"),
        ("   ", "Explain tokens.", "Prompt A is empty"),
        ("", "\n", "Prompt A and Prompt B are empty"),
    ],
)
def test_empty_prompt_is_named_and_clears_stale_results(sim, a, b, message):
    comparer = _ran(sim)
    sent = len(sim.requests)
    comparer.prompt_a.value, comparer.prompt_b.value = a, b
    assert comparer.run() is None
    assert comparer.error.startswith(message) and "Run both" in comparer.error
    assert message in comparer.status.value and "Problem" in comparer.status.value
    _assert_cleared(comparer)
    assert len(sim.requests) == sent  # nothing was sent


def test_api_error_clears_stale_results(sim):
    comparer = _ran(sim)
    sim.queue_faults(["server_error"])
    assert comparer.run() is None
    assert "InternalServerError" in comparer.error
    _assert_cleared(comparer)


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


def test_bad_key_is_friendly(make_sim):
    locked = make_sim(api_key="right-key")
    comparer = PromptComparer(locked.client(api_key="wrong-key", max_retries=0))
    comparer.run()
    assert "AuthenticationError" in comparer.error and "OPENAI_API_KEY" in comparer.error
    assert "wrong-key" not in comparer.status.value
    _assert_cleared(comparer)


def test_without_a_client_it_uses_the_course_backend():
    comparer = PromptComparer(max_output_tokens=64)
    a, b = comparer.run()
    assert comparer.error is None and a.output_tokens <= 64 and b.status == "completed"


def test_effort_follows_the_model_and_starts_at_its_lowest():
    comparer = PromptComparer(client=object())
    assert comparer.effort.value == "none" and not comparer.effort.disabled
    comparer.model.value = "gpt-5-mini"
    assert comparer.effort.value == "minimal"
    assert list(comparer.effort.options) == [(e, e) for e in ("minimal", "low", "medium", "high")]
    comparer.model.value = "gpt-4.1-mini"
    assert comparer.effort.disabled and comparer.effort.value == ""


def test_small_cap_on_a_reasoning_model_still_answers_and_shows_reasoning(sim):
    comparer = PromptComparer(sim.client(max_retries=0), model="gpt-5-mini")
    a, b = comparer.run()
    assert a.reasoning_effort == b.reasoning_effort == "minimal"
    assert b.status == "completed" and b.output_text
    assert f"out tokens ({b.reasoning_tokens} reasoning)" in comparer.stats_b.value
    sent = [r for r in sim.requests if r.path.endswith("/responses")]
    assert len(sent) == 2
    comparer.effort.value = "high"
    comparer.run()
    assert comparer.runs[1].output_text == "" and "no text" in comparer.answer_b.value


def test_no_effort_is_sent_to_a_model_that_does_not_reason(sim):
    comparer = PromptComparer(sim.client(max_retries=0), model="gpt-4.1-mini")
    a, _ = comparer.run()
    assert comparer.error is None and a.reasoning_effort is None
    assert "reasoning" not in comparer.stats_a.value


# --- accessibility (issue 32 item 3); the browser suite runs axe-core on the same widgets ---


def _widgets_of(view):
    from course_utils.widgets import Checklist, Quiz, RetryTimeline

    return {
        "course-prompt-comparer": PromptComparer(client=object()),
        "course-retry-timeline": RetryTimeline(),
        "course-quiz": Quiz(),
        "course-checklist": Checklist(),
    }[view]


@pytest.mark.parametrize(
    "root", ["course-prompt-comparer", "course-retry-timeline", "course-quiz", "course-checklist"]
)
def test_each_widget_root_has_its_class_and_no_unnamed_slider(root):
    """axe found unnamed sliders (an ipywidgets slider handle has no accessible name): the
    number controls are labelled boxes, and each widget's root has a class the audit selects."""
    widget = _widgets_of(root).widget
    assert root in widget._dom_classes
    controls = list(_descendants(widget))
    assert not [c for c in controls if isinstance(c, w.IntSlider | w.IntRangeSlider)]
    assert not [c for c in controls if isinstance(c, w.FloatSlider)]
    for c in controls:
        if isinstance(c, w.BoundedIntText | w.BoundedFloatText):
            assert c.description, f"a number box without a label: {c}"


def test_answer_box_can_be_focused_and_is_named():
    """It scrolls (max-height, overflow): without tabindex a keyboard user cannot scroll it."""
    run = PromptRun("p", "m", "word " * 400, "completed", None, 5, 400, 0.0, 0.0)
    box = _answer_html("Answer A", run)
    assert 'tabindex="0"' in box and 'role="region"' in box and 'aria-label="Answer A"' in box


def test_the_cut_note_and_problems_use_the_theme_error_colour(sim):
    comparer = PromptComparer(sim.client(max_retries=0), max_output_tokens=16)
    comparer.run()
    assert "cut at 16 tokens" in comparer.stats_a.value
    assert "var(--jp-error-color1" in comparer.stats_a.value
    comparer.prompt_a.value = ""
    comparer.run()
    assert "var(--jp-error-color1" in comparer.status.value


@pytest.mark.parametrize("root", ["course-prompt-comparer", "course-retry-timeline"])
def test_figures_follow_a_dark_theme(root):
    """Figures are drawn on white; the widget carries the style that inverts them (hues kept)
    when JupyterLab's theme is dark, and marks its figure for it."""
    widget = _widgets_of(root).widget
    parts = list(_descendants(widget))
    styles = [p.value for p in parts if isinstance(p, w.HTML) and "<style>" in p.value]
    assert styles and "data-jp-theme-light='false'" in styles[0] and "invert" in styles[0]
    assert [p for p in parts if isinstance(p, w.Image) and "course-figure" in p._dom_classes]


def test_quiz_buttons_fit_their_text_and_the_mark_symbol_is_not_read_aloud():
    """Seen in a screenshot: "Check answer 10" was cut to "Check answer …"."""
    from course_utils.widgets import Quiz

    quiz = Quiz()
    buttons = [b for b in _descendants(quiz.widget) if isinstance(b, w.Button)]
    assert len(buttons) == 2 * len(quiz.questions)
    assert all(b.layout.width == "auto" for b in buttons)
    qid = next(iter(quiz.questions))
    quiz.answer(qid, 0)
    quiz.check(qid)
    feedback = quiz._feedback[qid].value
    assert '<span aria-hidden="true">' in feedback  # the live region around it: test_quiz.py
