"""The simulator's own bugs: kept for tests and the log, answered as a 500, never sent or printed.

Anything the simulator's code raises while answering (even a ``BaseException`` such as
tiktoken's Rust panic, but not Ctrl+C) is a bug, not a simulated fault: the request gets an
OpenAI-shaped 500 ``simulator_internal_error`` naming its id and the exception's type, with
``x-should-retry: false``; the traceback goes to ``Bugs.tracebacks`` (``Simulator.server_errors``:
tests fail on it, at most ``MAX_SERVER_ERRORS`` newest kept) and to the
``course_simulator`` logger, which has no handler of its own (silent unless the user
configures logging).
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Iterator

from .error_replies import error_body
from .protocol import Call, Reply, StreamCut

__all__ = ["MAX_SERVER_ERRORS", "Bugs", "log"]

MAX_SERVER_ERRORS = 1_000  # the newest this many tracebacks are kept

log = logging.getLogger("course_simulator")
log.addHandler(logging.NullHandler())  # no handler of the user's: silent, never stderr


class Bugs:
    """The bounded list of tracebacks, and the replies a bug earns."""

    def __init__(self) -> None:
        self.tracebacks: list[str] = []
        self._lock = threading.Lock()

    def keep(self, tb: str) -> None:
        """Keep one traceback (the oldest goes past ``MAX_SERVER_ERRORS``)."""
        with self._lock:
            self.tracebacks.append(tb)
            del self.tracebacks[:-MAX_SERVER_ERRORS]

    def clear(self) -> None:
        with self._lock:
            self.tracebacks.clear()

    def reply(self, call: Call, exc: BaseException | None = None) -> Reply:
        """The 500 for a bug while answering ``call`` (call it inside the ``except``)."""
        tb = traceback.format_exc()
        self.keep(tb)
        kind = type(exc).__name__ if exc is not None else "an error"
        log.error(
            "course simulator internal error (%s) on %s %s, request %s; the traceback is in "
            "Simulator.server_errors",
            kind, call.method, call.path, call.request_id,
        )  # fmt: skip
        log.debug("traceback of request %s:\n%s", call.request_id, tb)
        body = error_body(
            f"The course simulator itself failed ({kind}; a bug, not a simulated fault) on "
            f"request {call.request_id}. Retrying will not help; the details are kept in "
            "Simulator.server_errors and the 'course_simulator' log.",
            "server_error",
            None,
            "simulator_internal_error",
        )
        headers = {"x-should-retry": "false", "x-request-id": call.request_id}
        return Reply(500, body, headers, "internal_error")

    def guarded(self, stream: Iterator[bytes | float]) -> Iterator[bytes | float]:
        """``stream``, whose own failure (after the status line went out) is kept and drops
        the connection (``StreamCut``)."""
        try:
            yield from stream
        except (StreamCut, GeneratorExit):
            raise
        except Exception:
            self.keep(traceback.format_exc())
            log.error("course simulator internal error in a reply stream; see server_errors")
            raise StreamCut from None

    def outside(self, tb: str) -> None:
        """A traceback from outside the pipeline (the socket server): kept and logged."""
        self.keep(tb)
        log.error("course simulator internal error in its HTTP layer; see Simulator.server_errors")
        log.debug("%s", tb)
