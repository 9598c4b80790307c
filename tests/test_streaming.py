"""streaming: read_stream times and keeps a stream; a break half-way is kept (marked) or
restarted, through the real SDK against the simulator's ``stream_cut`` fault; plus the lesson
helpers built on it (streamed prompt runs, cache layouts) and their figures."""

from __future__ import annotations

import itertools
from typing import Any

import openai
import pytest
from matplotlib.figure import Figure

from course_simulator import Simulator
from course_utils.plots import cache_layouts_figure, stream_timing_figure
from course_utils.pricing import DEFAULT_MODEL, estimate_cost
from course_utils.prompting import (
    CACHE_LAYOUTS,
    cache_layout_request,
    cache_layout_runs,
    cost_per_1000,
    run_prompt,
    run_prompts_streaming,
)
from course_utils.streaming import INTERRUPTED, StreamRun, read_stream, stream_with_restart

LONG = "Write a comprehensive, detailed explanation of how tokens work in language models."
SHORT = "Explain tokens in 3 bullet points, under 60 words."


def ticking(step: float = 0.5) -> Any:
    """A clock that moves ``step`` seconds every time it is read."""
    counter = itertools.count()
    return lambda: next(counter) * step


@pytest.fixture
def client(sim: Simulator) -> Any:
    c = sim.client(max_retries=0)
    yield c
    c.close()


# --- read_stream ----------------------------------------------------------------------------


def test_read_stream_gives_the_same_answer_and_usage_as_a_json_call(client: Any) -> None:
    whole = client.responses.create(model=DEFAULT_MODEL, input=LONG)
    seen: list[str] = []
    run = read_stream(client, model=DEFAULT_MODEL, input=LONG, on_delta=seen.append,
                      clock=ticking())  # fmt: skip
    assert run.complete and not run.interrupted and run.status == "completed"
    assert run.text == "".join(seen) == whole.output_text
    assert run.usage == whole.usage
    assert run.first_token_s == 0.5  # the clock read once at the start, once at the first delta
    assert run.total_s > run.first_token_s
    assert run.shown_text() == run.text


def test_read_stream_reports_a_cap_as_incomplete(client: Any) -> None:
    run = read_stream(client, model=DEFAULT_MODEL, input=LONG, max_output_tokens=30)
    assert run.status == "incomplete" and run.incomplete_reason == "max_output_tokens"
    assert run.usage.output_tokens == 30 and not run.complete and not run.interrupted


def test_a_break_half_way_keeps_the_partial_text_marked(sim: Simulator, client: Any) -> None:
    whole = client.responses.create(model=DEFAULT_MODEL, input=LONG).output_text
    sim.queue_faults(["stream_cut"])
    run = read_stream(client, model=DEFAULT_MODEL, input=LONG)
    assert run.status == INTERRUPTED and run.interrupted and not run.complete
    assert 0 < len(run.text) < len(whole) and whole.startswith(run.text)
    assert isinstance(run.error, openai.APIConnectionError)
    assert run.incomplete_reason == "APIConnectionError" and run.usage is None
    assert run.shown_text().startswith(run.text) and run.shown_text().endswith("interrupted]")


def test_an_error_before_the_stream_starts_is_raised(sim: Simulator, client: Any) -> None:
    sim.queue_faults(["server_error"])
    with pytest.raises(openai.InternalServerError):
        read_stream(client, model=DEFAULT_MODEL, input=SHORT)


def test_restart_replaces_the_partial_text(sim: Simulator, client: Any) -> None:
    whole = client.responses.create(model=DEFAULT_MODEL, input=LONG).output_text
    sim.reset()
    sim.queue_faults(["stream_cut"])
    screen: list[str] = []
    restarts: list[StreamRun] = []

    def clear(broken: StreamRun) -> None:
        restarts.append(broken)
        screen.clear()

    run = stream_with_restart(
        client, model=DEFAULT_MODEL, input=LONG, on_delta=screen.append, on_restart=clear
    )
    assert run.complete and run.attempts == 2 and run.text == "".join(screen) == whole
    assert len(restarts) == 1 and restarts[0].interrupted
    assert [r.outcome for r in sim.requests] == ["stream_cut", "ok"]  # both billed


def test_restart_gives_up_after_its_attempts(sim: Simulator, client: Any) -> None:
    sim.queue_faults(["stream_cut"] * 3)
    run = stream_with_restart(client, attempts=2, model=DEFAULT_MODEL, input=LONG)
    assert run.interrupted and run.attempts == 2
    assert len(sim.requests) == 2
    with pytest.raises(ValueError, match="attempts"):
        stream_with_restart(client, attempts=0, model=DEFAULT_MODEL, input=LONG)


# --- prompting on top of it -------------------------------------------------------------------


def test_a_streamed_prompt_run_matches_the_json_run(client: Any) -> None:
    plain = run_prompt(client, LONG)
    streamed = run_prompt(client, LONG, stream=True)
    assert streamed.output_text == plain.output_text
    assert (streamed.input_tokens, streamed.output_tokens) == (plain.input_tokens,
                                                               plain.output_tokens)  # fmt: skip
    assert streamed.cost_usd == plain.cost_usd
    assert streamed.first_token_s is not None and plain.first_token_s is None


