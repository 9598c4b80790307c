"""Lesson 05 in a real browser: Run All as a learner would, no error output, and the runner's
progress bar renders in JupyterLab as a live widget (tqdm.auto) with its ok / failed / retrying
counts, next to the throughput figure. Uses the helpers in labkit.py unchanged."""

from __future__ import annotations

from labkit import SLOW_MS, LabPage
from playwright.sync_api import expect


def test_the_mini_project_runs_with_progress_bars_and_its_figure(lab: LabPage):
    lab.open("notebooks/05_mini_project.ipynb")
    lab.run_all(timeout_ms=3 * SLOW_MS)  # several runs of the runner on a busy 2-core machine
    lab.assert_no_error_output()
    page = lab.page
    # tqdm.auto draws an ipywidgets progress bar (not text on stderr) for each run.
    bars = page.locator(".jp-OutputArea-output .widget-hprogress")
    expect(bars.first).to_be_visible(timeout=SLOW_MS)
    assert bars.count() >= 3
    counts = page.get_by_text("ok=180, failed=0, retrying=0").first
    expect(counts).to_be_visible()
    counts.scroll_into_view_if_needed()  # the screenshot shows a finished bar
    texts = [out.text for out in lab.outputs()]
    assert any("180 succeeded, 0 failed" in t for t in texts), texts
    assert any("lost 0, duplicated 0" in t for t in texts), texts
    expect(page.locator(".jp-OutputArea-output img").first).to_be_visible()
