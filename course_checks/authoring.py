"""The authoring API for self-checking exercises: declare a check, run learner code, prove it.

Declare an exercise in its family's module (``course_checks/<family>.py``), then import
that module in ``course_checks/__init__.py``::

    from .authoring import Incorrect, exercise, run_learner, shown

    @exercise(
        "count_words",                                  # the learner's function name
        rules=("return the number of words",),          # rule 1: the task says "Rule 1: ..."
        hints=("Split on whitespace: `len(text.split())`.",),  # hint n helps with rule n
        solution_notebook="01_prompts.ipynb",           # solutions/<file>
    )
    def check_count_words(fn):
        run = run_learner(fn, "three small words")      # bounded; NotImplementedError: not started
        run.raise_unexpected()                          # another exception: "it raised ..."
        if run.value != 3:
            raise Incorrect(f"`{run.fn_name}(...)` returned {shown(run.value)}.", rule=1)

A checker passes by returning (optionally one line of praise) and fails by raising
``Incorrect(message, rule=n)``: it never prints. **A check enforces only what its task states**:
every rule is declared in ``rules=`` and written in the exercise's task text as
``Rule n: <title>``; the message says what was seen, names the rule, and never gives the answer.
``evaluate`` refuses an ``Incorrect`` naming an undeclared rule (a course bug), and
``tests/test_checks.py`` checks that each declared rule appears in its notebook.

Learner code is never called without a bound: ``run_learner`` / ``run_on_simulator`` stop a
call after ``LIMITS.learner_s``, ``shown`` bounds a ``repr``, and the whole checker runs
under ``LIMITS.check_s``. ``run_on_simulator`` calls the learner's function against a
``check_simulator()`` with scripted faults and records the requests that arrived, the waits
passed to ``sleep=`` and the log lines, so a check judges behaviour and never waits real
seconds. Prove each check both ways in a test with ``assert_passes`` / ``assert_fails``.

This module is the one door: import every name from it. It holds the declarations
(``exercise``, the registry) and ``evaluate``; the outcomes, ``shown`` and the limits live in
``_outcomes``, the runners (``run_learner``, ``run_on_simulator``, the waits' judges) in
``_learner_runs``.

What a check does not trust (``tests/test_checks_hardening.py``): a returned value is copied into
exact built-in types before a checker reads it (``_values``), so an object whose ``==`` is always
True, or a ``str`` subclass with odd methods, decides nothing; compare with ``same(value,
expected)`` where a value is not type-checked first. ``EXERCISES`` is read-only and every
exercise is restored as declared before it is checked. While a check runs, the learner's printed
output is bounded and ``os._exit`` raises instead of ending the kernel; afterwards the result
names threads the learner's code left running (``_guards``). Python cannot isolate code that
goes looking: an ``os._exit`` taken before the check (``from os import _exit``), a signal to the
kernel's own process or a crash in C code still ends the kernel, and no check can report it.
"""

from __future__ import annotations

import sys
import sysconfig
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ._bounded import active_threads, call_with_limit, stop_threads
from ._guards import guarded
from ._learner_runs import (
    CHECK_CLIENT_TIMEOUT_S,
    FAULT_RETRY_AFTER_MS,
    MAX_FIRST_WAIT_S,
    MAX_WAIT_S,
    MIN_FIRST_WAIT_S,
    SIM_HOLD_MAX_S,
    LearnerRun,
    SimRun,
    check_client,
    check_simulator,
    fn_name_of,
    judge_waits_in_seconds,
    raise_server_errors,
    run_learner,
    run_on_simulator,
    waits_grow,
)
from ._outcomes import (
    LIMITS,
    CourseBug,
    Crashed,
    Incorrect,
    NotStarted,
    Outcome,
    TooSlow,
    describe_exception,
    shown,
)
from ._values import same

__all__ = [
    "CHECK_CLIENT_TIMEOUT_S",
    "EXERCISES",
    "FAULT_RETRY_AFTER_MS",
    "LIMITS",
    "MAX_FIRST_WAIT_S",
    "MAX_WAIT_S",
    "MIN_FIRST_WAIT_S",
    "SIM_HOLD_MAX_S",
    "CheckResult",
    "CourseBug",
    "Crashed",
    "Exercise",
    "Incorrect",
    "LearnerRun",
    "NotStarted",
    "Outcome",
    "SimRun",
    "TooSlow",
    "assert_fails",
    "assert_passes",
    "check_client",
    "check_simulator",
    "describe_exception",
    "evaluate",
    "exercise",
    "get_exercise",
    "judge_waits_in_seconds",
    "raise_server_errors",
    "run_learner",
    "run_on_simulator",
    "same",
    "shown",
    "waits_grow",
]


