"""Helpers for the browser suite: the course in real JupyterLab, driven in headless Chromium.

The server is started with the command `make lab` runs (read from `make lab-command`, so the two
cannot drift apart) over a throwaway copy of the repository, so JupyterLab's autosave never
writes outputs into the working tree. Only test-harness flags are added (a free loopback port,
no browser). It makes its own login token, as for a learner; each test's browser context logs in
with it (``LabServer.log_in``). Kernels import this checkout's ``course_utils`` and always use
the offline simulator.

Writing a test (the fixtures live in conftest.py)::

    def test_my_lesson(lab: LabPage):
        lab.open("notebooks/03_rate_limits_backoff.ipynb")   # a fresh workspace, like a bookmark
        lab.run_all()                                         # Run > Run All Cells, then idle
        lab.assert_no_error_output()                          # no traceback / stderr anywhere
        outs = lab.outputs()                                  # what each cell shows, as text
        assert "429" in outs[7].text
        lab.page.get_by_label("Clients").fill("4")           # Playwright for everything else

What ``LabPage`` offers:

- ``open(path)``: open a notebook by URL in a fresh workspace and wait for its kernel.
- ``open_start_page()``: the URL ``make lab`` opens in the learner's browser.
- ``open_from_file_browser("exercises", "02_retry_wrapper.ipynb")``: double-click each entry
  in JupyterLab's file browser, as a learner finds an exercise.
- ``file_browser_items()``: the names the file browser lists right now.
- ``run_all(timeout_ms=)``: Run > Run All Cells from the menu bar, then ``wait_idle``.
- ``wait_idle(timeout_ms=)``: no cell running (``[*]``) and the kernel idle, for half a second.
- ``outputs()``: one ``CellOutput`` per cell of the notebook on screen: its prompt, all the
  text its outputs show, and the text of its stderr outputs (tracebacks and warnings: the pink
  boxes a learner sees).
- ``assert_no_error_output(allowed_tags=("raises-exception",))``: no cell shows a traceback or
  stderr, except cells tagged ``raises-exception`` (the tag nbval and JupyterLab's Run All
  already honour for a cell that fails on purpose).
- ``set_theme("JupyterLab Dark")``: Settings > Theme, as a learner switches it.
- ``assert_accessible(selector)``: axe-core (``accessibility_violations``) finds no serious or
  critical violation inside the widget ``selector`` names (``.course-quiz``, ...).
- ``screenshot(name)``: save the browser window as ``tests_browser/screenshots/<name>.png``.
  Besides what a test saves, the ``lab`` fixture saves one screenshot per notebook a test
  opened, as it looked at the end of the test (pass or fail), named
  ``<test>--<notebook>.png``. The folder is git-ignored and emptied when a session starts.
- ``page``: the Playwright page, for widgets and anything else.

Chromium is Debian's (``CHROMIUM``, default ``/usr/bin/chromium``): Playwright never downloads
a browser of its own here.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

from playwright.sync_api import BrowserContext, Page, expect

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Flags that work in a sandboxed, offline container: no first-run screens, no background traffic.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 1000}
SLOW_MS = 90_000  # a cold kernel start plus Run All on a busy 2-core machine
# Only what the harness needs on top of `make lab`: where to listen, no browser.
HARNESS_FLAGS = ["--no-browser", "--ServerApp.ip=127.0.0.1"]
PANEL = "#jp-main-dock-panel .jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook on screen
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"  # make browser installs it
KERNEL_IDLE = re.compile(r"ipykernel\) \| Idle")


def lab_command() -> list[str]:
    """The command `make lab` runs, as argv, from `make lab-command` (nothing is installed)."""
    out = subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(ROOT), "lab-command"],
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("MAKE")},
    ).stdout
    argv = shlex.split(out.strip())
    if not argv or "lab" not in argv:
        raise RuntimeError(f"`make lab-command` printed {out!r}, not a `jupyter lab` command")
    if not os.path.isabs(argv[0]):  # .venv/bin/jupyter is relative to the repository
        argv[0] = str(ROOT / argv[0])
    return argv


def checkout_files(*under: str) -> list[str] | None:
    """What a fresh clone holds (tracked and new, not ignored files; only ``under`` these paths
    if given), relative to the repository, sorted; None outside a git checkout."""
    git = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *under],
        cwd=ROOT,
        capture_output=True,
    )
    if git.returncode != 0:
        return None
    listed = sorted(set(filter(None, git.stdout.decode().split("\0"))))
    # .venv is a symlink; deleted files linger in the index
    return [rel for rel in listed if not (ROOT / rel).is_symlink() and (ROOT / rel).is_file()]


def copy_checkout(dest: Path) -> None:
    """What a fresh clone holds (tracked and new, not ignored files), copied to ``dest``."""
    files = checkout_files()
    if files is None:  # not a git checkout (an unpacked archive): copy all but the junk
        junk = shutil.ignore_patterns(".*", "__pycache__", "*.egg-info", "build", "screenshots")
        shutil.copytree(ROOT, dest, ignore=junk, symlinks=True)
        return
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LabServer:
    """A running JupyterLab: its base URL, the served folder, the page `make lab` opens (with
    the login token in its query, as JupyterLab prints it) and the server's log."""

    url: str
    root: Path
    start_url: str
    command: list[str]
    log: Path

    @property
    def token(self) -> str:
        return parse_qs(urlsplit(self.start_url).query).get("token", [""])[0]

    def log_in(self, context: BrowserContext) -> None:
        """Give ``context`` the login cookie, as the start URL's ``?token=`` gives a learner."""
        context.request.get(f"{self.url}/api/status?token={self.token}").dispose()

    def forget_workspace(self, name: str = "default") -> None:
        """Delete the layout JupyterLab saved for workspace ``name`` (earlier tests' tabs), so
        the next visit finds it as on a server just started."""
        request = urllib.request.Request(
            f"{self.url}/lab/api/workspaces/{name}",
            method="DELETE",
            headers={"Authorization": f"token {self.token}"},
        )
        try:
            urllib.request.urlopen(request, timeout=30).close()
        except urllib.error.HTTPError as err:
            if err.code != 404:  # 404: never saved, nothing to forget
                raise


