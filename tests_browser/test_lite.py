"""The course in a browser tab: the JupyterLite site `make lite` builds, run in headless Chromium.

One site is built per session (``lite/build.py``: npm's Pyodide, PyPI's wheels, a wheel of this
project) and served on loopback; every request that would leave loopback is aborted, so nothing
comes from a CDN: numpy and matplotlib are missing on purpose and the lessons run without their
plots (``%matplotlib`` lines, the figure functions' imports and the statements that draw are
left out; nothing else is changed). The kernel is the site's own REPL, fed the notebooks' code
cells one by one from the site's copies, so their first cell is the one a learner runs in the
browser (install the course, ``prepare_browser()``, the banner).

The site is cached in lite/_build/test-site/ (git-ignored) under a digest of everything it is
built from (lite/, the project's code and metadata, the notebooks and exercises): a run with
none of them changed reuses it, any change builds it again. Set LITE_SITE to a site already
built (``make lite`` writes lite/_site) to use that one instead.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock
from labkit import SCREENSHOTS, checkout_files
from playwright.sync_api import Browser, Page, Route
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

ROOT = Path(__file__).resolve().parents[1]
RUN_TIMEOUT_S = 900  # a kernel start, the course's install and five notebooks in WebAssembly
DONE = "LITE-RUN-DONE"
FIGURE_CALL = re.compile(r"\b(\w+_figure|RetryTimeline)\(")  # what draws with matplotlib
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'

pytestmark = pytest.mark.timeout(RUN_TIMEOUT_S + 300)


SITE_INPUTS = ("lite", "pyproject.toml", "README.md", "course_utils", "course_simulator",
               "course_checks", "notebooks", "exercises")  # fmt: skip
SITE_CACHE = ROOT / "lite" / "_build" / "test-site"


def files_digest(root: Path, files: list[str]) -> str:
    """A short digest of ``files`` (relative to ``root``): their names and their bytes."""
    digest = hashlib.sha256()
    for rel in files:
        digest.update(rel.encode() + b"\0" + (root / rel).read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def site_key() -> str | None:
    """The digest of the files the site is built from; None outside a git checkout."""
    files = checkout_files(*SITE_INPUTS)
    return None if files is None else files_digest(ROOT, files)


def build_site(out: Path, work: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "lite" / "build.py"), "--out", str(out), "--work", str(work)],
        check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.fixture(scope="session")
def lite_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site: LITE_SITE if set, else the cached build of these inputs, built (offline but
    for the registries, npm and PyPI) when there is none."""
    given = os.environ.get("LITE_SITE")
    if given:
        return Path(given)
    try:
        import jupyterlite_core  # noqa: F401
    except ImportError:
        pytest.fail("jupyterlite-core is missing: pip install -r lite/requirements-build.txt")
    work = tmp_path_factory.mktemp("lite")
    key = site_key()
    if key is None:  # not a git checkout: no way to know what changed, build afresh
        build_site(work / "site", work / "build")
        return work / "site"
    site = SITE_CACHE / key
    SITE_CACHE.mkdir(parents=True, exist_ok=True)
    with FileLock(SITE_CACHE / "build.lock"):  # another run building the same site: wait
        if not site.is_dir():
            partial = SITE_CACHE / f"{key}.partial"
            for old in SITE_CACHE.iterdir():  # one site kept: each is ~100 MB
                if old.is_dir():
                    shutil.rmtree(old)
            build_site(partial, work / "build")
            partial.rename(site)  # whole or absent, even if a run is killed
    return site