@dataclass
class CheckResult:
    """What ``check()`` found: ``passed``, the ``messages`` it printed, the hint it suggests."""

    name: str
    passed: bool
    # passed | incorrect | not_started | crashed | too_slow | not_callable | error | course_bug
    status: str
    messages: list[str] = field(default_factory=list)
    hint_level: int | None = None
    rule: int | None = None

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return "\n".join(self.messages)

    def _ipython_display_(self) -> None:
        """Show nothing more in Jupyter: ``check()`` has already printed the outcome."""


# --- declarations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Exercise:
    """One exercise: its name, stated rules, numbered hints, a checker, where its solution is."""

    name: str
    hints: tuple[str, ...]
    checker: Callable[[Callable[..., Any]], str | None]
    solution_notebook: str | None = None
    solution_snippet: str | None = None
    rules: tuple[str, ...] = ()

    def rule_title(self, rule: int) -> str:
        """``rule n: <title>``, as the task text states it."""
        return f"rule {rule}: {self.rules[rule - 1]}"


_REGISTRY: dict[str, Exercise] = {}
# What each exercise was when it was declared: its fields and its checker's code and defaults.
# ``evaluate`` compares the registry with these seals and restores it, so learner code that
# replaces an exercise or patches a checker in the same kernel cannot change a later verdict.
_SEALS: dict[str, tuple[Exercise, tuple[Any, ...], tuple[Any, ...]]] = {}
EXERCISES: MappingProxyType[str, Exercise] = MappingProxyType(_REGISTRY)
"""Every declared exercise by name, read-only (declare one with ``@exercise``)."""


def _fields(ex: Exercise) -> tuple[Any, ...]:
    return tuple(getattr(ex, f) for f in Exercise.__dataclass_fields__)


_CHECKER_ATTRS = ("__code__", "__defaults__", "__kwdefaults__")


def _checker_state(checker: Callable[..., Any]) -> tuple[Any, ...]:
    return tuple(getattr(checker, a, None) for a in _CHECKER_ATTRS)


def _restore_seal(name: str) -> bool:
    """Put exercise ``name`` back as it was declared; True if anything had been changed."""
    ex, fields, checker_state = _SEALS[name]
    changed = _REGISTRY.get(name) is not ex or _fields(ex) != fields
    _REGISTRY[name] = ex
    for attr, value in zip(Exercise.__dataclass_fields__, fields, strict=True):
        object.__setattr__(ex, attr, value)
    for attr, value in zip(_CHECKER_ATTRS, checker_state, strict=True):
        if getattr(ex.checker, attr, None) is not value:
            changed = True
            setattr(ex.checker, attr, value)
    return changed


def _forget(name: str) -> None:
    """Remove a declared exercise (for the checks' own tests, which declare toy exercises)."""
    _REGISTRY.pop(name, None)
    _SEALS.pop(name, None)


def exercise(
    name: str,
    *,
    hints: Sequence[str],
    rules: Sequence[str] = (),
    solution_notebook: str | None = None,
    solution: str | None = None,
) -> Callable[[Callable[[Callable[..., Any]], str | None]], Callable[..., str | None]]:
    """Decorator that registers a checker under the learner's function name."""
    if not hints or not all(isinstance(h, str) and h.strip() for h in hints):
        raise ValueError(f"exercise {name!r} needs at least one non-empty hint")
    if not all(isinstance(r, str) and r.strip() for r in rules):
        raise ValueError(f"exercise {name!r}: every rule needs a non-empty title")
    if len(hints) < len(rules):
        raise ValueError(
            f"exercise {name!r} declares {len(rules)} rules but {len(hints)} hints: "
            "hint n helps with rule n, so give each rule its hint"
        )
    if solution_notebook is None and solution is None:
        raise ValueError(f"exercise {name!r} needs solution_notebook= or solution=")

    def register(checker: Callable[[Callable[..., Any]], str | None]) -> Callable[..., Any]:
        if name in _REGISTRY and _REGISTRY[name].checker is not checker:
            raise ValueError(f"exercise {name!r} is declared twice")
        ex = Exercise(name, tuple(hints), checker, solution_notebook, solution, tuple(rules))
        _REGISTRY[name] = ex
        _SEALS[name] = (ex, _fields(ex), _checker_state(checker))
        return checker

    return register


