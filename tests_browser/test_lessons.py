"""Lessons 03-07 and the exercises in a real browser, as a learner meets them.

Each test opens a notebook in JupyterLab (started as `make lab` starts it), runs every cell from
the Run menu, and checks that no cell shows a traceback or stderr except cells tagged
``raises-exception`` (the ones a lesson breaks on purpose). Then it uses the notebook's widget or
reads what it shows: the RetryTimeline redraws when a control moves, the runner's progress bar
renders, lesson 06 draws its plot, the quiz gives feedback and the checklist counts a tick.
"""

from __future__ import annotations

import hashlib
import time

from labkit import SLOW_MS, LabPage
from playwright.sync_api import expect


def _image_hash(locator) -> str:
    return hashlib.sha256(locator.screenshot()).hexdigest()


def _wait_for_new_image(locator, before: str, timeout_s: float = 30.0) -> str:
    """Poll the figure until its pixels differ from ``before``; fail with a clear message."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = _image_hash(locator)
        if now != before:
            return now
        time.sleep(0.3)
    raise AssertionError(f"the figure did not change within {timeout_s:.0f} s")


def test_lesson_03_retry_timeline_redraws_when_jitter_and_clients_change(lab: LabPage):
    lab.open("notebooks/03_rate_limits_backoff.ipynb")
    lab.run_all()
    lab.assert_learner_view()
    page = lab.page
    jitter = page.locator(".widget-toggle-buttons", has_text="Jitter")
    expect(jitter).to_be_visible(timeout=SLOW_MS)
    jitter.scroll_into_view_if_needed()
    timeline = page.locator(".widget-vbox", has=jitter).first  # the widget, not its inner column
    figure = timeline.locator("img").first
    expect(figure).to_be_visible()
    before = _image_hash(figure)
    # Keyboard, as the lesson says: focus the "full" button (Tab reaches it), press Space.
    jitter.get_by_role("button", name="full", exact=True).focus()
    page.keyboard.press("Space")
    after_jitter = _wait_for_new_image(figure, before)
    # Keyboard only, as the lesson says: the Clients box (found by its label, as a screen
    # reader finds it) steps with the Up arrow; Enter redraws.
    clients = timeline.get_by_label("Clients", exact=True)
    clients.focus()
    for _ in range(5):
        page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    expect(clients).to_have_value("25")
    _wait_for_new_image(figure, after_jitter)
    lab.assert_learner_view()
    lab.assert_accessible(".course-retry-timeline")


def test_lesson_05_runner_progress_bar_renders(lab: LabPage):
    lab.open("notebooks/05_mini_project.ipynb")
    lab.run_all(timeout_ms=3 * SLOW_MS)
    lab.assert_learner_view()
    bar = lab.page.locator(".jp-OutputArea-output .widget-hprogress").first
    expect(bar).to_be_visible(timeout=SLOW_MS)
    bar.scroll_into_view_if_needed()
    texts = "\n".join(out.text for out in lab.outputs())
    assert "180 succeeded, 0 failed" in texts, "the paced run's summary line is missing"


def test_lesson_04_and_exercise_3_run_with_only_the_expected_error(lab: LabPage):
    lab.open("notebooks/04_error_handling.ipynb")
    lab.run_all()
    lab.assert_learner_view()
    texts = "\n".join(out.text for out in lab.outputs())
    for word in ("RateLimitError", "AuthenticationError", "APITimeoutError", "quota"):
        assert word in texts, f"lesson 04 shows no {word}"
    lab.open_from_file_browser("exercises", "03_safe_generate.ipynb")
    lab.run_all()
    lab.assert_learner_view()
    texts = "\n".join(out.text for out in lab.outputs())
    assert "NOT STARTED" in texts  # the check says so; the demo says the function is not written


def test_exercise_1_solution_shows_both_answers_side_by_side(lab: LabPage):
    lab.open("solutions/01_prompt_styles.ipynb")
    lab.run_all()
    lab.assert_learner_view()
    table = lab.page.locator("table.course-side-by-side").first
    expect(table).to_be_visible(timeout=SLOW_MS)
    table.scroll_into_view_if_needed()
    texts = [t.strip() for t in table.locator("td").all_text_contents()]  # rendered or not
    assert len(texts) >= 2 and all(len(t) > 20 for t in texts[:2]), texts


def test_lesson_06_benchmarks_and_draws_the_sweet_spot(lab: LabPage):
    lab.open("notebooks/06_model_selection.ipynb")
    lab.run_all()
    lab.assert_learner_view()
    plot = lab.page.locator(".jp-OutputArea-output img").first
    expect(plot).to_be_visible(timeout=SLOW_MS)
    plot.scroll_into_view_if_needed()
    texts = "\n".join(out.text for out in lab.outputs())
    assert "Sweet spot" in texts and "cost per 1,000 items" in texts


def test_lesson_07_quiz_and_checklist_by_mouse_and_keyboard(lab: LabPage):
    """The checklist counts ticks; the quiz grades a click and a keypress. A screen reader hears
    each question with its options (a radio group, or a group of checkboxes, named by the
    question), the keyboard chooses as in any radio group, and the feedback is read out from a
    status region that was on the page before it changed. One Run All of lesson 07 serves it all
    (opening JupyterLab and running a lesson costs Chromium several seconds of CPU)."""
    from course_utils.quiz import QUESTIONS

    lab.open("notebooks/07_wrap_up.ipynb")
    lab.run_all()
    lab.assert_learner_view()
    page = lab.page
    progress = page.get_by_text("of 13 ticked")
    expect(progress).to_be_visible(timeout=SLOW_MS)
    page.get_by_role("checkbox", name="Retry with exponential backoff and jitter").check()
    expect(page.get_by_text("1 of 13 ticked")).to_be_visible()
    # Question 1: choose the right option and press its Check button.
    option = page.get_by_text("It costs fewer tokens and makes the answer's size and shape")
    option.scroll_into_view_if_needed()
    option.click()
    page.locator("button[title='Check answer 1']").click()
    expect(page.get_by_text("Correct:").first).to_be_visible()
    expect(page.get_by_text("1 of 11 correct (1 answered)")).to_be_visible()
    # Question 8 by keyboard: type a wrong number and press the button with Enter.
    box = page.get_by_placeholder("a whole number").nth(1)
    box.fill("600")
    page.locator("button[title='Check answer 8']").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Not yet:").first).to_be_visible()
    expect(page.get_by_text("1 of 11 correct (2 answered)")).to_be_visible()
    lab.assert_accessible(".course-quiz")  # feedback shown
    lab.assert_accessible(".course-checklist")

    quiz = page.locator(".course-quiz")
    expect(quiz).to_be_visible(timeout=SLOW_MS)
    for number, q in enumerate(QUESTIONS, start=1):
        if not q.options:
            continue
        role, option = ("group", "checkbox") if q.kind == "multi" else ("radiogroup", "radio")
        group = quiz.get_by_role(role, name=f"{number}. {q.prompt}", exact=True)
        expect(group).to_have_count(1)
        expect(group.get_by_role(option)).to_have_count(len(q.options))
        expect(group.get_by_role(option, name=q.options[0], exact=True)).to_have_count(1)

    # Question 5 from the keyboard: Tab into the group, arrows choose, Tab leaves it.
    number, q = next((n, q) for n, q in enumerate(QUESTIONS, start=1) if q.id == "max_output")
    named = {"name": f"{number}. {q.prompt}", "exact": True}
    group = quiz.get_by_role("radiogroup", **named)
    row = quiz.locator(".widget-vbox", has=page.get_by_role("radiogroup", **named)).last
    status = row.get_by_role("status")
    expect(status).to_have_count(1)
    expect(status).to_have_text("")
    status.evaluate("el => { el.dataset.before = 'checked'; }")  # the same element later?
    page.locator(f"button[title='Show answer {number - 1}']").focus()
    page.keyboard.press("Tab")
    radios = group.get_by_role("radio")
    expect(radios.first).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    right = radios.nth(q.correct[0])
    expect(right).to_be_focused()
    expect(right).to_be_checked()
    expect(group.locator("input:checked")).to_have_count(1)
    page.keyboard.press("Tab")  # one stop for the whole group: next is its Check button
    expect(page.locator(f"button[title='Check answer {number}']")).to_be_focused()
    page.keyboard.press("Enter")
    expect(status).to_contain_text("Correct:")
    assert status.evaluate("el => el.dataset.before") == "checked", "a new region replaced it"
    assert status.get_attribute("aria-live") == "polite"
    expect(page.get_by_text("2 of 11 correct (3 answered)")).to_be_visible()  # 1 and 8 above
    # A wrong second choice is announced too, in the same region.
    page.keyboard.press("Shift+Tab")
    expect(right).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(radios.nth(q.correct[0] - 1)).to_be_checked()
    page.locator(f"button[title='Check answer {number}']").click()
    expect(status).to_contain_text("Not yet:")
    row.scroll_into_view_if_needed()
    lab.screenshot("quiz-light")
    lab.assert_accessible(".course-quiz")
    lab.set_theme("JupyterLab Dark")
    try:
        lab.assert_accessible(".course-quiz")  # axe's color-contrast in the dark theme too
        lab.screenshot("quiz-dark")
    finally:
        lab.set_theme("JupyterLab Light")  # the settings are the session's: later tests are light
