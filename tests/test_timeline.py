"""timeline: the seeded retry simulation (the herd by hand), measured logs from the real
simulator, and figures that carry their titles and labels."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import openai
import pytest

from course_utils.backoff import exponential, full_jitter, no_jitter
from course_utils.backoff_extras import make_schedule
from course_utils.plots import figure_png
from course_utils.timeline import (
    Event,
    ceiling,
    events_from_log,
    outcome_counts,
    per_slot,
    requests_figure,
    retry_timeline_figure,
    simulate_retries,
    throughput_ratio,
)

MODEL = "gpt-5.4-mini"


def test_without_jitter_the_herd_comes_back_together():
    """Worked by hand: 20 clients, a server of 4/s with bursts of 4, waits 1, 2, 4, 8 s."""
    run = simulate_retries(20, no_jitter(exponential(1, 2, 8)), 4)
    times = sorted({a.time_s for a in run.attempts})
    assert times == [0.0, 1.0, 3.0, 7.0, 15.0]  # every retry lands on the same instants
    per_time = [sum(a.time_s == t for a in run.attempts) for t in times]
    assert per_time == [20, 16, 12, 8, 4]
    assert (run.accepted, run.rejected, run.gave_up) == (20, 40, 0)
    assert run.finished_s == 15.0 and run.busiest_slot(0.5) == 20
    assert run.summary() == (
        "20 clients sent 60 requests: 40 rejected (429), 20 served, the last at 15.0 s, "
        "none gave up."
    )


def test_jitter_spreads_the_herd_and_finishes_sooner():
    herd = simulate_retries(20, no_jitter(exponential(1, 2, 8)), 4)
    spread = simulate_retries(20, full_jitter(exponential(1, 2, 8)), 4, seed=0)
    assert spread.finished_s < herd.finished_s
    assert spread.rejected < herd.rejected
    assert len({a.time_s for a in spread.attempts}) > 30  # retries land at many instants
    # the same seed gives the same run; another seed another one
    assert simulate_retries(20, full_jitter(exponential(1, 2, 8)), 4, seed=0) == spread
    assert simulate_retries(20, full_jitter(exponential(1, 2, 8)), 4, seed=1) != spread


def test_clients_out_of_retries_give_up():
    run = simulate_retries(10, no_jitter(exponential(1, 2, 8)), 0)
    assert (run.accepted, run.rejected, run.gave_up) == (4, 6, 6)
    assert "6 gave up" in run.summary()


def test_decorrelated_chains_are_per_client():
    run = simulate_retries(30, make_schedule("decorrelated", 1, 2, 8), 6, seed=3)
    assert run.accepted + run.gave_up == 30
    assert all(a.number <= 7 for a in run.attempts)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"clients": 0}, "clients must be a whole number from 1"),
        ({"max_retries": -1}, "max_retries must be"),
        ({"burst": 0}, "burst must be"),
        ({"rate_per_s": 0}, "rate_per_s must be a number > 0"),
    ],
)
def test_simulate_retries_checks_its_settings(kwargs, message):
    args = {"clients": 5, "schedule": exponential(), "max_retries": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        simulate_retries(**args)


def test_per_slot_counts():
    starts, ok, bad = per_slot([0.1, 0.2, 0.7, 1.6], [True, False, True, False], 0.5)
    assert starts == [0.0, 0.5, 1.0, 1.5]
    assert (ok, bad) == ([1, 1, 0, 0], [1, 0, 0, 1])
    with pytest.raises(ValueError, match="slot_s must be > 0"):
        per_slot([0.1], [True], 0)


def test_ceiling_and_ratio():
    assert ceiling(60, 30) == 90
    events = [Event(float(i), 200, "ok") for i in range(31)] + [Event(31.0, 429, "rate_limit")]
    assert throughput_ratio(events, 1) == pytest.approx(31 / (1 + 30 / 60))
    assert throughput_ratio([Event(0, 429, "rate_limit")], 60) == 0.0
    assert outcome_counts(events) == {"ok": 31, "429": 1, "other": 0}


def test_a_real_burst_logged_by_the_simulator(make_sim):
    sim = make_sim(rpm=10)
    client = sim.client(max_retries=0)

    def ask(i: int) -> str:
        try:
            client.responses.create(model=MODEL, input=f"Question {i}", max_output_tokens=16)
            return "ok"
        except openai.RateLimitError:
            return "429"

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(ask, range(14)))
    client.models.list()  # not a generating request: left out of the timeline
    events = events_from_log(sim.requests)
    assert len(events) == 14 and events[0].time_s == 0.0
    counts = outcome_counts(events)
    assert counts["ok"] == outcomes.count("ok") >= 10 and counts["429"] == outcomes.count("429")
    fig = requests_figure(events, title="14 requests against 10 RPM", rpm=10, takeaway="x")
    top, bottom = fig.axes
    assert "14 requests against 10 RPM" in fig._suptitle.get_text()
    assert top.get_ylabel() == "requests per 1 s" and "served" in top.get_title(loc="left")
    assert bottom.get_xlabel() == "time since the first request (s)"
    assert figure_png(fig).startswith(b"\x89PNG")
    assert events_from_log([]) == []
    with pytest.raises(ValueError, match="no requests in the log"):
        requests_figure([], title="empty")


def test_retry_timeline_figure_is_titled_and_labelled():
    run = simulate_retries(8, no_jitter(exponential(1, 2, 8)), 3)
    fig = retry_timeline_figure(run, takeaway="they collide")
    top, bottom = fig.axes
    assert run.summary() in fig._suptitle.get_text() and "they collide" in fig._suptitle.get_text()
    assert top.get_ylabel() == "client number" and "no_jitter" in top.get_title(loc="left")
    assert bottom.get_xlabel() == "time since the first request (s)"
    assert bottom.get_ylabel() == "requests per 0.5 s"
    assert fig.get_facecolor()[:3] == (1.0, 1.0, 1.0)  # its own white: readable in dark theme


def test_figures_draw_as_one_image_in_a_kernel_without_a_backend():
    """Regression (issue 27 item 1): lesson 05 printed ``<Figure size 900x540 with 2 Axes>``.

    A bare ``Figure`` has no image form until the inline backend registers a formatter, which
    lesson 05 never did. IPython's own formatter, as a fresh kernel has it, must now give a PNG;
    and with the inline backend's formatter registered too, still exactly one PNG."""
    from IPython.core.formatters import DisplayFormatter

    run = simulate_retries(4, no_jitter(exponential(1, 2, 8)), 2)
    events = [Event(0.0, 200, "ok"), Event(0.5, 200, "ok"), Event(1.5, 429, "429")]
    for fig in (retry_timeline_figure(run), requests_figure(events, title="t", rpm=60)):
        data, _ = DisplayFormatter().format(fig)
        assert data["image/png"].startswith(b"\x89PNG")
        png = DisplayFormatter()
        png.formatters["image/png"].for_type(type(fig).__mro__[1], lambda f: b"\x89PNG-inline")
        assert png.format(fig)[0]["image/png"] == b"\x89PNG-inline"  # the backend's, not twice