@pytest.fixture(scope="session")
def site_url(lite_site: Path) -> Iterator[str]:
    """The site served on a free loopback port, as any static host would serve it."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(lite_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


# --- the notebooks' code, without their plots -------------------------------------------------


def without_plots(source: str) -> str:
    """``source`` with its drawing left out: ``%matplotlib`` lines, ``*_figure`` and
    ``RetryTimeline`` in imports, and every top-level statement that calls one of them."""
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith("%matplotlib")]
    lines = [ln for ln in lines if not re.fullmatch(r"\s+(\w+_figure|RetryTimeline),", ln)]
    lines = [
        re.sub(r"\b(\w+_figure|RetryTimeline), ", "", ln) if ln.startswith("from ") else ln
        for ln in lines
    ]
    text = "\n".join(lines)
    if not FIGURE_CALL.search(text):
        return text
    tree = ast.parse(text)  # a cell that draws has no other IPython syntax in the course
    drop = {
        n for stmt in tree.body if FIGURE_CALL.search(ast.get_source_segment(text, stmt) or "")
        for n in range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1)
    }  # fmt: skip
    return "\n".join(ln for i, ln in enumerate(text.splitlines(), 1) if i not in drop)


@dataclass
class Cell:
    source: str


def code_cells(notebook: Path, *, core_only: bool) -> list[Cell]:
    """The notebook's code cells (``core_only``: up to "Going further" or "Homework")."""
    cells = []
    for cell in json.loads(notebook.read_text("utf-8"))["cells"]:
        source = "".join(cell["source"])
        if (
            core_only
            and cell["cell_type"] == "markdown"
            and re.search(r"^#+ (Going further|Homework)", source, re.MULTILINE)
        ):
            break
        if cell["cell_type"] == "code":
            assert "raises-exception" not in cell.get("metadata", {}).get("tags", []), (
                f"{notebook.name}: the REPL stops at an error, so a core cell may not raise"
            )
            code = without_plots(source)
            if code.strip():
                cells.append(Cell(code))
    return cells


# --- running code in the site's REPL ----------------------------------------------------------


@dataclass
class Output:
    text: str
    error: bool


def run_in_browser(
    browser: Browser, url: str, cells: list[Cell], then: Callable[[Page], None] | None = None
) -> tuple[list[Output], list[str]]:
    """Run ``cells`` in turn in a fresh REPL of the site; each one's output, and every request
    that tried to leave loopback (all aborted). ``then`` acts on the page once they have run
    (one Pyodide start serves both: it costs a core for about ten seconds)."""
    left: list[str] = []

    def only_loopback(route: Route) -> None:
        target = route.request.url
        if target.startswith((url, "data:", "blob:")):
            route.continue_()
        else:
            left.append(target)
            route.abort()

    context = browser.new_context()
    try:
        context.route("**/*", only_loopback)
        page = context.new_page()
        codes = [cell.source for cell in cells] + [f"print({DONE!r})"]
        query = "&".join("code=" + urllib.parse.quote(code) for code in codes)
        page.goto(f"{url}/repl/index.html?kernel=python&toolbar=1&{query}&execute=1")
        outputs = page.locator(".jp-CodeConsole-content .jp-Cell .jp-OutputArea-output")
        try:  # until the last cell prints DONE, or a cell errs (the REPL runs no further cell)
            page.wait_for_function(
                """([done, stderr]) => {
                    const cells = '.jp-CodeConsole-content .jp-Cell';
                    return !!document.querySelector(`${cells} ${stderr}`)
                        || [...document.querySelectorAll(`${cells} .jp-OutputArea-output`)]
                            .some(o => o.textContent.includes(done));
                }""",
                arg=[DONE, STDERR],
                polling=250,  # the kernel runs in a worker: keep the page's thread mostly idle
                timeout=RUN_TIMEOUT_S * 1000,
            )
        except PlaywrightTimeoutError:
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "lite-timeout.png"))
            raise AssertionError(
                f"the REPL did not finish in {RUN_TIMEOUT_S} s; the last outputs:\n"
                + "\n---\n".join(outputs.all_text_contents()[-5:])[-3000:]
            ) from None
        shown = page.evaluate(
            """(stderr) => [...document.querySelectorAll('.jp-CodeConsole-content .jp-Cell')]
                .filter(cell => cell.querySelector('.jp-InputArea'))
                .map(cell => ({
                    text: [...cell.querySelectorAll('.jp-OutputArea-output')]
                        .map(o => o.textContent).join('\\n'),
                    error: !!cell.querySelector(stderr),
                }))""",
            STDERR,
        )
        if then is not None:
            then(page)
    finally:
        context.close()
    return [Output(**o) for o in shown][-len(codes) :], left