def test_a_streamed_prompt_run_raises_a_break(sim: Simulator, client: Any) -> None:
    sim.queue_faults(["stream_cut"])
    with pytest.raises(openai.APIConnectionError):
        run_prompt(client, LONG, stream=True)


def test_streaming_two_prompts_side_by_side(client: Any) -> None:
    pieces: dict[int, list[str]] = {0: [], 1: []}
    runs = run_prompts_streaming(
        client, [LONG, SHORT], on_delta=lambda i, p: pieces[i].append(p), max_output_tokens=300
    )
    assert [r.output_text for r in runs] == ["".join(pieces[0]), "".join(pieces[1])]
    assert all(r.first_token_s is not None for r in runs)
    with pytest.raises(ValueError, match="empty"):
        run_prompts_streaming(client, [])


def test_cost_counts_cached_input_at_its_price(client: Any) -> None:
    context = "The handbook says: " + "always check the status of an answer. " * 200
    first = run_prompt(client, f"{context}\n\nQuestion: why?", prompt_cache_key="t")
    second = run_prompt(client, f"{context}\n\nQuestion: how?", prompt_cache_key="t")
    assert first.cached_tokens == 0 and second.cached_tokens >= 1024
    assert second.cost_usd == estimate_cost(
        DEFAULT_MODEL, second.input_tokens, second.output_tokens, second.cached_tokens
    )


# --- cache layouts (lesson 02) ----------------------------------------------------------------


CONTEXT = "Rules of the Lantern service desk. " + "Check the status before using an answer. " * 250
QUESTIONS = ["Why check the status?", "What is a token?", "Why add jitter?", "What is a 429?"]


def test_each_layout_holds_the_same_text_in_its_own_order() -> None:
    stable = cache_layout_request("stable first", CONTEXT, "Why?")
    dynamic = cache_layout_request("dynamic first", CONTEXT, "Why?")
    stamped = cache_layout_request("timestamp first", CONTEXT, "Why?")
    assert stable.startswith(CONTEXT) and stable.endswith("Question: Why?")
    assert dynamic.startswith("Question: Why?") and dynamic.endswith(CONTEXT)
    assert stamped.startswith("Current time: ") and stamped.endswith(stable)
    with pytest.raises(ValueError, match="stable first"):
        cache_layout_request("random", CONTEXT, "Why?")


def test_only_the_stable_first_layout_hits_the_cache(client: Any) -> None:
    runs = cache_layout_runs(client, CONTEXT, QUESTIONS)
    assert list(runs) == list(CACHE_LAYOUTS)
    stable = [r.cached_tokens for r in runs["stable first"]]
    assert stable[0] == 0 and all(c >= 1024 for c in stable[1:])
    assert all(r.cached_tokens == 0 for r in runs["dynamic first"] + runs["timestamp first"])
    assert cost_per_1000(runs["stable first"]) < 0.6 * cost_per_1000(runs["dynamic first"])
    with pytest.raises(ValueError, match="empty"):
        cost_per_1000([])
    with pytest.raises(ValueError, match="empty"):
        cache_layout_runs(client, CONTEXT, [])
    fig = cache_layouts_figure(runs)
    assert isinstance(fig, Figure)
    left, right = fig.axes
    assert left.get_xlabel() == "request number" and left.get_ylabel() == "cached tokens"
    assert right.get_ylabel() == "USD per 1,000 requests" and right.get_title()
    labels = [t.get_text() for t in right.texts]
    assert labels[0] == f"${cost_per_1000(runs['stable first']):.2f}"


def test_running_the_layouts_again_tells_the_same_story(client: Any) -> None:
    """Run All twice in one kernel: the second call must not find the first call's prefixes
    (it showed every layout cached from request 1, against the lesson's text)."""
    first = cache_layout_runs(client, CONTEXT, QUESTIONS[:2])
    again = cache_layout_runs(client, CONTEXT, QUESTIONS[:2])
    cached = {layout: [r.cached_tokens for r in runs] for layout, runs in again.items()}
    assert cached == {layout: [r.cached_tokens for r in runs] for layout, runs in first.items()}
    assert cached["dynamic first"] == [0, 0] and cached["stable first"][0] == 0


def test_the_cache_figures_reject_empty_input() -> None:
    with pytest.raises(ValueError, match="empty"):
        cache_layouts_figure({})
    with pytest.raises(ValueError, match="equally long"):
        stream_timing_figure(["a"], [0.1], [])


def test_the_stream_timing_figure() -> None:
    fig = stream_timing_figure(["not streamed", "streamed"], [2.0, 0.3], [2.0, 2.0])
    ax = fig.axes[0]
    assert ax.get_title() == "Time to first token vs total time"
    assert ax.get_xlabel() == "milliseconds after sending" and ax.get_ylabel() == "request"
    assert [t.get_text() for t in ax.texts][1] == " first text 300 ms · done 2,000 ms"
