"""The PromptComparer's streaming toggle: both answers arrive side by side, each with its time
to first token; a stream that breaks is a friendly message, never a traceback."""

from __future__ import annotations

from typing import Any

from course_simulator import Simulator
from course_utils.widgets import PromptComparer


def test_the_toggle_is_off_by_default_and_sits_with_the_controls() -> None:
    comparer = PromptComparer(client=object())
    assert comparer.stream.value is False and comparer.stream.description == "Stream answers"
    controls = comparer.widget.children[1].children
    assert comparer.stream in controls and controls.index(comparer.stream) < controls.index(
        comparer.run_button
    )


def test_streamed_answers_equal_the_plain_ones_and_show_time_to_first_token(
    sim: Simulator, monkeypatch: Any
) -> None:
    comparer = PromptComparer(sim.client(max_retries=0))
    comparer.stream_headers = {}  # no catalogue latency in a test
    plain = comparer.run()
    assert plain is not None
    comparer.stream.value = True
    drawn: list[str] = []
    monkeypatch.setattr(comparer, "REDRAW_EVERY_S", 0.0)
    comparer.answer_a.observe(lambda change: drawn.append(change["new"]), names="value")
    streamed = comparer.run()
    assert streamed is not None
    assert [r.output_text for r in streamed] == [r.output_text for r in plain]
    assert [r.output_tokens for r in streamed] == [r.output_tokens for r in plain]
    assert all(r.first_token_s is not None for r in streamed)
    assert "first token" in comparer.stats_a.value and "first token" in comparer.stats_b.value
    growing = [d for d in drawn if "▌" in d]
    assert len(growing) > 3  # the answer was redrawn while it arrived
    assert "▌" not in comparer.answer_a.value  # and ends as the finished answer
    assert comparer.error is None


def test_a_stream_that_breaks_is_explained(sim: Simulator) -> None:
    comparer = PromptComparer(sim.client(max_retries=0))
    comparer.stream_headers = {}
    comparer.stream.value = True
    sim.queue_faults(["stream_cut"])
    assert comparer.run() is None
    assert comparer.error is not None and "APIConnectionError" in comparer.error
    a, b = comparer.answer_a.value, comparer.answer_b.value
    assert ("stopped here" in a) != ("stopped here" in b)  # only the broken one is marked
    assert "▌" not in a + b  # what arrived stays; nothing looks as if it were still coming
