"""The course in a real browser: JupyterLab in headless Chromium, driven by Playwright.

nbval proves every cell runs; this suite proves what a learner sees works: `make lab` opens the
start page with the whole course in the file browser, an exercise opens from there and runs,
the PromptComparer renders, its button sends both prompts and redraws, the model dropdown
changes the cost, and the token colouring shows. JupyterLab is started with `make lab`'s own
command (see labkit.py, which also documents the helpers). Needs Debian's chromium (`.ci/run`
installs it); `make browser` runs this suite.
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qs, urlsplit

import nbformat
import pytest
from labkit import PANEL, SLOW_MS, VIEWPORT, LabPage, LabServer
from playwright.sync_api import Browser, expect


def test_make_lab_opens_lesson_00_which_runs_then_an_exercise_from_the_file_browser(lab: LabPage):
    """A learner's first minutes in one tab: the start page, Run All, then an exercise."""
    assert lab.open_start_page() == "notebooks/00_start_here.ipynb"
    shown = time.monotonic()
    # The file browser's home is the repository root: the whole course, one click away.
    lab.file_browser_home()
    items = lab.file_browser_items()
    for folder in ("notebooks", "exercises", "solutions"):
        assert folder in items, f"the file browser lists {items}, not {folder}/"

    # Lesson 00 makes its first request on the simulator.
    lab.run_all()
    lab.assert_learner_view()
    texts = "\n".join(out.text for out in lab.outputs())
    assert "backend: simulator" in texts, texts[:2000]
    assert "NOT STARTED" in texts  # the first check, before the learner has written anything

    # The course's lab settings switch the "Jupyter news" question off: nothing covers the page.
    # The question, when asked, comes a moment after start (Run All has usually given it that).
    lab.page.wait_for_timeout(max(0, 1500 - (time.monotonic() - shown) * 1000))
    expect(lab.page.get_by_text("notified about official Jupyter news")).to_have_count(0)

    # An untouched exercise, found in the file browser, runs to the end: its check says the
    # function is not written yet.
    assert lab.open_from_file_browser("exercises", "02_retry_wrapper.ipynb") == (
        "exercises/02_retry_wrapper.ipynb"
    )
    lab.run_all()
    lab.assert_learner_view()
    texts = "\n".join(out.text for out in lab.outputs())
    assert "NOT STARTED" in texts, texts[:2000]
    lab.file_browser_home()  # the screenshot shows the three folders beside the exercise


def test_the_url_make_lab_prints_opens_the_course_when_copied(server: LabServer, browser: Browser):
    """Copied from the terminal into another browser (container, WSL, remote): no login page.
    The suite's own server is started as `make lab` starts it, so its log is the terminal's."""
    log = server.log.read_text()
    printed = re.findall(r"http://127\.0\.0\.1:\d+/\S+", log)
    with_token = [u for u in printed if "token=" in u]
    assert with_token, f"no URL with its token in JupyterLab's output:\n{log[-2000:]}"
    url = with_token[0]
    assert url.startswith(server.url + "/"), (url, server.url)
    assert urlsplit(url).path == "/lab/tree/notebooks/00_start_here.ipynb", url
    token = parse_qs(urlsplit(url).query).get("token", [""])[0]
    assert len(token) >= 20 and token != "...", url  # the real token, whole
    server.forget_workspace("default")  # the start page's tabs from earlier tests: a fresh server
    context = browser.new_context(viewport=VIEWPORT)  # no cookie: a browser never used
    try:
        page = context.new_page()
        page.goto(url)
        expect(page.locator(PANEL)).to_be_visible(timeout=SLOW_MS)
        expect(page.locator("input[name='password']")).to_have_count(0)
        tab = page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current")
        expect(tab).to_contain_text("00_start_here.ipynb")
    finally:
        context.close()  # its kernel stops with the next test's (the lab fixture stops them all)