def get_exercise(name: object) -> Exercise:
    """The declared exercise called ``name``, or a ValueError listing the ones that exist."""
    if fn_name := _function_name(name):
        name = fn_name  # hint(generate_with_retry) works as well as the name
    if type(name) is str and name in _SEALS:
        return _SEALS[name][0]
    known = ", ".join(repr(n) for n in sorted(_SEALS)) or "(none)"
    raise ValueError(
        f"there is no exercise called {name!r}; the exercises are {known}. "
        "Pass the exercise function's own name as a string, e.g. "
        'check("generate_with_retry", generate_with_retry).'
    )


def _function_name(obj: object) -> str | None:
    """A plain function's name (read without running learner code), else None."""
    if isinstance(obj, types.FunctionType):  # a plain function's __name__ runs no user code
        name = obj.__name__
        return name if type(name) is str and name in _SEALS else None
    return None


# --- evaluating a check -----------------------------------------------------------------------


def _judge(ex: Exercise, obj: Any) -> CheckResult:
    """Run the checker on ``obj`` and turn its outcome into a result (inside the time bound)."""
    name = ex.name
    if obj is None or obj is Ellipsis:
        return CheckResult(
            name, False, "not_started",
            [f"⏳ NOT STARTED — `{name}` is not written yet: write it, then check."],
        )  # fmt: skip
    if not callable(obj):
        return CheckResult(
            name, False, "not_callable",
            [f"❌ FAIL — `{name}` should be a function, but check() was given "
             f"{type(obj).__name__}."],
        )  # fmt: skip
    fn_name = fn_name_of(obj)
    try:
        praise = ex.checker(obj)
    except NotStarted:
        return CheckResult(
            name, False, "not_started",
            [f"⏳ NOT STARTED — `{fn_name}` is not written yet (it raises NotImplementedError). "
             "Replace the TODO with your code, run the cell, then check again."],
        )  # fmt: skip
    except CourseBug as bug:
        return CheckResult(name, False, "course_bug", [f"⚠️ COURSE BUG — {bug.message}"])
    except Incorrect as wrong:
        if ex.rules and (wrong.rule is None or not 1 <= wrong.rule <= len(ex.rules)):
            return _checker_bug(name, f"Incorrect names rule {wrong.rule!r}, not a stated rule")
        head = f"❌ FAIL ({ex.rule_title(wrong.rule)})" if wrong.rule and ex.rules else "❌ FAIL"
        lines = [f"{head} — {wrong.message}"]
        if wrong.hint_level is not None:
            lines.append(f'   Stuck? hint("{name}") shows hint {wrong.hint_level}, which helps.')
        return CheckResult(name, False, "incorrect", lines, wrong.hint_level, wrong.rule)
    except Crashed as crash:
        return CheckResult(name, False, "crashed", [f"❌ FAIL — {crash.message}"])
    except TooSlow as slow:
        return CheckResult(name, False, "too_slow", [f"❌ FAIL — {slow.message}"])
    except Exception as exc:
        if _raised_in_learner_code(exc, ex.checker):  # e.g. a str subclass whose .strip() raises
            return CheckResult(
                name, False, "crashed",
                [f"❌ FAIL — a value `{fn_name}` returned raised {describe_exception(exc)} when "
                 "the check read it (code of yours ran inside it, such as an overridden method)."
                 " Return plain values: str, int, float, bool, None, list and dict."],
            )  # fmt: skip
        return _checker_bug(name, describe_exception(exc))  # a fault in the checker itself
    return CheckResult(
        name, True, "passed", [f"✅ PASS — `{fn_name}` passes. {praise or ''}".rstrip()]
    )


_LIBRARY_DIRS = tuple(
    str(Path(p).resolve()) for k, p in sysconfig.get_paths().items() if "lib" in k
)
# The course's own packages, wherever they are installed (found by name, so a package that moves
# still counts as the course's): their frames are never the learner's code.
_COURSE_PACKAGES = ("course_utils", "course_checks", "course_simulator")


