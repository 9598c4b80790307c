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
call after ``LEARNER_TIME_LIMIT_S``, ``shown`` bounds a ``repr``, and the whole checker runs
under ``CHECK_TIME_LIMIT_S``. ``run_on_simulator`` calls the learner's function against a
``check_simulator()`` with scripted faults and records the requests that arrived, the waits
passed to ``sleep=`` and the log lines, so a check judges behaviour and never waits real
seconds. Prove each check both ways in a test with ``assert_passes`` / ``assert_fails``.
"""

from __future__ import annotations

import logging
import math
import random
import types
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from ._bounded import active_threads, call_with_limit, stop_threads

if TYPE_CHECKING:
    import openai

    from course_simulator import Simulator

__all__ = [
    "CHECK_CLIENT_TIMEOUT_S",
    "CHECK_TIME_LIMIT_S",
    "EXERCISES",
    "FAULT_RETRY_AFTER_MS",
    "LEARNER_TIME_LIMIT_S",
    "MAX_FIRST_WAIT_S",
    "MAX_WAIT_S",
    "MIN_FIRST_WAIT_S",
    "REPR_TIME_LIMIT_S",
    "SIM_HOLD_MAX_S",
    "STOP_WITHIN_S",
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
    "check_simulator",
    "describe_exception",
    "evaluate",
    "exercise",
    "get_exercise",
    "judge_waits_in_seconds",
    "raise_server_errors",
    "run_learner",
    "run_on_simulator",
    "shown",
    "waits_grow",
]

# --- constants every check shares (units in the names) ----------------------------------------

LEARNER_TIME_LIMIT_S = 20.0  # one call of the learner's function; then it is stopped
CHECK_TIME_LIMIT_S = 90.0  # a whole check, including every learner call and repr
REPR_TIME_LIMIT_S = 2.0  # showing one learner value in a message
STOP_WITHIN_S = 1.0  # how long to keep stopping a runaway call before saying it survived
CHECK_CLIENT_TIMEOUT_S = 5.0  # the SDK client timeout a check hands to the learner
# A check's simulator drops a held ('timeout' fault) request after this long, so a learner who
# passes their own `timeout=30` still sees the request fail quickly instead of the check stalling.
SIM_HOLD_MAX_S = 1.0
FAULT_RETRY_AFTER_MS = 100  # the retry-after-ms a scripted 429 carries on a check's simulator
# Waits (retry exercises): seconds, judged on the largest wait seen over several runs, so full
# jitter (which may draw a tiny wait on one run) passes and milliseconds passed as seconds fail.
MIN_FIRST_WAIT_S = 0.1
MAX_FIRST_WAIT_S = 10.0
MAX_WAIT_S = 120.0
_QUIET_LOGGERS = ("httpx", "httpcore", "httpx2", "openai", "course_simulator")


# --- outcomes ---------------------------------------------------------------------------------


class Outcome(Exception):
    """Base of the exceptions a checker raises to report a result other than a pass."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class NotStarted(Outcome):
    """The learner has not written the function yet (it raises NotImplementedError)."""


class CourseBug(Outcome):
    """The course's own machinery (the simulator) failed: report it, never blame the learner."""


class Crashed(Outcome):
    """The learner's function raised an exception the exercise does not expect."""


class TooSlow(Outcome):
    """A call of the learner's code did not finish within its limit (and was stopped)."""


class Incorrect(Outcome):
    """The function runs but breaks ``rule`` (1-based, declared in ``exercise(rules=...)``).

    ``hint_level`` is the hint that helps most; by default the hint with the rule's number.
    """

    def __init__(
        self, message: str, hint_level: int | None = None, *, rule: int | None = None
    ) -> None:
        super().__init__(message)
        self.rule = rule
        self.hint_level = hint_level if hint_level is not None else rule


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


EXERCISES: dict[str, Exercise] = {}


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
        if name in EXERCISES and EXERCISES[name].checker is not checker:
            raise ValueError(f"exercise {name!r} is declared twice")
        EXERCISES[name] = Exercise(
            name, tuple(hints), checker, solution_notebook, solution, tuple(rules)
        )
        return checker

    return register


def get_exercise(name: object) -> Exercise:
    """The declared exercise called ``name``, or a ValueError listing the ones that exist."""
    if fn_name := _function_name(name):
        name = fn_name  # hint(generate_with_retry) works as well as the name
    if isinstance(name, str) and name in EXERCISES:
        return EXERCISES[name]
    known = ", ".join(repr(n) for n in sorted(EXERCISES)) or "(none)"
    raise ValueError(
        f"there is no exercise called {name!r}; the exercises are {known}. "
        "Pass the exercise function's own name as a string, e.g. "
        'check("generate_with_retry", generate_with_retry).'
    )