def test_prompt_comparer_runs_both_prompts_and_follows_the_model(lab: LabPage):
    lab.open("notebooks/02_prompt_efficiency.ipynb")
    lab.run_all()
    lab.assert_learner_view()
    page = lab.page
    button = page.locator(".widget-button", has_text="Run both")
    expect(button).to_be_visible(timeout=SLOW_MS)
    button.scroll_into_view_if_needed()
    comparer = page.locator(".widget-vbox", has=button).first
    button.click()
    # Both answers filled in, each with its token/cost/latency line, and a chart drawn.
    answers = comparer.locator(".course-answer")
    expect(answers).to_have_count(2)
    for i in range(2):
        expect(answers.nth(i)).not_to_be_empty(timeout=30_000)
    expect(comparer.get_by_text("out tokens").first).to_be_visible()
    expect(comparer.locator("img").first).to_be_visible()
    cost_before = comparer.get_by_text("per 1,000)").first.inner_text()

    comparer.locator("select").first.select_option("gpt-5.4-nano")  # first: Model; then Reasoning
    button.click()
    expect(comparer.get_by_text("per 1,000)").first).not_to_have_text(cost_before, timeout=30_000)
    # The run is over when its button comes back: the chart (cleared when a run starts) is
    # drawn again with its text alternative before that, so the audit below never meets it
    # half-drawn (axe's image-alt finding on main, 2026-12-06).
    expect(button).to_be_enabled(timeout=30_000)
    expect(comparer.get_by_text("⚠")).to_have_count(0)  # no error message in the widget
    lab.assert_accessible(".course-prompt-comparer")  # with answers and chart on screen
    # The dark theme: the "cut at ... tokens" note keeps its contrast (axe's color-contrast
    # rule) and the chart is inverted to follow the theme instead of glaring white.
    expect(comparer.get_by_text("cut at").first).to_be_visible()
    lab.set_theme("JupyterLab Dark")
    try:
        lab.assert_accessible(".course-prompt-comparer")
        chart_filter = comparer.locator("img.course-figure").evaluate(
            "img => getComputedStyle(img).filter"
        )
        assert "invert" in chart_filter, chart_filter
        comparer.locator("img.course-figure").scroll_into_view_if_needed()
        lab.screenshot("prompt-comparer-dark")
    finally:
        lab.set_theme("JupyterLab Light")  # the settings are the session's: later tests are light


def test_token_boundaries_are_coloured(lab: LabPage):
    lab.open("notebooks/01_tokens.ipynb")
    lab.run_all()
    lab.assert_learner_view()
    spans = lab.page.locator(".jp-OutputArea-output span[title$='token']")
    expect(spans.first).to_be_visible(timeout=SLOW_MS)
    assert spans.count() >= 9  # Hello, unbelievable, Hello world, Hello    world: 1 + 3 + 2 + 3
    expect(lab.page.get_by_text("3 tokens, 14 characters").first).to_be_attached()  # spaces count
    spans.first.scroll_into_view_if_needed()  # the screenshot shows the colouring


def scratch_notebook(cells: list) -> dict:
    """A Python 3 notebook of ``cells``, as JSON-ready data, for the helpers' own tests."""
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return dict(nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": kernel}))


def test_the_error_check_sees_stderr_and_honours_raises_exception(lab: LabPage):
    """The helpers the lesson tests rely on: a pink box fails the check unless it is tagged."""
    cells = [
        ("print('all good')", []),
        ("1 / 0  # shown on purpose", ["raises-exception"]),
        ("import sys\nprint('a warning', file=sys.stderr)", []),
    ]
    notebook = scratch_notebook(
        [nbformat.v4.new_code_cell(src, id=f"c{i}", metadata={"tags": tags})
         for i, (src, tags) in enumerate(cells)]
    )  # fmt: skip
    path = "tests_browser/helper_check.ipynb"  # in the served copy, never in the repository
    (lab.server.root / path).write_text(json.dumps(notebook), "utf-8")
    try:
        lab.open(path)
        lab.run_all()
        outs = lab.outputs()
        assert outs[0].text.strip() == "all good"
        assert "ZeroDivisionError" in "".join(outs[1].stderr)
        assert outs[2].stderr and "a warning" in outs[2].stderr[0]
        with pytest.raises(AssertionError, match="cell 2") as failure:
            lab.assert_learner_view()
        assert "cell 1" not in str(failure.value)  # tagged raises-exception: expected
    finally:
        (lab.server.root / path).unlink()


def test_the_learner_view_check_sees_a_figure_as_text_and_math_in_a_table(lab: LabPage):
    """The check every notebook test ends with fails on the two faults a learner saw."""
    notebook = scratch_notebook(
        [nbformat.v4.new_markdown_cell(
            "| model | price |\n|---|---|\n| a | $1.25 |\n| b | $2.00 |", id="m0"),
         nbformat.v4.new_code_cell("print('<Figure size 900x540 with 2 Axes>')", id="c1")]
    )  # fmt: skip
    path = "tests_browser/helper_view.ipynb"  # in the served copy, never in the repository
    (lab.server.root / path).write_text(json.dumps(notebook), "utf-8")
    try:
        lab.open(path)
        lab.run_all()
        with pytest.raises(AssertionError, match=r"cells \[1\] print a figure as text"):
            lab.assert_learner_view()
        lab.page.locator(f"{PANEL} .jp-MarkdownCell").first.scroll_into_view_if_needed()
        expect(lab.page.locator(f"{PANEL} table mjx-container").first).to_be_attached(
            timeout=30_000
        )
        lab.page.evaluate(  # the figure text aside, the table's math alone must fail it too
            """(panel) => document.querySelectorAll(`${panel} .jp-OutputArea-output`)
                .forEach(e => e.textContent = '')""",
            PANEL,
        )
        with pytest.raises(AssertionError, match=r"cells \[0\] show math inside a table"):
            lab.assert_learner_view()
    finally:
        (lab.server.root / path).unlink()