@contextmanager
def lab_server(work: Path) -> Iterator[LabServer]:
    """Start `make lab`'s command in a copy of the checkout under ``work``; stop it after.

    JupyterLab makes its own token, as for a learner, and prints its URL with ``?token=`` in
    the log (``work/jupyterlab.log``).
    """
    root = work / "course"
    copy_checkout(root)
    runtime = work / "runtime"
    port = free_port()
    command = [*lab_command(), *HARNESS_FLAGS, f"--port={port}"]
    env = {
        k: v
        for k, v in os.environ.items()
        # A learner sets none of these; MPLBACKEND=Agg (set for pytest) would hide inline plots.
        if k not in ("MPLBACKEND", "OPENAI_API_KEY", "OPENAI_BASE_URL", "JUPYTER_CONFIG_DIR")
    }
    env.update(
        COURSE_BACKEND="simulator",
        # This checkout's course_utils, whatever the shared venv's editable install points at.
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        # Private settings and state, so a developer's own JupyterLab set-up changes nothing.
        JUPYTER_CONFIG_DIR=str(work / "config"),
        JUPYTER_RUNTIME_DIR=str(runtime),
        JUPYTERLAB_SETTINGS_DIR=str(work / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"),
    )
    log_path = work / "jupyterlab.log"
    log = log_path.open("w")
    proc = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2):
                    break
            except urllib.error.HTTPError:  # 403 before login: it is up and answering
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"JupyterLab did not start on {url}; its log:\n"
                        + log_path.read_text(errors="replace")[-3000:]
                    ) from None
                time.sleep(0.3)
        yield LabServer(url, root, _start_url(runtime), command, log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _start_url(runtime: Path) -> str:
    """The page JupyterLab opens in the learner's browser: it writes it down for us too."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        # jpserver-file-to-run-PID-open.html when given a file, else jpserver-PID-open.html.
        pages = runtime.glob("jpserver-*-open.html")
        for html in sorted(pages, key=lambda p: "file-to-run" not in p.name):
            found = re.search(r'href="([^"]+)"', html.read_text())
            if found:
                return found.group(1).replace("&amp;", "&")
        time.sleep(0.2)
    raise RuntimeError(f"JupyterLab wrote no page to open in {runtime}")


@dataclass
class CellOutput:
    """What one cell shows under it: its prompt ('[3]:'), all output text, stderr parts."""

    index: int
    prompt: str
    text: str
    stderr: list[str]


@dataclass
class LabPage:
    """One browser tab on the course; see the module docstring for the helpers."""

    page: Page
    server: LabServer
    workspace: str
    opened: list[str] = field(default_factory=list)

    # --- opening notebooks ------------------------------------------------------------------

    def open(self, path: str) -> None:
        """Open ``path`` (relative to the repository) in a fresh workspace; wait for the kernel."""
        self.page.goto(f"{self.server.url}/lab/workspaces/{self.workspace}/tree/{path}?reset")
        self._wait_opened(path)

    def open_start_page(self) -> str:
        """Go where `make lab` sends the learner's browser; returns the notebook's path."""
        url = urlsplit(self.server.start_url)
        path = url.path.split("/lab/tree/", 1)[1]
        fresh = "&".join(filter(None, [url.query, "reset"]))  # a clean default workspace
        self.page.goto(urlunsplit(url._replace(query=fresh)))
        self._wait_opened(path)
        return path

    def open_from_file_browser(self, *names: str) -> str:
        """Double-click ``names`` in turn in the file browser, from its root (folders, a file)."""
        self.file_browser_home()
        for name in names:
            exact = re.compile(f"^\\s*{re.escape(name)}\\s*$")
            item = self.page.locator(".jp-FileBrowser .jp-DirListing-item").filter(
                has=self.page.locator(".jp-DirListing-itemText", has_text=exact)
            )
            expect(item).to_have_count(1, timeout=30_000)
            item.dblclick()
        path = "/".join(names)
        self._wait_opened(path)
        return path

    def file_browser_home(self) -> None:
        """Show the file browser at the served root (the repository), as its home icon does."""
        sidebar_tab = self.page.locator('.jp-SideBar [data-id="filebrowser"]')
        shown = "lm-mod-current" in (sidebar_tab.get_attribute("class") or "")
        if sidebar_tab.count() and not shown:
            sidebar_tab.click()
        crumbs = self.page.locator(".jp-FileBrowser .jp-BreadCrumbs")
        for attempt in range(3):  # a click that lands while the crumbs re-render is lost
            self.page.locator(".jp-FileBrowser .jp-BreadCrumbs-home").click()
            try:
                expect(crumbs).not_to_contain_text(re.compile(r"\w/"), timeout=5_000)
                return
            except AssertionError:
                if attempt == 2:
                    raise

    def file_browser_items(self) -> list[str]:
        """The names the file browser lists now (hidden files are not shown, as for a learner)."""
        items = self.page.locator(".jp-FileBrowser .jp-DirListing-item .jp-DirListing-itemText")
        expect(items.first).to_be_visible(timeout=30_000)
        return [t.strip() for t in items.all_inner_texts()]

    def _wait_opened(self, path: str) -> None:
        if path not in self.opened:
            self.opened.append(path)  # screenshot it at the end even if opening fails
        name = path.rsplit("/", 1)[-1]
        tab = self.page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current", has_text=name)
        expect(tab).to_be_visible(timeout=SLOW_MS)
        expect(self.page.locator(f"{PANEL} .jp-Notebook")).to_have_count(1, timeout=SLOW_MS)
        # Run All is a no-op until the kernel is connected: wait for the status bar to say Idle.
        expect(self.page.get_by_role("button", name=KERNEL_IDLE)).to_be_visible(timeout=SLOW_MS)

    # --- running ----------------------------------------------------------------------------

    def run_all(self, timeout_ms: int = SLOW_MS) -> None:
        """Run > Run All Cells, as a learner would, and wait until every cell has finished."""
        started = self.page.locator(
            f"{PANEL} .jp-InputPrompt", has_text=re.compile(r"\[(\*|\d+)\]")
        )
        for _ in range(3):
            self.page.get_by_role("menuitem", name="Run", exact=True).click()
            self.page.get_by_text("Run All Cells", exact=True).click()
            try:
                expect(started.first).to_be_attached(timeout=15_000)
                break
            except AssertionError:
                self.page.keyboard.press("Escape")  # close the menu if still open; try again
        else:
            raise AssertionError("Run All Cells never started a cell")
        self.wait_idle(timeout_ms)

    def wait_idle(self, timeout_ms: int = SLOW_MS) -> None:
        """Wait until no cell is running and the kernel says Idle, and the prompts stay so for
        half a second: Run All sends the cells one at a time, and between two of them nothing
        runs (on a loaded machine that gap once ended the wait a cell too early)."""
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            left_ms = max(1_000, (deadline - time.monotonic()) * 1000)
            self.page.wait_for_function(
                "(panel) => !!document.querySelector(panel) && !"
                + self._PROMPTS_JS
                + ".some(text => text.includes('*'))",
                arg=PANEL,
                timeout=left_ms,
            )
            expect(self.page.get_by_role("button", name=KERNEL_IDLE)).to_be_visible(timeout=left_ms)
            before = self.page.evaluate("(panel) => " + self._PROMPTS_JS, PANEL)
            self.page.wait_for_timeout(500)
            if self.page.evaluate("(panel) => " + self._PROMPTS_JS, PANEL) == before:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the cells never settled within {timeout_ms / 1000:.0f} s")

    # The text of each input prompt in the notebook on screen ("[3]:", "[*]:", "[ ]:").
    _PROMPTS_JS = (
        "[...(document.querySelector(panel)?.querySelectorAll('.jp-InputPrompt') ?? [])]"
        ".map(e => e.textContent)"
    )

    # --- reading what the learner sees ------------------------------------------------------

    def outputs(self) -> list[CellOutput]:
        """One entry per cell of the notebook on screen, in order, scrolled into view or not."""
        # textContent, not innerText: JupyterLab skips rendering cells off screen
        # (content-visibility: auto), and innerText is empty for those.
        cells = self.page.evaluate(
            """([panel, stderr]) => {
                const textOf = (el) => {
                    const copy = el.cloneNode(true);
                    copy.querySelectorAll('style, script').forEach(e => e.remove());
                    return copy.textContent;
                };
                return [...document.querySelectorAll(`${panel} .jp-Notebook .jp-Cell`)]
                    .map((cell, index) => ({
                        index,
                        prompt: (cell.querySelector('.jp-InputPrompt')?.textContent || '').trim(),
                        text: [...cell.querySelectorAll('.jp-OutputArea-output')]
                            .map(textOf).join('\\n'),
                        stderr: [...cell.querySelectorAll(stderr)].map(textOf),
                    }));
            }""",
            [PANEL, STDERR],
        )
        return [CellOutput(**c) for c in cells]

    def current_path(self) -> str:
        """The path of the notebook on screen (the most recently opened one showing)."""
        name = self.page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current").inner_text()
        for path in reversed(self.opened):
            if path.rsplit("/", 1)[-1] == name.strip():
                return path
        raise AssertionError(f"the notebook on screen ({name!r}) was not opened by a helper")

    def assert_no_error_output(self, allowed_tags: tuple[str, ...] = ("raises-exception",)) -> None:
        """No traceback or stderr under any cell, except in cells carrying an allowed tag."""
        path = self.current_path()
        cells = json.loads((self.server.root / path).read_text("utf-8"))["cells"]
        shown = self.outputs()
        assert len(shown) == len(cells), (
            f"{path}: {len(shown)} cells on screen but {len(cells)} in the file"
        )
        bad = [
            f"cell {out.index} {out.prompt}\n" + "\n".join(s[:800] for s in out.stderr)
            for out, cell in zip(shown, cells, strict=True)
            if out.stderr and not set(allowed_tags) & set(cell.get("metadata", {}).get("tags", []))
        ]
        assert not bad, f"{path} shows error output:\n\n" + "\n\n".join(bad)

    def assert_learner_view(self) -> None:
        """What a learner sees is right: no error output (above), no figure printed as text
        (`<Figure size ...>` instead of a chart) and no math rendered inside a table (JupyterLab
        pairs unescaped `$` signs, even across table rows, and typesets what lies between)."""
        self.assert_no_error_output()
        path = self.current_path()
        as_text = [o.index for o in self.outputs() if re.search(r"<Figure size \d", o.text)]
        assert not as_text, f"{path}: cells {as_text} print a figure as text instead of drawing it"
        math_in_tables = self.page.evaluate(
            """(panel) => [...document.querySelectorAll(`${panel} .jp-Cell`)]
                .map((cell, i) => [i, cell.querySelectorAll(
                    'table mjx-container, table .MathJax, table .katex').length])
                .filter(([, n]) => n > 0).map(([i]) => i)""",
            PANEL,
        )
        assert not math_in_tables, f"{path}: cells {math_in_tables} show math inside a table"

    def accessibility_violations(self, selector: str) -> list[str]:
        """axe-core's serious and critical findings inside ``selector`` (each element it matches),
        as readable lines; axe-core is the npm package in tests_browser/node_modules."""
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.add_script_tag(path=str(AXE))
        found = self.page.evaluate(
            """async (selector) => {
                const out = [];
                for (const el of document.querySelectorAll(selector)) {
                    const r = await axe.run(el, {resultTypes: ['violations']});
                    for (const v of r.violations) {
                        if (v.impact !== 'serious' && v.impact !== 'critical') continue;
                        for (const n of v.nodes) out.push(`${v.id} (${v.impact}): ${n.target}`);
                    }
                }
                return out;
            }""",
            selector,
        )
        return list(found)

    def set_theme(self, name: str) -> None:
        """Settings > Theme > ``name`` (e.g. "JupyterLab Dark"), as a learner switches it."""
        menus = self.page.locator(".lm-Menu")
        try:
            self.page.get_by_role("menuitem", name="Settings", exact=True).click()
            menus.get_by_text("Theme", exact=True).first.hover()
            menus.get_by_text(name, exact=True).first.click()
        finally:
            self.page.keyboard.press("Escape")  # never leave a menu open over the page
        light = "false" if "Dark" in name else "true"
        expect(self.page.locator(f'body[data-jp-theme-light="{light}"]')).to_be_attached(
            timeout=30_000
        )
        # JupyterLab names the theme on <body> once its style sheet has loaded; then wait for
        # any colour transition to end, so what axe or a screenshot reads is the final colour.
        self.page.wait_for_function(
            """(name) => document.body.dataset.jpThemeName === name
                && !document.getAnimations().some(a => a instanceof CSSTransition)""",
            arg=name,
            timeout=30_000,
        )

    def assert_accessible(self, selector: str) -> None:
        """axe-core finds nothing serious or critical in the widget(s) ``selector`` matches
        (at least one must be on the page: an audit of nothing proves nothing)."""
        expect(self.page.locator(selector).first).to_be_attached(timeout=SLOW_MS)
        found = self.accessibility_violations(selector)
        assert not found, f"{selector}: {len(found)} serious/critical axe findings:\n" + "\n".join(
            found
        )

    def screenshot(self, name: str) -> Path:
        """Save the window as screenshots/<name>.png (the folder is git-ignored)."""
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name).strip('_')}.png"
        self.page.screenshot(path=str(path))
        return path

    def screenshot_each_opened(self, prefix: str) -> list[Path]:
        """One screenshot per notebook opened, each brought to the front first."""
        saved = []
        self.page.keyboard.press("Escape")  # a menu left open by a failed step covers the tabs
        for path in self.opened:
            name = path.rsplit("/", 1)[-1]
            tab = self.page.locator("#jp-main-dock-panel .lm-TabBar-tab", has_text=name)
            if tab.count() == 1:
                tab.click()
            saved.append(self.screenshot(f"{prefix}--{Path(path).stem}"))
        return saved

    def shut_down_kernels(self) -> None:
        """Stop every kernel the server runs, so the next test starts from fresh ones."""
        self.page.evaluate(
            """async () => {
                const found = document.cookie.match(/_xsrf=([^;]+)/);
                const xsrf = found ? decodeURIComponent(found[1]) : '';
                const sessions = await (await fetch('/api/sessions')).json();
                for (const s of sessions) {
                    await fetch(`/api/sessions/${s.id}`,
                                {method: 'DELETE', headers: {'X-XSRFToken': xsrf}});
                }
            }"""
        )
