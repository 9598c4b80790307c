"""RetryTimeline widget: move its controls in code, read the figure bytes and the summary."""

from __future__ import annotations

import hashlib

from course_utils import RetryTimeline

LABELS = ["Jitter", "Clients", "Max retries", "Base delay (s)", "Factor", "Cap (s)"]


def digest(timeline: RetryTimeline) -> str:
    return hashlib.sha256(bytes(timeline.image.value)).hexdigest()


def test_controls_have_stable_labels_and_a_first_figure():
    timeline = RetryTimeline()
    labels = [c.description for c in timeline.controls]
    assert sorted(labels) == sorted(LABELS)
    assert timeline.jitter.options == ("none", "full", "equal", "decorrelated", "sdk")
    assert bytes(timeline.image.value).startswith(b"\x89PNG")
    assert "20 clients sent 60 requests: 40 rejected (429)" in timeline.summary.value
    assert 'aria-live="polite"' in timeline.summary.value
    assert timeline._repr_mimebundle_()
    for control in timeline.controls:  # updates on release, not on every pixel dragged
        assert getattr(control, "continuous_update", False) is False


def test_changing_a_control_replaces_the_figure_in_place():
    timeline = RetryTimeline()
    image, before = timeline.image, digest(timeline)
    timeline.jitter.value = "full"
    assert timeline.image is image  # the same widget: its bytes change, nothing is cleared
    assert digest(timeline) != before
    assert "full_jitter" in timeline.run_result.schedule
    after_jitter = digest(timeline)
    timeline.clients.value = 5
    assert digest(timeline) != after_jitter
    assert timeline.run_result.clients == 5


def test_the_same_settings_draw_the_same_figure():
    a, b = RetryTimeline(jitter="equal", seed=3), RetryTimeline(jitter="equal", seed=3)
    assert digest(a) == digest(b)


def test_an_impossible_setting_is_explained_not_raised():
    timeline = RetryTimeline()
    timeline.jitter.value = "decorrelated"
    before = digest(timeline)
    timeline.cap.value = 0.5  # below the 1 s base: decorrelated jitter cannot work
    assert "⚠" in timeline.summary.value and "cap_s" in timeline.summary.value
    assert digest(timeline) == before  # the last good figure stays


def test_jitter_is_chosen_with_buttons_that_work_from_the_keyboard():
    """Regression (issue 27 item 14): the Jitter dropdown could not be moved with the arrow
    keys in JupyterLab (they move the active cell). Buttons take Tab, then Space or Enter."""
    import ipywidgets as w

    timeline = RetryTimeline()
    assert isinstance(timeline.jitter, w.ToggleButtons)
    assert not isinstance(timeline.jitter, w.Dropdown)
    assert len(timeline.jitter.tooltips) == len(timeline.jitter.options)


def test_the_numbers_lesson_03_states_about_the_timeline():
    """Lesson 03's prose: without jitter the last client is served at 15 s after 40 refusals;
    with full jitter at about 5 s, with fewer refusals. The widget's first figure is the text's."""
    timeline = RetryTimeline()
    assert "40 rejected (429)" in timeline.summary.value
    assert "the last at 15.0 s" in timeline.summary.value
    timeline.jitter.value = "full"
    run = timeline.run_result
    assert 4.0 <= run.finished_s <= 6.0 and run.rejected < 40