def _function_name(obj: object) -> str | None:
    """A plain function's name (read without running learner code), else None."""
    if isinstance(obj, types.FunctionType):  # a plain function's __name__ runs no user code
        name = obj.__name__
        return name if isinstance(name, str) and name in EXERCISES else None
    return None


# --- showing learner values, always bounded ---------------------------------------------------


def shown(value: object, width: int = 60) -> str:
    """``repr(value)`` cut to ``width`` characters, never waiting on a slow ``__repr__``."""
    box = call_with_limit(
        repr, (value,), limit_s=REPR_TIME_LIMIT_S, stop_within_s=STOP_WITHIN_S,
        name="check:repr",
    )  # fmt: skip
    if not box.finished:
        return f"an object of type {type(value).__name__} whose repr() did not finish in time"
    if box.error is not None or not isinstance(box.value, str):
        return f"an object of type {type(value).__name__} (its repr() failed)"
    text: str = box.value
    return text if len(text) <= width else text[: width - 1] + "…"


def describe_exception(exc: BaseException) -> str:
    """``TypeError: message`` on one line (without a traceback); bounded like ``shown``."""
    box = call_with_limit(
        str, (exc,), limit_s=REPR_TIME_LIMIT_S, stop_within_s=STOP_WITHIN_S, name="check:str"
    )
    text = box.value.strip() if box.finished and isinstance(box.value, str) else ""
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first[:200]}" if first else type(exc).__name__


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
        """Report an exception the exercise does not expect as a crash naming it."""
        if self.error is not None and not isinstance(self.error, allowed):
            raise Crashed(
                f"`{self.fn_name}` raised {describe_exception(self.error)}. Run it on its own "
                "in a cell to see the traceback, fix it, then check again."
            )


def _fn_name(fn: Callable[..., Any]) -> str:
    name = getattr(fn, "__name__", None)
    return name if isinstance(name, str) else type(fn).__name__


def _too_slow(fn_name: str, stopped: bool) -> TooSlow:
    fate = (
        "The check stopped it."
        if stopped
        else "The check could not stop it (it catches BaseException, or is stuck inside one "
        "long call), so it is still running: restart the kernel (Kernel > Restart Kernel) to "
        "stop it."
    )
    return TooSlow(
        f"`{fn_name}` did not finish within {LEARNER_TIME_LIMIT_S:g} s: a loop never stopped, "
        "it waited with time.sleep instead of the `sleep=` argument it was given, or a request "
        f"never returned (do not override the client's timeout). {fate}"
    )


def _call(
    fn: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any],
    on_timeout: Callable[[], None] | None = None,
) -> LearnerRun:
    name = _fn_name(fn)
    box = call_with_limit(
        fn, args, kwargs, limit_s=LEARNER_TIME_LIMIT_S, stop_within_s=STOP_WITHIN_S,
        name=f"check:{name}", on_timeout=on_timeout,
    )  # fmt: skip
    if not box.finished:
        raise _too_slow(name, box.stopped)
    run = LearnerRun(name, box.value, box.error)
    if isinstance(run.error, NotImplementedError):
        raise NotStarted()
    if isinstance(run.error, TypeError) and "argument" in str(run.error):
        raise Crashed(
            f"`{name}` raised {describe_exception(run.error)}. Keep the parameters the task's "
            "signature lists (the check calls it with them)."
        )
    return run


