"""What learner code may do to the whole process while a check runs, and how a check answers.

- **Output** the learner's code prints during a check is captured and bounded: the first
  ``MAX_SHOWN_OUTPUT_CHARS`` characters are shown after the verdict, the rest only counted, so
  a function that prints 100 MB per call cannot flood the notebook (or the kernel's memory).
- **``os._exit``** ends the kernel at once, with no exception and no message. During a check,
  ``os._exit`` is replaced by a function that raises ``LearnerCalledExit`` instead, which the
  check reports. What cannot be caught, and is only documented: code that took a reference to
  the real function before the check (``from os import _exit``), ``posix._exit``, a signal sent
  to the kernel's own process, or an exit from C code.
- **Threads** the learner's code starts and leaves running are named after the check: they keep
  working (and spending) in the background after the function has returned.
"""

from __future__ import annotations

import io
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MAX_SHOWN_OUTPUT_CHARS",
    "BoundedOutput",
    "Guarded",
    "LearnerCalledExit",
    "guarded",
]

MAX_SHOWN_OUTPUT_CHARS = 2_000  # what a check shows of the output the learner's code printed
THREAD_GRACE_S = 0.5  # how long a new thread may take to end by itself before it is named
# Threads the course itself starts and ends: a check's simulator, its handlers, bounded calls.
_COURSE_THREAD_MARKS = ("check:", "course-simulator", "batch:", "(process_request_thread)")


class LearnerCalledExit(BaseException):
    """Raised in place of ``os._exit`` during a check (a BaseException, like SystemExit)."""

    def __init__(self, code: object) -> None:
        super().__init__(f"os._exit({code!r})")
        self.code = code


class BoundedOutput(io.TextIOBase):
    """A text stream that keeps the first ``limit`` characters written and counts the rest."""

    def __init__(self, limit: int = MAX_SHOWN_OUTPUT_CHARS) -> None:
        super().__init__()
        self.limit = limit
        self.kept: list[str] = []
        self.total = 0
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: Any) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        size = str.__len__(text)
        with self._lock:
            room = self.limit - min(self.total, self.limit)
            if room > 0:
                self.kept.append(str.__str__(text)[:room])
            self.total += size
        return size

    def flush(self) -> None:
        """Nothing to flush: the text is kept in memory."""

    @property
    def text(self) -> str:
        """The characters kept (at most ``limit``)."""
        with self._lock:
            return "".join(self.kept)


@dataclass
class Guarded:
    """What a guarded check saw: the learner's output, and the threads left running."""

    output: BoundedOutput = field(default_factory=BoundedOutput)
    threads_left: list[str] = field(default_factory=list)

    def report(self) -> list[str]:
        """Lines for the check's result: the output (bounded), then the threads left running."""
        lines = []
        if self.output.total:
            lines.append(f"   Your code printed during the check:\n{self.output.text.rstrip()}")
            hidden = self.output.total - len(self.output.text)
            if hidden > 0:
                lines.append(
                    f"   … and {hidden:,} more characters, not shown (a check shows the first "
                    f"{self.output.limit:,})."
                )
        if self.threads_left:
            names = ", ".join(self.threads_left[:5])
            more = f" and {len(self.threads_left) - 5} more" if len(self.threads_left) > 5 else ""
            lines.append(
                f"⚠️ Your code started {len(self.threads_left)} thread(s) that are still running "
                f"after the check ({names}{more}): they keep working, and sending requests, in "
                "the background. Wait for the threads you start before returning (`join()`, or "
                "a `with ThreadPoolExecutor(...)` block); restart the kernel to stop these."
            )
        return lines


@contextmanager
def guarded() -> Iterator[Guarded]:
    """Bound the output, refuse ``os._exit`` and name the threads left running, for one check."""
    seen = Guarded()
    before = set(threading.enumerate())
    real_exit = os._exit
    owner = os.getpid()

    def refuse_exit(code: int) -> None:
        if os.getpid() != owner:  # a forked child (multiprocessing) must still exit for real
            real_exit(code)
        raise LearnerCalledExit(code)

    saved_streams = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = seen.output
    os._exit = refuse_exit  # type: ignore[assignment]
    try:
        yield seen
    finally:
        os._exit = real_exit
        sys.stdout, sys.stderr = saved_streams
        seen.threads_left = _threads_left(before)


def _threads_left(before: set[threading.Thread]) -> list[str]:
    """Names of threads started since ``before`` that are still alive after a short grace."""
    deadline = time.monotonic() + THREAD_GRACE_S
    while True:
        new = [
            t
            for t in threading.enumerate()
            if t not in before and t.is_alive() and not _is_course_thread(t)
        ]
        if not new or time.monotonic() >= deadline:
            return [t.name for t in new]
        new[0].join(0.05)


def _is_course_thread(thread: threading.Thread) -> bool:
    return any(mark in thread.name for mark in _COURSE_THREAD_MARKS)