def lesson(site: Path, name: str, *, core_only: bool = True) -> list[Cell]:
    return code_cells(site / "files" / "notebooks" / name, core_only=core_only)


def test_the_cached_site_is_rebuilt_when_any_input_changes(tmp_path: Path) -> None:
    """The cache key follows every byte and every name of the inputs (plain Python, no site)."""
    (tmp_path / "lite").mkdir()
    (tmp_path / "lite" / "wheels.txt").write_text("openai==3.54.0\n")
    (tmp_path / "a.py").write_text("x = 1\n")
    files = ["a.py", "lite/wheels.txt"]
    key = files_digest(tmp_path, files)
    assert files_digest(tmp_path, files) == key  # the same inputs: the cached site is reused
    (tmp_path / "lite" / "wheels.txt").write_text("openai==3.55.0\n")
    changed_pin = files_digest(tmp_path, files)
    (tmp_path / "a.py").rename(tmp_path / "c.py")
    renamed = files_digest(tmp_path, ["c.py", "lite/wheels.txt"])
    assert len({key, changed_pin, renamed}) == 3
    tracked = checkout_files(*SITE_INPUTS)
    if tracked is not None:  # in a git checkout: the inputs are the build's, and they exist
        assert "lite/build.py" in tracked and "lite/wheels.txt" in tracked
        assert any(rel.startswith("course_utils/") for rel in tracked)
        assert any(rel.startswith("notebooks/") for rel in tracked)


def assert_every_notebook_installs_the_course(lite_site: Path) -> None:
    for notebook in sorted((lite_site / "files").glob("*/*.ipynb")):
        cells = json.loads(notebook.read_text("utf-8"))["cells"]
        first = "".join(next(c for c in cells if c["cell_type"] == "code")["source"])
        assert "%pip install course-utils" in first and "prepare_browser()" in first, notebook
    courses = list((lite_site / "pypi").glob("course_utils-*.whl"))
    assert len(courses) == 1, "the course's own wheel is not in the site's package index"


def test_lessons_exercise_2_and_the_quiz_run_in_a_browser_tab(
    lite_site: Path, site_url: str, browser: Browser
) -> None:
    """Lessons 00-04's core, exercise 2 with a right and a wrong answer, then lesson 07, whose
    quiz is answered from the keyboard in the same tab (see quiz_by_keyboard)."""
    # One test uses the site, so no second worker waits on the lock while the first builds it.
    assert_every_notebook_installs_the_course(lite_site)
    assert (lite_site / "extensions" / "anywidget" / "package.json").exists()  # the quiz's widgets
    parts = {
        "00": lesson(lite_site, "00_start_here.ipynb", core_only=False),
        "01": lesson(lite_site, "01_tokens.ipynb"),
        "02": lesson(lite_site, "02_prompt_efficiency.ipynb"),
        "03": lesson(lite_site, "03_rate_limits_backoff.ipynb"),
        "04": lesson(lite_site, "04_error_handling.ipynb"),
        "ex2": exercise_2(),
        "07": lesson(lite_site, "07_wrap_up.ipynb"),
    }
    cells = [cell for part in parts.values() for cell in part]
    outputs, left = run_in_browser(browser, site_url, cells, then=quiz_by_keyboard)
    assert len(outputs) == len(cells) + 1  # and the last: DONE
    errors = [
        f"cell {i}:\n{cell.source[:300]}\n--> {out.text[-1500:]}"
        for i, (cell, out) in enumerate(zip(cells, outputs[:-1], strict=True))
        if out.error
    ]
    assert not errors, "\n\n".join(errors)
    texts, start = {}, 0
    for name, part in parts.items():
        texts[name] = "\n".join(o.text for o in outputs[start : start + len(part)])
        start += len(part)
    # nothing reached the network: the only requests that tried were Pyodide's CDN (plots)
    assert left and all(u.startswith("https://cdn.jsdelivr.net/pyodide/") for u in left), left

    first = outputs[0].text
    assert "course simulator inside this browser tab" in first
    assert "cannot start threads" in first
    assert "Plots are off" in first  # offline on purpose: the CDN is unreachable
    assert re.search(r"input: +\d+ tokens", texts["00"])
    assert re.search(r"total: +\d+ tokens, \$0\.\d+", texts["00"])

    assert re.search(r"[\d,]+-token handbook -> [2-9]\d* requests", texts["01"])  # chunked
    assert "local count matches: True" in texts["01"]  # count_message_tokens vs the server
    assert "refused: HTTP 400, code 'context_length_exceeded'" in texts["01"]
    assert re.search(r"within the 1,500 budget: True", texts["01"])

    assert re.search(r"\d+ served and [1-9]\d* refused", texts["03"])  # the burst hit 429s
    assert re.search(r"SDK max_retries=0: \d+ requests", texts["03"])

    assert "RateLimitError" in texts["04"]

    assert "✅ PASS" in texts["ex2"]
    assert "❌ FAIL" in texts["ex2"]


