"""The lessons in a real browser: JupyterLab in headless Chromium, driven by Playwright.

nbval proves every cell runs; this suite proves what a learner sees works: the PromptComparer
renders, its button sends both prompts and redraws, the model dropdown changes the cost, and the
token colouring shows. The notebooks are copied to a temporary folder first, so JupyterLab's
autosave can never write outputs into the repository. Needs Debian's chromium (`.ci/run`
installs it); run with `make test-browser`.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Flags for a sandboxed, offline machine: no first-run screens, no background connections.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SLOW_MS = 90_000  # a cold kernel start plus Run All on a busy 2-core machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A JupyterLab server on loopback over a throwaway copy of notebooks/."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: install it (`apt-get install chromium`) or set CHROMIUM"
        )
    work = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", work / "notebooks")
    port = free_port()
    env = dict(
        os.environ,
        COURSE_BACKEND="simulator",
        JUPYTER_RUNTIME_DIR=str(work / "runtime"),
        JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"),
    )
    lab = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
         f"--port={port}", "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=",
         "--ServerApp.password=", f"--ServerApp.root_dir={work}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2):
                    break
            except OSError:
                if lab.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not start on {url}") from None
                time.sleep(0.3)
        yield url
    finally:
        lab.terminate()
        lab.wait(timeout=30)


@pytest.fixture
def page(lab_url: str) -> Iterator[Page]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1000})
        finally:
            browser.close()


def open_and_run_all(page: Page, lab_url: str, notebook: str) -> None:
    """Open a lesson in a fresh workspace and choose Run > Run All Cells, as a learner would."""
    page.goto(f"{lab_url}/lab/workspaces/{notebook}/tree/notebooks/{notebook}.ipynb?reset")
    expect(page.locator(".jp-Notebook >> visible=true")).to_have_count(1, timeout=SLOW_MS)
    # Run All is a no-op until the kernel is connected: wait for the status bar to say Idle.
    idle = page.get_by_role("button", name=re.compile(r"ipykernel\) \| Idle"))
    expect(idle).to_be_visible(timeout=SLOW_MS)
    started = page.locator(".jp-InputPrompt", has_text=re.compile(r"\[(\*|\d+)\]"))
    for _ in range(3):
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_text("Run All Cells", exact=True).click()
        try:
            expect(started.first).to_be_attached(timeout=15_000)
            return
        except AssertionError:
            page.keyboard.press("Escape")  # close the menu if it is still open, then try again
    raise AssertionError(f"Run All Cells never started a cell in {notebook}")


def test_prompt_comparer_runs_both_prompts_and_follows_the_model(page: Page, lab_url: str):
    open_and_run_all(page, lab_url, "02_prompt_efficiency")
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

    comparer.locator("select").select_option("gpt-5.4-nano")
    button.click()
    expect(comparer.get_by_text("per 1,000)").first).not_to_have_text(cost_before, timeout=30_000)
    expect(comparer.get_by_text("⚠")).to_have_count(0)  # no error message in the widget


def test_token_boundaries_are_coloured(page: Page, lab_url: str):
    open_and_run_all(page, lab_url, "01_tokens")
    spans = page.locator(".jp-OutputArea-output span[title$='token']")
    expect(spans.first).to_be_visible(timeout=SLOW_MS)
    assert spans.count() >= 10  # the first sentence alone is 17 pieces
    expect(page.get_by_text("17 tokens, 80 characters").first).to_be_visible()
