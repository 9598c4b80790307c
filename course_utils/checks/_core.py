"""The exercise-check framework: declarations, outcome exceptions, and the one place they render.

Declare an exercise in its family's module (``course_utils/checks/<family>.py``)::

    from ._core import Incorrect, exercise, run_learner

    @exercise(
        "count_words",                        # the learner's function name, used by check()
        hints=(
            "Split the text on whitespace with str.split().",   # hint 1: a nudge
            "Return len(...) of that list, an int.",            # hint 2: closer
        ),
        solution_notebook="01_prompts.ipynb",  # solutions/<file>; solution() shows its region
    )
    def _count_words(fn):
        run = run_learner(fn, "three small words")    # NotImplementedError -> "not started yet"
        run.raise_unexpected()                        # any other exception -> a clear ❌
        if run.value != 3:
            raise Incorrect(f"`{fn.__name__}('three small words')` returned {run.value!r}", 2)

A checker passes by returning (optionally a one-line praise string) and fails by raising
``Incorrect(message, hint_level)``; it never prints. Messages name the learner's function and
describe the behaviour seen, never the answer. For exercises that call the API, ``sim_run``
calls the learner's function against a fresh course simulator with scripted faults and records
the requests that arrived and the delays passed to ``sleep=``, so a check judges behaviour and
never waits real seconds. Then add the module's name to ``EXERCISE_MODULES`` in ``__init__.py``.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "EXERCISES",
    "LEARNER_TIME_LIMIT_S",
    "SIM_HOLD_MAX_S",
    "SOLUTIONS_DIR",
    "CheckResult",
    "CourseBug",
    "Exercise",
    "Incorrect",
    "LearnerRun",
    "NotStarted",
    "Outcome",
    "SimRun",
    "assert_fails",
    "assert_passes",
    "check",
    "exercise",
    "get_exercise",
    "hint",
    "raise_server_errors",
    "run_learner",
    "sim_run",
    "solution",
]

SOLUTIONS_DIR = Path(__file__).resolve().parents[2] / "solutions"
# A check's simulator drops a held ('timeout' fault) request after this long, so a learner who
# passes their own `timeout=30` still sees the request fail quickly instead of the check stalling.
SIM_HOLD_MAX_S = 1.0
LEARNER_TIME_LIMIT_S = 20.0  # a check gives up on a learner call after this long (real time)
_QUIET_LOGGERS = ("httpx", "httpcore", "openai", "course_utils.simulator")


# --- outcomes ---------------------------------------------------------------------------------


class Outcome(Exception):
    """Base of the exceptions a checker raises to report a result other than a pass."""


class NotStarted(Outcome):
    """The learner has not written the function yet (it raises NotImplementedError)."""


class CourseBug(Outcome):
    """The course's own machinery (the simulator) failed: report it, never blame the learner."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Incorrect(Outcome):
    """The function runs but behaves wrongly; ``hint_level`` is the hint that helps most."""

    def __init__(self, message: str, hint_level: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint_level = hint_level


@dataclass
class CheckResult:
    """What ``check()`` found: ``passed``, the ``messages`` it printed, and the hint it suggests."""

    name: str
    passed: bool
    status: str  # "passed" | "incorrect" | "not_started" | "error" | "course_bug"
    messages: list[str] = field(default_factory=list)
    hint_level: int | None = None

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return "\n".join(self.messages)

    def _ipython_display_(self) -> None:
        """Show nothing more in Jupyter: ``check()`` has already printed the outcome."""


# --- declarations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Exercise:
    """One exercise: its name, numbered hints, a checker, and where its solution lives."""

    name: str
    hints: tuple[str, ...]
    checker: Callable[[Callable[..., Any]], str | None]
    solution_notebook: str | None = None
    solution_snippet: str | None = None


EXERCISES: dict[str, Exercise] = {}
_revealed: dict[str, int] = {}


def exercise(
    name: str,
    *,
    hints: Sequence[str],
    solution_notebook: str | None = None,
    solution: str | None = None,
) -> Callable[[Callable[[Callable[..., Any]], str | None]], Callable[..., str | None]]:
    """Decorator that registers a checker under the learner's function name."""
    if not hints or not all(isinstance(h, str) and h.strip() for h in hints):
        raise ValueError(f"exercise {name!r} needs at least one non-empty hint")
    if solution_notebook is None and solution is None:
        raise ValueError(f"exercise {name!r} needs solution_notebook= or solution=")

    def register(checker: Callable[[Callable[..., Any]], str | None]) -> Callable[..., Any]:
        if name in EXERCISES and EXERCISES[name].checker is not checker:
            raise ValueError(f"exercise {name!r} is declared twice")
        EXERCISES[name] = Exercise(name, tuple(hints), checker, solution_notebook, solution)
        return checker

    return register


def get_exercise(name: object) -> Exercise:
    """The declared exercise called ``name``, or a ValueError listing the ones that exist."""
    fn_name = getattr(name, "__name__", None)
    if callable(name) and fn_name in EXERCISES:
        name = fn_name  # hint(generate_with_retry) works as well as the name
    if isinstance(name, str) and name in EXERCISES:
        return EXERCISES[name]
    known = ", ".join(repr(n) for n in sorted(EXERCISES)) or "(none)"
    raise ValueError(
        f"there is no exercise called {name!r}; the exercises are {known}. "
        "Pass the exercise function's own name as a string, e.g. "
        'check("generate_with_retry", generate_with_retry).'
    )


# --- running the learner's code ---------------------------------------------------------------


@dataclass
class LearnerRun:
    """One call of the learner's function: what it returned or raised."""

    fn_name: str
    value: Any = None
    error: BaseException | None = None

    @property
    def raised(self) -> bool:
        """True when the call ended with an exception."""
        return self.error is not None

    def raise_unexpected(self, allowed: tuple[type[BaseException], ...] = ()) -> None:
        """Turn an exception the exercise does not expect into an Incorrect naming it."""
        if self.error is not None and not isinstance(self.error, allowed):
            raise Incorrect(
                f"`{self.fn_name}` raised {describe_exception(self.error)}. Run it on its own "
                "in a cell to see the traceback, fix it, then check again."
            )


def describe_exception(exc: BaseException) -> str:
    """``TypeError: message`` in one line (without a traceback)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _fn_name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


def run_learner(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> LearnerRun:
    """Call the learner's function in a watchdog thread, capturing its value or exception."""
    run = LearnerRun(_fn_name(fn))

    def target() -> None:
        try:
            run.value = fn(*args, **kwargs)
        except BaseException as exc:  # the learner's code may raise anything
            run.error = exc

    thread = threading.Thread(target=target, daemon=True, name=f"check:{run.fn_name}")
    thread.start()
    thread.join(LEARNER_TIME_LIMIT_S)
    if thread.is_alive():
        raise Incorrect(
            f"`{run.fn_name}` did not finish within {LEARNER_TIME_LIMIT_S:.0f} s: a request "
            "never returned or its loop never stopped. Wait only with the `sleep=` argument it "
            "was given (the check passes one that returns at once), do not override the "
            "client's timeout (e.g. `timeout=` in `responses.create`), and make the loop stop."
        )
    if isinstance(run.error, NotImplementedError):
        raise NotStarted()
    if isinstance(run.error, TypeError) and "argument" in str(run.error):
        run.raise_unexpected()
    return run


@dataclass
class SimRun(LearnerRun):
    """A learner call against the simulator: the value/error plus the requests and delays."""

    requests: list[Any] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    log_records: list[logging.LogRecord] = field(default_factory=list)

    @property
    def attempts(self) -> int:
        """How many requests reached the server."""
        return len(self.requests)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(_QUIET_LOGGERS):
            self.records.append(record)


@contextmanager
def _captured_logs() -> Iterator[_Capture]:
    """Collect the learner's log records (INFO and up) without printing them."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    capture = _Capture()
    root.handlers[:] = [capture]
    root.setLevel(logging.INFO)
    try:
        yield capture
    finally:
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])


@contextmanager
def _seeded_random(seed: int) -> Iterator[None]:
    """Seed the global ``random`` for one call (checks are reproducible), then restore it."""
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


def raise_server_errors(sim: Any) -> None:
    """Turn an internal simulator error into a CourseBug, so the learner is never blamed for it."""
    errors = list(getattr(sim, "server_errors", None) or ())
    if errors:
        last = str(errors[-1]).strip().splitlines()
        raise CourseBug(
            "the course simulator hit an internal error — not your fault; please report: "
            f"{last[-1] if last else 'unknown error'} ({len(errors)} error(s))"
        )


def sim_run(
    sim: Any,
    fn: Callable[..., Any],
    faults: Iterable[str | None] = (),
    *,
    seed: int = 0,
    timeout_s: float = 5.0,
    prompt: str = "Explain in one sentence why retries need a cap.",
    **kwargs: Any,
) -> SimRun:
    """Reset ``sim``, script ``faults``, call ``fn(client, prompt, sleep=..., **kwargs)``."""
    sim.reset()
    sim.queue_faults(list(faults))
    client = sim.client(max_retries=0, timeout=timeout_s)
    delays: list[float] = []
    try:
        with _captured_logs() as capture, _seeded_random(seed):
            base = run_learner(fn, client, prompt, sleep=delays.append, **kwargs)
    finally:
        client.close()
        raise_server_errors(sim)
    return SimRun(base.fn_name, base.value, base.error, sim.requests, list(delays), capture.records)


# --- the learner's commands -------------------------------------------------------------------


def _render(result: CheckResult) -> None:
    """The one place outcomes become text."""
    print("\n".join(result.messages))


def _evaluate(name: str, obj: Any) -> CheckResult:
    ex = get_exercise(name)
    if obj is None or obj is Ellipsis:
        return CheckResult(
            name, False, "not_started", [f"⏳ `{name}` is not started yet: write it, then check."]
        )
    if not callable(obj):
        return CheckResult(
            name,
            False,
            "incorrect",
            [f"❌ `{name}` should be a function, but check() was given {type(obj).__name__}."],
        )
    fn_name = _fn_name(obj)
    try:
        praise = ex.checker(obj)
    except NotStarted:
        return CheckResult(
            name,
            False,
            "not_started",
            [
                f"⏳ `{fn_name}` is not started yet (it raises NotImplementedError). "
                "Replace the TODO with your code, run the cell, then check again."
            ],
        )
    except CourseBug as bug:
        return CheckResult(name, False, "course_bug", [f"⚠️ {bug.message}"])
    except Incorrect as wrong:
        lines = [f"❌ {wrong.message}"]
        if wrong.hint_level is not None:
            lines.append(f'   Stuck? hint("{name}", {wrong.hint_level}) points the way.')
        return CheckResult(name, False, "incorrect", lines, wrong.hint_level)
    except Exception as exc:  # a fault in the checker itself, never the learner's
        return CheckResult(
            name,
            False,
            "error",
            [
                f"❌ The check for `{name}` itself failed ({describe_exception(exc)}). "
                "This is a course bug, not your code: please tell the instructor."
            ],
        )
    return CheckResult(name, True, "passed", [f"✅ `{fn_name}` passes. {praise or ''}".rstrip()])


def check(name: str, obj: Any) -> CheckResult:
    """Run the exercise's checks on ``obj`` and print ✅ or ❌ with a pointer to a hint."""
    result = _evaluate(name, obj)
    _render(result)
    return result


def hint(name: str, level: int | None = None) -> None:
    """Show the next hint for ``name`` (one more each call), or hint ``level`` when given."""
    ex = get_exercise(name)
    name, count = ex.name, len(ex.hints)
    if level is None:
        level = min(_revealed.get(name, 0) + 1, count)
    elif isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= count:
        raise ValueError(f"{name!r} has hints 1 to {count}; got level {level!r}")
    _revealed[name] = max(_revealed.get(name, 0), level)
    more = f' (next: hint("{name}"))' if level < count else " (that is the last hint)"
    print(f"💡 Hint {level}/{count} for `{name}`: {ex.hints[level - 1]}{more}")


def solution(name: str) -> None:
    """Print the reference solution for ``name`` (only ever shown when asked for)."""
    ex = get_exercise(name)
    code = None
    if ex.solution_notebook is not None:
        code = _solution_from_notebook(SOLUTIONS_DIR / ex.solution_notebook, name)
    if code is None:
        code = ex.solution_snippet
    if code is None:
        code = (
            f"# The solution notebook solutions/{ex.solution_notebook} is not in this copy of "
            "the course; open it in the course repository."
        )
    print(f"# Reference solution for {name}\n{code.rstrip()}")


def _solution_from_notebook(path: Path, name: str) -> str | None:
    """The code cell(s) of ``path`` holding a solution region for ``def name``, markers removed."""
    if not path.is_file():
        return None
    import nbformat

    from ..build_exercises import BEGIN, END

    nb = nbformat.read(path, as_version=4)
    found = []
    for cell in nb.cells:
        src = cell.source
        if cell.cell_type == "code" and BEGIN in src and f"def {name}(" in src:
            lines = [ln for ln in src.splitlines() if ln.strip() not in (BEGIN, END)]
            lines = [ln for ln in lines if not ln.strip().startswith("### TODO:")]
            found.append("\n".join(lines))
    return "\n\n".join(found) if found else None


# --- helpers for the checks' own tests --------------------------------------------------------


def assert_passes(name: str, obj: Any) -> CheckResult:
    """Assert that ``obj`` passes the ``name`` check (for tests of the checks themselves)."""
    result = _evaluate(name, obj)
    assert result.passed, f"expected {name} to pass, got: {result}"
    return result


def assert_fails(
    name: str,
    obj: Any,
    *,
    hint_level: int | None = None,
    contains: str | None = None,
    status: str = "incorrect",
) -> CheckResult:
    """Assert that ``obj`` fails the ``name`` check, with the given hint level / message text."""
    result = _evaluate(name, obj)
    assert not result.passed, f"expected {name} to fail, but it passed: {result}"
    assert result.status == status, f"expected status {status!r}, got {result.status!r}: {result}"
    if hint_level is not None:
        assert result.hint_level == hint_level, (
            f"expected hint level {hint_level}, got {result.hint_level}: {result}"
        )
    if contains is not None:
        assert contains.lower() in str(result).lower(), f"expected {contains!r} in: {result}"
    return result