def run_learner(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> LearnerRun:
    """Call ``fn(*args, **kwargs)`` under ``LEARNER_TIME_LIMIT_S``; stop it if it overruns.

    Raises ``NotStarted`` for NotImplementedError, ``Crashed`` for a signature mismatch and
    ``TooSlow`` for an overrun; any other exception is returned in ``LearnerRun.error``.
    """
    return _call(fn, args, kwargs)


@dataclass
class SimRun(LearnerRun):
    """A learner call against a check simulator: value/error, the requests, waits and logs."""

    requests: list[Any] = field(default_factory=list)
    delays: list[Any] = field(default_factory=list)
    log_records: list[logging.LogRecord] = field(default_factory=list)
    api_key: str = ""

    @property
    def attempts(self) -> int:
        """How many generating requests reached the server."""
        return len(self.responses)

    @property
    def responses(self) -> list[Any]:
        """The generating requests (``/responses``, ``/chat/completions``), not token counts."""
        return [r for r in self.requests if r.path.rstrip("/").endswith(_GENERATING_PATHS)]


_GENERATING_PATHS = ("/responses", "/chat/completions")


def check_simulator(**overrides: Any) -> Simulator:
    """A fresh (not yet started) simulator with the checks' settings: ``with check_simulator()``.

    Seeded, a scripted 429 carries ``retry-after-ms: FAULT_RETRY_AFTER_MS``, and a held
    'timeout' request is dropped after ``SIM_HOLD_MAX_S``.
    """
    from course_simulator import Simulator

    settings: dict[str, Any] = {
        "seed": 0,
        "fault_retry_after_ms": FAULT_RETRY_AFTER_MS,
        "hold_max_s": SIM_HOLD_MAX_S,
        **overrides,
    }
    return Simulator(**settings)


def run_on_simulator(
    sim: Simulator,
    fn: Callable[..., Any],
    *args: Any,
    faults: Iterable[str | None] = (),
    record_sleep: bool = False,
    interrupt: bool = False,
    seed: int = 0,
    client_timeout_s: float = CHECK_CLIENT_TIMEOUT_S,
    **kwargs: Any,
) -> SimRun:
    """Call ``fn(client, *args, **kwargs)`` against ``sim``: the one way checks run API code.

    ``sim`` is reset and ``faults`` scripted for the next generating requests; the client
    has ``max_retries=0`` (the learner's retries are judged, not the SDK's). With
    ``record_sleep`` the call gets ``sleep=`` that records each wait and returns at once. With
    ``interrupt`` the first request raises KeyboardInterrupt before it is sent (later ones
    are served), as Ctrl-C pressed once would. The global ``random`` is seeded for the call
    (then restored) and log records are captured, not printed. On an overrun the simulator is
    stopped first, so a learner still calling it gets connection errors instead of answers.
    """
    sim.reset()
    sim.queue_faults(list(faults))
    client = _check_client(sim, client_timeout_s, interrupt)
    delays: list[Any] = []
    if record_sleep:
        kwargs["sleep"] = delays.append
    try:
        with _captured_logs() as capture, _seeded_random(seed):
            base = _call(fn, (client, *args), kwargs, on_timeout=sim.stop)
    finally:
        client.close()
        raise_server_errors(sim)
    return SimRun(
        base.fn_name, base.value, base.error, sim.requests, list(delays), capture.records,
        client.api_key,
    )  # fmt: skip


def _check_client(sim: Simulator, timeout_s: float, interrupt: bool) -> openai.OpenAI:
    if not interrupt:
        return sim.client(max_retries=0, timeout=timeout_s)
    import openai

    pressed: list[bool] = []

    def ctrl_c(request: Any) -> None:  # Ctrl-C during the first request only, as a person would
        if not pressed:
            pressed.append(True)
            raise KeyboardInterrupt("Ctrl-C, pressed by the check during a request")

    hooks = {"request": [ctrl_c]}
    if sim.serve:
        http = openai.DefaultHttpxClient(event_hooks=hooks)
    else:  # in-process (always so in a browser tab): the hook on a client of its transport
        import httpx2

        http = httpx2.Client(transport=sim.transport(), event_hooks=hooks)
    return sim.client(max_retries=0, timeout=timeout_s, http_client=http)


def raise_server_errors(sim: Any) -> None:
    """Turn an internal simulator error into a CourseBug, so the learner is never blamed for it."""
    errors = list(getattr(sim, "server_errors", None) or ())
    if errors:
        last = str(errors[-1]).strip().splitlines()
        raise CourseBug(
            "the course simulator hit an internal error — not your fault; please report: "
            f"{last[-1] if last else 'unknown error'} ({len(errors)} error(s))"
        )


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(_QUIET_LOGGERS):
            self.records.append(record)


@contextmanager
def _captured_logs() -> Iterator[_Capture]:
    """Collect the learner's log records (INFO and up) without printing them.

    Every logger's handlers are set aside for the call; the capture sits on the root and on
    each logger that does not propagate (such as a course logger with its own handler), so a
    record is captured once wherever the learner's logger hangs.
    """
    root = logging.getLogger()
    loggers = [root] + [
        lg for lg in list(logging.root.manager.loggerDict.values())
        if isinstance(lg, logging.Logger) and (lg.handlers or not lg.propagate)
    ]  # fmt: skip
    saved = [(lg, list(lg.handlers)) for lg in loggers]
    saved_level = root.level
    capture = _Capture()
    for lg in loggers:
        lg.handlers[:] = [capture] if lg is root or not lg.propagate else []
    root.setLevel(logging.INFO)
    try:
        yield capture
    finally:
        for lg, handlers in saved:
            lg.handlers[:] = handlers
        root.setLevel(saved_level)


@contextmanager
def _seeded_random(seed: int) -> Iterator[None]:
    """Seed the global ``random`` for one call (checks are reproducible), then restore it."""
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


# --- judging waits (shared by the retry exercises) --------------------------------------------


def _is_seconds(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def judge_waits_in_seconds(runs: Sequence[SimRun], retries: int, rule: int) -> list[float]:
    """Check the waits of several runs of the same faults; return the per-retry ceilings.

    Each run must call ``sleep`` once per retry with a number of seconds in ``(0, MAX_WAIT_S]``.
    The schedule's scale is judged on the largest wait seen (jitter may draw a tiny wait on one
    run, never on all): the first wait's ceiling, or a later one halved per doubling, must
    reach ``MIN_FIRST_WAIT_S``, so 1-8 ms (milliseconds passed as seconds) fails.
    """
    name = runs[0].fn_name
    if not runs[0].delays:
        raise Incorrect(
            f"`{name}` never called `sleep` between retries: it retries at once and hammers a "
            "service that is already struggling.",
            rule=rule,
        )
    for run in runs:
        if len(run.delays) != retries:
            raise Incorrect(
                f"`{name}` called `sleep` {len(run.delays)} time(s) for {retries} retries; "
                "wait once before each retry (and not after the last attempt).",
                rule=rule,
            )
        if not all(_is_seconds(d) and 0 <= d <= MAX_WAIT_S for d in run.delays):
            raise Incorrect(
                f"`{name}` asked to sleep {shown(run.delays)}; each wait should be a number of "
                f"seconds between 0 and {MAX_WAIT_S:g}.",
                rule=rule,
            )
    for run in runs:
        if any(d <= 0 for d in run.delays):
            raise Incorrect(
                f"`{name}` waited 0 s before a retry (waits {shown(run.delays)}); wait before "
                "every retry, so the service gets time to recover.",
                rule=rule,
            )
    ceilings = [max(float(run.delays[i]) for run in runs) for i in range(retries)]
    scale = max(c / 2**i for i, c in enumerate(ceilings))
    if scale < MIN_FIRST_WAIT_S:
        raise Incorrect(
            f"`{name}` waited at most {ceilings[0]:.3g} s before its first retry (over "
            f"{len(runs)} runs; {', '.join(f'{c:.3g}' for c in ceilings)} s per retry). Waits "
            "are in seconds: `sleep(0.5)` waits half a second, `sleep(0.008)` 8 milliseconds. "
            f"Start around 0.5 s (at least {MIN_FIRST_WAIT_S:g} s).",
            rule=rule,
        )
    if ceilings[0] > MAX_FIRST_WAIT_S:
        raise Incorrect(
            f"`{name}` waited {ceilings[0]:.3g} s before its first retry; start small (at most "
            f"{MAX_FIRST_WAIT_S:g} s) and grow from there.",
            rule=rule,
        )
    return ceilings


def waits_grow(ceilings: Sequence[float]) -> bool:
    """True when the per-retry ceilings roughly double: the last at least twice the first, and
    none less than half the one before (a cap may flatten the end)."""
    shrinks = any(later < 0.5 * earlier for earlier, later in pairwise(ceilings))
    return ceilings[-1] >= 2 * ceilings[0] and not shrinks


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
    fn_name = _fn_name(obj)
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
    except Exception as exc:  # a fault in the checker itself, never the learner's
        return _checker_bug(name, describe_exception(exc))
    return CheckResult(
        name, True, "passed", [f"✅ PASS — `{fn_name}` passes. {praise or ''}".rstrip()]
    )


def _checker_bug(name: str, what: str) -> CheckResult:
    return CheckResult(
        name, False, "error",
        [f"⚠️ COURSE BUG — the check for `{name}` itself failed ({what}). This is not your "
         "code: please tell the instructor."],
    )  # fmt: skip


def evaluate(name: str, obj: Any) -> CheckResult:
    """Run the ``name`` check on ``obj`` under ``CHECK_TIME_LIMIT_S``, without printing."""
    ex = get_exercise(name)
    before = set(active_threads())
    stopped = [True]

    def stop_everything_it_started() -> None:
        # Newest first: the learner's call (which the checker waits on) before the checker.
        started = [t for t in reversed(active_threads()) if t not in before]
        stopped[0] = stop_threads(started, within_s=STOP_WITHIN_S)

    box = call_with_limit(
        _judge, (ex, obj), limit_s=CHECK_TIME_LIMIT_S, stop_within_s=STOP_WITHIN_S,
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
        [f"❌ FAIL — the check of `{ex.name}` did not finish within {CHECK_TIME_LIMIT_S:g} s "
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
