"""Shared fixtures: one simulator per test session (cleared before each test), as
pytest-httpserver does, plus a factory for tests that need their own limits or key."""

from __future__ import annotations

import contextlib
import gc
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from course_simulator import Simulator

# The SDK, the simulator and nbformat (2 s: jsonschema compiles a URI grammar at import) are
# imported where a fixture needs them, not here: pytest-xdist's controller loads this file too,
# and it runs no test, so an import here would delay starting the workers.

# The longest tests (whole lessons in a kernel) are collected first. `make unit` hands tests to
# its workers one or two at a time (--maxschedchunk 1), so these start at once on every worker
# and the short ones fill in; a minute-long test collected last would hold up the end.
LONGEST_FIRST = ("test_live_mode.py", "test_learner_view.py", "test_instructor.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        long = item.get_closest_marker("slow") and item.path.name in LONGEST_FIRST
        return LONGEST_FIRST.index(item.path.name) if long else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the rest keep their order


def _assert_no_server_errors(sim: Simulator) -> None:
    errors = list(sim.server_errors)
    if errors:
        pytest.fail("the simulator raised inside its server thread:\n" + "\n".join(errors))


@pytest.fixture(scope="session")
def _session_sim() -> Iterator[Simulator]:
    from course_simulator import Simulator

    with Simulator(port=0) as sim:
        yield sim


@pytest.fixture
def sim(_session_sim: Simulator) -> Iterator[Simulator]:
    """The session's simulator, reset (log, faults, buckets) before each test."""
    _session_sim.reset()
    yield _session_sim
    _assert_no_server_errors(_session_sim)


@pytest.fixture(autouse=True)
def _clean_shared_simulator() -> Iterator[None]:
    """get_client()'s process-wide simulator, if a test started it: no faults or log carried
    from one test into the next, and no error raised inside it goes unseen."""
    from course_utils import client as course_client

    shared = course_client._shared
    if shared is not None and shared.running:
        shared.reset()
    yield
    shared = course_client._shared
    if shared is not None and shared.running:
        _assert_no_server_errors(shared)
        shared.reset()


@pytest.fixture(autouse=True)
def _private_spend_ledger(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    """Live-mode spend goes to a ledger of this test's own, never the learner's real one."""
    from course_utils import spend

    path = tmp_path_factory.mktemp("spend") / "spend.json"
    monkeypatch.setenv("COURSE_SPEND_LEDGER", str(path))
    monkeypatch.setattr(spend, "_guard", None)


@pytest.fixture
def make_sim() -> Iterator[Callable[..., Simulator]]:
    """Start a dedicated Simulator(**kwargs) for this test; stopped and checked afterwards."""
    started: list[Simulator] = []

    from course_simulator import Simulator

    def make(**kwargs: object) -> Simulator:
        s = Simulator(**kwargs).start()  # type: ignore[arg-type]
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()
    for s in started:
        _assert_no_server_errors(s)


class FakeClock:
    """A monotonic clock that moves only when a test says so."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock for rate-limit buckets that stands still until ``advance()``."""
    return FakeClock()


SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"


@pytest.fixture
def solution_from_notebook(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], Any]:
    """Load a reference solution from its notebook, the single source of each exercise.

    Runs the notebook's set-up cell and every cell holding a solution region, in order, then
    returns the named function.
    """
    monkeypatch.setenv("COURSE_BACKEND", "simulator")

    def load(notebook: str, name: str) -> Any:
        import nbformat

        nb = nbformat.read(SOLUTIONS / notebook, as_version=4)
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        namespace: dict[str, Any] = {}
        for source in [code[0], *(src for src in code[1:] if "### BEGIN SOLUTION" in src)]:
            exec(compile(source, notebook, "exec"), namespace)
        return namespace[name]

    return load


TEST_KEY = "sk-test-not-a-real-key-123456"  # fake, and never printed: tests assert it


def go_live(monkeypatch: pytest.MonkeyPatch, base_url: str, key: str = TEST_KEY) -> None:
    """COURSE_BACKEND=openai with the SDK's variables pointing at ``base_url``; cap $0.50, and
    the (test's own) ledger started again at $0."""
    monkeypatch.setenv("COURSE_BACKEND", "openai")
    monkeypatch.setenv("OPENAI_BASE_URL", base_url)
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("COURSE_BUDGET_USD", "0.50")
    reset_spend()


def reset_spend() -> None:
    from course_utils.client import reset_spend as reset

    reset()


@pytest.fixture
def live_env(monkeypatch, sim):
    """Live mode against a simulator."""
    go_live(monkeypatch, sim.base_url)
    yield sim
    reset_spend()


@pytest.fixture
def paid(monkeypatch):
    """Live mode against a fake *paid* server (``tests/paid_server.py``) that answers with the
    usage a test sets, and counts what arrives."""
    from paid_server import PaidServer  # a helper beside the tests

    with PaidServer() as server:
        go_live(monkeypatch, server.base_url)
        yield server


@contextlib.contextmanager
def warnings_as_errors() -> Iterator[None]:
    """Any warning the block raises is an error. An earlier test's garbage is collected first:
    a socket it left unclosed would warn from wherever the collector happened to run next."""
    gc.collect()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
