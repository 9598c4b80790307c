"""Call learner code with a time limit, and stop it when the limit passes.

Python cannot kill a thread, but CPython can raise an exception inside one
(``PyThreadState_SetAsyncExc``) the next time it runs Python code. That stops what a runaway
exercise usually is (a loop that never ends, a loop of requests, a slow ``__repr__``). Two
things can outlive it, and the caller is told so (``Bounded.stopped`` is False) so it can say
so: one long call into C that never returns to Python (``10 ** 10 ** 9``), and code that
catches ``BaseException`` (which the exercises forbid for this reason). A background reaper
keeps trying on those until they end.

A browser tab (Pyodide) has no threads, so there the call runs in the check's own thread under
a trace function that raises ``LearnerCodeStopped`` on the learner's next line once the limit
has passed (``_call_traced``). What it cannot stop: a long call into library or C code that
never returns to a line of the learner's (a request the simulator holds times out at once
in-process, so that one does not arise), and code that catches ``BaseException``.
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any

from course_utils.platform import IN_BROWSER

__all__ = ["Bounded", "LearnerCodeStopped", "active_threads", "call_with_limit", "stop_threads"]

_REAPER_PERIOD_S = 0.2  # how often the reaper retries a thread that survived its stop


class LearnerCodeStopped(BaseException):
    """Raised inside learner code that a check stopped (a BaseException, so ``except
    Exception`` in the learner's code does not swallow it)."""


@dataclass
class Bounded:
    """What a bounded call did: ``finished`` with ``value`` or ``error``, or was cut off."""

    finished: bool = False
    value: Any = None
    error: BaseException | None = None
    stopped: bool = True  # False: it outlived its limit and could not be stopped


_active: list[threading.Thread] = []  # bounded calls still running, oldest first
_active_lock = threading.Lock()


def active_threads() -> list[threading.Thread]:
    """The threads of bounded calls still running, oldest first (a snapshot)."""
    with _active_lock:
        return [t for t in _active if t.is_alive()]


def call_with_limit(
    fn: Callable[..., Any],
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    *,
    limit_s: float,
    stop_within_s: float,
    name: str,
    on_timeout: Callable[[], None] | None = None,
) -> Bounded:
    """Run ``fn(*args, **kwargs)`` in a thread for at most ``limit_s`` seconds.

    After the limit, ``on_timeout()`` runs first (e.g. stop the check's simulator, so a call
    blocked on it returns), then the thread is stopped. A KeyboardInterrupt while waiting (the
    learner pressed Stop) stops the thread too, then propagates.
    """
    if IN_BROWSER:
        return _call_traced(fn, args, kwargs or {}, limit_s=limit_s, on_timeout=on_timeout)
    box = Bounded()

    def target() -> None:
        try:
            box.value = fn(*args, **(kwargs or {}))
        except BaseException as exc:  # learner code may raise anything; report it, never lose it
            box.error = exc
        finally:
            with _active_lock:
                if thread in _active:
                    _active.remove(thread)

    thread = threading.Thread(target=target, daemon=True, name=name)
    with _active_lock:
        _active.append(thread)
    thread.start()
    try:
        thread.join(limit_s)
    except BaseException:
        stop_threads([thread], within_s=stop_within_s)
        raise
    if not thread.is_alive():
        box.finished = True
        return box
    if on_timeout is not None:
        on_timeout()
    box.stopped = stop_threads([thread], within_s=stop_within_s)
    return box


def _learner_frame(frame: FrameType) -> bool:
    """Code typed in a notebook cell (IPython names its file ``<ipython-input-...>`` or a
    temporary ``/tmp/ipykernel_.../...py``), not the library or the check."""
    name = frame.f_code.co_filename
    return name.startswith("<ipython-input") or "ipykernel_" in name or name.startswith("<exec")


def _call_traced(
    fn: Callable[..., Any],
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    *,
    limit_s: float,
    on_timeout: Callable[[], None] | None,
) -> Bounded:
    """``call_with_limit`` with no thread: the limit is checked on each line of learner code."""
    box = Bounded()
    deadline = time.monotonic() + limit_s
    fired = False

    def on_line(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal fired
        if event == "line" and time.monotonic() > deadline:
            if not fired and on_timeout is not None:
                on_timeout()
            fired = True
            raise LearnerCodeStopped(f"stopped by the check after {limit_s:g} s")
        return on_line

    def on_call(frame: FrameType, event: str, arg: Any) -> Any:
        return on_line if _learner_frame(frame) else None

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        box.value = fn(*args, **kwargs)
        box.finished = not fired
    except LearnerCodeStopped:
        box.finished = False
    except BaseException as exc:  # learner code may raise anything; report it, never lose it
        box.error, box.finished = exc, not fired
    finally:
        sys.settrace(previous)
    return box


def stop_threads(threads: Sequence[threading.Thread], *, within_s: float) -> bool:
    """Raise ``LearnerCodeStopped`` in each thread until all end; True if they did in time.

    The exception is raised again every few milliseconds: code that catches it once in a loop
    usually meets it again outside its ``try``. Threads still alive after ``within_s`` are left
    to the reaper, which keeps trying in the background.
    """
    deadline = time.monotonic() + within_s
    alive = [t for t in threads if t.is_alive()]
    while alive:
        for thread in alive:
            _raise_in(thread)
        alive[0].join(0.01)
        alive = [t for t in alive if t.is_alive()]
        if time.monotonic() >= deadline:
            break
    if alive:
        _reaper.watch(alive)
        return False
    return True


def _raise_in(thread: threading.Thread) -> None:
    ident = thread.ident
    if ident is None or not thread.is_alive():
        return
    set_async_exc = getattr(getattr(ctypes, "pythonapi", None), "PyThreadState_SetAsyncExc", None)
    if set_async_exc is None:  # not CPython: nothing can stop a thread, the caller says so
        return
    done = set_async_exc(ctypes.c_ulong(ident), ctypes.py_object(LearnerCodeStopped))
    if done > 1:  # never expected: undo rather than interrupt the wrong thread
        set_async_exc(ctypes.c_ulong(ident), None)


class _Reaper:
    """One daemon thread that keeps stopping threads which survived their first stop."""

    def __init__(self) -> None:
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, threads: Sequence[threading.Thread]) -> None:
        with self._lock:
            self._threads.extend(t for t in threads if t not in self._threads)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True, name="check:reaper")
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                self._threads = [t for t in self._threads if t.is_alive()]
                if not self._threads:
                    self._thread = None
                    return
                threads = list(self._threads)
            for thread in threads:
                _raise_in(thread)
            time.sleep(_REAPER_PERIOD_S)


_reaper = _Reaper()
