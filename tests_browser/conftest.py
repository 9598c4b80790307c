"""Fixtures for the browser suite: one JupyterLab per session, a fresh browser tab per test.

See labkit.py for the helpers a test uses through the ``lab`` fixture. `make browser` runs the
suite on two pytest-xdist workers: each is a session of its own (its JupyterLab, its Chromium),
so a test may change its server's settings (the theme) but must put them back. Tests are handed
out one at a time, longest first (``--maxschedchunk 1``), so both workers end together; the
JupyterLite site a worker needs is built once, under a lock, and cached (test_lite.py).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from labkit import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    VIEWPORT,
    LabPage,
    LabServer,
    lab_server,
)
from playwright.sync_api import Browser, sync_playwright

# A kernel start plus Run All of a lesson can pass pyproject's 120 s on a busy 2-core machine.
BROWSER_TEST_TIMEOUT_S = 300
# The order tests start in: files by their longest test (measured; the JupyterLite site's build
# and run is first), then the order a file lists its tests in (test_lessons.py: longest first).
FILE_ORDER = ["test_lite.py", "test_lessons.py", "test_notebooks.py", "test_lab.py"]


def pytest_configure(config: pytest.Config) -> None:
    """Empty the screenshots folder once per run (in the controller, not in each xdist worker:
    a worker starting late must not delete what another one saved)."""
    if not hasattr(config, "workerinput"):
        shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # the folder shows this run only


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(BROWSER_TEST_TIMEOUT_S))
    # Files in FILE_ORDER's order (a file not named there runs last): a worker that is free takes
    # the next test, so the long ones start early and the short ones fill in at the end.
    order = {name: i for i, name in enumerate(FILE_ORDER)}
    items.sort(key=lambda item: order.get(item.path.name, len(order)))


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """JupyterLab started exactly as `make lab` starts it, over a copy of the checkout."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: install it (`apt-get install chromium`) or set CHROMIUM"
        )
    with lab_server(tmp_path_factory.mktemp("lab")) as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def lab(server: LabServer, browser: Browser, request: pytest.FixtureRequest) -> Iterator[LabPage]:
    """A fresh tab with its own workspace; afterwards one screenshot per notebook it opened."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name).strip("-")
    context = browser.new_context(viewport=VIEWPORT)
    server.log_in(context)
    page = context.new_page()
    tab = LabPage(page=page, server=server, workspace=name)
    try:
        yield tab
    finally:
        try:
            if tab.opened:
                tab.screenshot_each_opened(name)
                tab.shut_down_kernels()
        finally:
            context.close()
