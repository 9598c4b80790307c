"""The notebooks no other browser test runs: lesson 08 and the untouched exercises.

One Run All per notebook, to keep the suite short: open it, Run All, check what a learner sees
(``assert_learner_view``) and what the notebook is for. Lesson 00 runs in test_lab.py, from the
start page. The last test is plain Python: every lesson and exercise is opened by some test of
this suite, so a new notebook cannot be added without one.
"""

from __future__ import annotations

import re
from pathlib import Path

from labkit import ROOT, SLOW_MS, LabPage
from playwright.sync_api import expect

HERE = Path(__file__).parent


def _text(lab: LabPage) -> str:
    return "\n".join(out.text for out in lab.outputs())


def test_lesson_08_runs_online_and_as_a_batch_with_the_same_answers(lab: LabPage):
    lab.open("notebooks/08_batch_at_scale.ipynb")
    lab.run_all(timeout_ms=3 * SLOW_MS)
    lab.assert_learner_view()
    texts = _text(lab)
    assert "same answers: True" in texts, "the online and batch answers differ or are not shown"
    assert "records for 120 prompts" in texts
    # The decision figure draws as an image, and the online run's progress bar fills up.
    figure = lab.page.locator(".jp-OutputArea-output img").first
    expect(figure).to_be_visible(timeout=SLOW_MS)
    bar = lab.page.locator(".jp-OutputArea-output .widget-hbox", has=lab.page.locator(
        ".widget-hprogress")).first  # fmt: skip
    expect(bar).to_be_attached(timeout=SLOW_MS)
    bar.scroll_into_view_if_needed()
    expect(bar).to_contain_text("120/120")


# Exercises 02 and 03 are run in test_lab.py and test_lessons.py.
EXERCISES = ["01_prompt_styles", "05_runner_homework", "06_prompt_caching", "08_batch_input"]


def test_the_untouched_exercises_run_to_their_checks(lab: LabPage):
    """A learner who opens an exercise and presses Run All sees every check say what is left
    to write (NOT STARTED), never a traceback. One tab opens them in turn, the first by URL and
    the others from the file browser, as a learner moves on (a fresh page each would cost more
    than the exercise); each runs in its own kernel."""
    for i, name in enumerate(EXERCISES):
        if i == 0:
            lab.open(f"exercises/{name}.ipynb")
        else:
            lab.open_from_file_browser("exercises", f"{name}.ipynb")
        assert lab.current_path() == f"exercises/{name}.ipynb"
        lab.run_all(timeout_ms=2 * SLOW_MS)
        lab.assert_learner_view()
        texts = _text(lab)
        assert "NOT STARTED" in texts, f"exercises/{name}: no check says what is left to do"


def test_every_lesson_and_exercise_is_opened_by_a_browser_test():
    """By path, or by name through the file browser, in some test file of this suite."""
    sources = "\n".join(p.read_text("utf-8") for p in HERE.glob("test_*.py"))
    opened = set(re.findall(r"(?:notebooks|exercises)/\d\d_\w+\.ipynb", sources))
    opened |= {
        f"{folder}/{name}"
        for folder, name in re.findall(r'open_from_file_browser\("(\w+)", "([\w.]+)"\)', sources)
    }
    opened |= {f"exercises/{name}.ipynb" for name in EXERCISES}
    notebooks = [
        f"{folder}/{p.name}"
        for folder in ("notebooks", "exercises")
        for p in sorted((ROOT / folder).glob("*.ipynb"))
    ]
    assert len(notebooks) >= 10, f"only {notebooks} under {ROOT}"
    missing = [path for path in notebooks if path not in opened]
    assert not missing, f"no browser test opens {missing}"