def exercise_2() -> list[Cell]:
    """Exercise 2 with the reference answer (its check passes), then a wrong one (it fails).
    From solutions/: the site ships the exercise with blanks; the kernel has the course already."""
    from course_checks._commands import _solution_from_notebook

    cells = code_cells(ROOT / "solutions" / "02_retry_wrapper.ipynb", core_only=True)
    solution = _solution_from_notebook(
        ROOT / "solutions" / "02_retry_wrapper.ipynb", "generate_with_retry"
    )
    assert solution is not None
    wrong = solution.replace("return response.output_text", "return ''")
    return [*cells, Cell(wrong + '\n\ncheck("generate_with_retry", generate_with_retry)')]


def quiz_by_keyboard(page: Page) -> None:
    """The quiz's option groups are anywidget modules: the site carries anywidget's lab
    extension, the tab's kernel installs anywidget and psygnal from the site, and a pick made
    with the keyboard is graded and read out, as in JupyterLab (tests_browser/test_lessons.py)."""
    from playwright.sync_api import expect

    from course_utils.quiz import QUESTIONS

    q = QUESTIONS[0]
    named = {"name": f"1. {q.prompt}", "exact": True}
    group = page.get_by_role("radiogroup", **named)
    expect(group).to_be_visible(timeout=60_000)
    expect(group.get_by_role("radio")).to_have_count(len(q.options))
    for number, other in enumerate(QUESTIONS, start=1):
        role = {"choice": "radiogroup", "multi": "group"}.get(other.kind)
        if role:
            named_by = f"{number}. {other.prompt}"
            expect(page.get_by_role(role, name=named_by, exact=True)).to_have_count(1)
    group.get_by_role("radio").first.focus()
    for _ in range(q.correct[0]):
        page.keyboard.press("ArrowDown")
    expect(group.get_by_role("radio").nth(q.correct[0])).to_be_checked()
    page.keyboard.press("Tab")  # one stop for the group: next is its Check button
    row = page.locator(".widget-vbox", has=page.get_by_role("radiogroup", **named)).last
    check = row.get_by_role("button", name="Check answer 1")
    expect(check).to_be_focused()
    check.click()  # the REPL's console keeps Enter for itself (a notebook does not)
    expect(row.get_by_role("status")).to_contain_text("Correct:", timeout=60_000)
    expect(page.get_by_text("1 of 11 correct (1 answered)")).to_be_visible()
    row.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "lite-quiz.png"))
    assert not page.locator(STDERR).count(), page.locator(STDERR).all_text_contents()