def _course_dirs() -> tuple[str, ...]:
    files = [getattr(sys.modules.get(name), "__file__", None) for name in _COURSE_PACKAGES]
    return tuple(str(Path(f).resolve().parent) for f in files if f)


def _raised_in_learner_code(exc: BaseException, checker: Callable[..., Any]) -> bool:
    """True when a frame of the exception's traceback is neither the course's, a library's nor
    the checker's own file: the learner's code (a notebook cell, their module) raised it."""
    code = getattr(checker, "__code__", None)
    own = (getattr(code, "co_filename", ""),)
    known = _LIBRARY_DIRS + _course_dirs()
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename not in own and not str(Path(filename).resolve()).startswith(known):
            return True
        tb = tb.tb_next
    return False


def _checker_bug(name: str, what: str) -> CheckResult:
    return CheckResult(
        name, False, "error",
        [f"⚠️ COURSE BUG — the check for `{name}` itself failed ({what}). This is not your "
         "code: please tell the instructor."],
    )  # fmt: skip


def evaluate(name: str, obj: Any) -> CheckResult:
    """Run the ``name`` check on ``obj`` under ``LIMITS.check_s``, without printing.

    The exercise is restored as declared first; while it runs, the learner's printed output is
    bounded and ``os._exit`` refused; the result names threads the learner's code left running.
    """
    ex = get_exercise(name)
    tampered = _restore_seal(ex.name)
    with guarded() as seen:
        result = _evaluate_bounded(ex, obj)
    if tampered:
        result.messages.append(
            "⚠️ Code in this kernel had changed the checks' own state (the exercise registry or "
            "a checker); it was restored before this check. Restart the kernel if it was not you."
        )
    result.messages += seen.report()
    return result


def _evaluate_bounded(ex: Exercise, obj: Any) -> CheckResult:
    """The check of ``ex`` under ``LIMITS.check_s``; stop whatever it started on overrun."""
    before = set(active_threads())
    stopped = [True]

    def stop_everything_it_started() -> None:
        # Newest first: the learner's call (which the checker waits on) before the checker.
        started = [t for t in reversed(active_threads()) if t not in before]
        stopped[0] = stop_threads(started, within_s=LIMITS.stop_within_s)

    box = call_with_limit(
        _judge, (ex, obj), limit_s=LIMITS.check_s, stop_within_s=LIMITS.stop_within_s,
        name=f"check:{ex.name}:checker", on_timeout=stop_everything_it_started,
    )  # fmt: skip
    if box.finished and isinstance(box.value, CheckResult):
        return box.value
    if box.finished:
        return _checker_bug(ex.name, describe_exception(box.error or RuntimeError("no result")))
    fate = (
        "The check stopped it."
        if stopped[0] and box.stopped
        else "The check could not stop everything it started: restart the kernel (Kernel > "
        "Restart Kernel) to stop it."
    )
    return CheckResult(
        ex.name, False, "too_slow",
        [f"❌ FAIL — the check of `{ex.name}` did not finish within {LIMITS.check_s:g} s "
         "in total: your function was slow on every call (wait with the `sleep=` argument, "
         "not time.sleep), or a value it returned was slow to print or compare. " + fate],
    )  # fmt: skip


# --- helpers for the checks' own tests --------------------------------------------------------


def assert_passes(name: str, obj: Any) -> CheckResult:
    """Assert that ``obj`` passes the ``name`` check (for tests of the checks themselves)."""
    result = evaluate(name, obj)
    assert result.passed, f"expected {name} to pass, got: {result}"
    return result


def assert_fails(
    name: str,
    obj: Any,
    *,
    rule: int | None = None,
    hint_level: int | None = None,
    contains: str | None = None,
    status: str = "incorrect",
) -> CheckResult:
    """Assert that ``obj`` fails the ``name`` check with the given status, rule, hint and text."""
    result = evaluate(name, obj)
    assert not result.passed, f"expected {name} to fail, but it passed: {result}"
    assert result.status == status, f"expected status {status!r}, got {result.status!r}: {result}"
    if rule is not None:
        assert result.rule == rule, f"expected rule {rule}, got {result.rule}: {result}"
    if hint_level is not None:
        assert result.hint_level == hint_level, (
            f"expected hint level {hint_level}, got {result.hint_level}: {result}"
        )
    if contains is not None:
        assert contains.lower() in str(result).lower(), f"expected {contains!r} in: {result}"
    return result
