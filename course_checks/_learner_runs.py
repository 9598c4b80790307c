"""Running the learner's code for a check: always bounded, against the real SDK and simulator.

``run_learner`` calls a plain function; ``run_on_simulator`` calls API code with a client for a
``check_simulator()`` (faults scripted, the SDK's own retries off) and records what happened:
the requests that arrived, the waits passed to ``sleep=``, the log lines (``SimRun``). Every
call stops after ``LIMITS.learner_s`` and its value is copied into exact built-in types
(``_values``) before a checker reads it. ``judge_waits_in_seconds`` and ``waits_grow`` judge
the waits of the retry exercises. Authors import these names from ``course_checks.authoring``.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from ._bounded import call_with_limit
from ._guards import LearnerCalledExit
from ._outcomes import (
    LIMITS,
    CourseBug,
    Crashed,
    Incorrect,
    NotStarted,
    TooSlow,
    describe_exception,
    shown,
)
from ._values import plain_copy

if TYPE_CHECKING:
    import openai

    from course_simulator import Simulator

__all__ = [
    "CHECK_CLIENT_TIMEOUT_S",
    "FAULT_RETRY_AFTER_MS",
    "MAX_FIRST_WAIT_S",
    "MAX_WAIT_S",
    "MIN_FIRST_WAIT_S",
    "SIM_HOLD_MAX_S",
    "LearnerRun",
    "SimRun",
    "check_client",
    "check_simulator",
    "fn_name_of",
    "judge_waits_in_seconds",
    "raise_server_errors",
    "run_learner",
    "run_on_simulator",
    "waits_grow",
]

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
MAX_LOG_RECORDS = 10_000  # log records a check keeps from one learner call (it reads a few)
_QUIET_LOGGERS = ("httpx", "httpcore", "httpx2", "openai", "course_simulator")


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


def fn_name_of(fn: Callable[..., Any]) -> str:
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
        f"`{fn_name}` did not finish within {LIMITS.learner_s:g} s: a loop never stopped, "
        "it waited with time.sleep instead of the `sleep=` argument it was given, or a request "
        f"never returned (do not override the client's timeout). {fate}"
    )


def _call(
    fn: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any],
    on_timeout: Callable[[], None] | None = None,
) -> LearnerRun:
    name = fn_name_of(fn)
    box = call_with_limit(
        fn, args, kwargs, limit_s=LIMITS.learner_s, stop_within_s=LIMITS.stop_within_s,
        name=f"check:{name}", on_timeout=on_timeout,
    )  # fmt: skip
    if not box.finished:
        raise _too_slow(name, box.stopped)
    # A copy in exact built-in types: learner overrides (__eq__, str methods) never run in a
    # check, and a thread the learner left running cannot change what the check reads.
    run = LearnerRun(name, plain_copy(box.value), box.error)
    if isinstance(run.error, NotImplementedError):
        raise NotStarted()
    if isinstance(run.error, LearnerCalledExit):
        raise Crashed(
            f"`{name}` called {run.error}, which ends the whole kernel at once: every variable "
            "is lost and the notebook shows no message. The check stopped it; return a value or "
            "raise an exception instead."
        )
    said = describe_exception(run.error) if isinstance(run.error, TypeError) else ""
    if "argument" in said:
        raise Crashed(
            f"`{name}` raised {said}. Keep the parameters the task's signature lists (the check "
            "calls it with them)."
        )
    return run


def run_learner(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> LearnerRun:
    """Call ``fn(*args, **kwargs)`` under ``LIMITS.learner_s``; stop it if it overruns.

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
    client = check_client(sim, timeout_s=client_timeout_s, interrupt=interrupt)
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
        base.fn_name, base.value, base.error, sim.requests, plain_copy(list(delays)),
        capture.records, client.api_key,
    )  # fmt: skip


def check_client(
    sim: Simulator, *, timeout_s: float = CHECK_CLIENT_TIMEOUT_S, interrupt: bool = False
) -> openai.OpenAI:
    """The one place the checks build an SDK client: for ``sim``, with the SDK's own retries off
    (``max_retries=0``: a check judges the learner's retries, never the SDK's). With
    ``interrupt``, the first request raises KeyboardInterrupt before it is sent (Ctrl-C)."""
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
        # Bounded: a learner logging in a tight loop cannot fill the kernel's memory.
        if not record.name.startswith(_QUIET_LOGGERS) and len(self.records) < MAX_LOG_RECORDS:
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
