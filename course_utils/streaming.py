"""Reading a streamed answer: time to first token, and what to do when a stream breaks.

``read_stream`` sends one Responses request with ``stream=True`` and reads its events, timing
the first text delta and the end; tokens and cost come from the final event's ``usage``, the
same numbers a non-streamed call reports.

An error *before* the stream starts (a 429, a 5xx, a bad parameter) is raised by
``responses.create`` itself, so the SDK's retries and the course's ``retry_call`` handle it as
usual. An error *half-way* (the connection drops after some text arrived) is raised inside the
loop that reads the events, after the SDK has returned: it cannot retry it, since a retry would
repeat text the user has already seen (and be billed again). Two honest answers:

- ``read_stream`` keeps what arrived and marks it: ``status == "interrupted"``, ``complete``
  False, the error kept, so the caller can show the partial text as unfinished;
- ``stream_with_restart`` starts again and replaces it, telling the caller (``on_restart``) to
  clear what it showed, for as many attempts as you allow.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import openai

__all__ = [
    "INTERRUPTED",
    "StreamRun",
    "read_stream",
    "stream_with_restart",
]

INTERRUPTED = "interrupted"  # StreamRun.status of a stream that broke half-way


@dataclass(frozen=True)
class StreamRun:
    """One streamed answer as it arrived: the text, how it ended and when, and its usage."""

    text: str
    status: str  # "completed", "incomplete" (max_output_tokens...), "failed" or "interrupted"
    first_token_s: float | None  # seconds to the first text delta (None: no text arrived)
    total_s: float  # seconds from sending to the last event (or the error)
    usage: Any = None  # the final event's usage (the SDK's ResponseUsage); None if interrupted
    incomplete_reason: str | None = None  # "max_output_tokens", ...; or the error's class name
    error: BaseException | None = None  # what broke an interrupted stream
    attempts: int = 1  # streams started for this answer (stream_with_restart)

    @property
    def complete(self) -> bool:
        """True only when the answer finished normally (``response.completed``)."""
        return self.status == "completed"

    @property
    def interrupted(self) -> bool:
        """True when the stream broke half-way: ``text`` is only what arrived before."""
        return self.status == INTERRUPTED

    def shown_text(self, marker: str = " […answer interrupted]") -> str:
        """The text as a user should see it: an interrupted answer carries ``marker``."""
        return self.text + marker if self.interrupted else self.text


def read_stream(
    client: Any,
    *,
    on_delta: Callable[[str], object] | None = None,
    clock: Callable[[], float] = time.perf_counter,
    **request: Any,
) -> StreamRun:
    """Stream ``client.responses.create(**request, stream=True)``; keep what arrives.

    ``on_delta(piece)`` is called for each text delta as it arrives (print it, update a
    widget). An API error raised when the request is sent propagates (nothing arrived: retry
    it as any other call). An API error raised while reading (``openai.APIError``: a dropped
    connection) or an ``error`` event ends the run with ``status="interrupted"`` and the text so
    far; ``response.failed`` ends it with ``status="failed"``.
    """
    started = clock()
    stream = client.responses.create(**request, stream=True)
    pieces: list[str] = []
    first: float | None = None
    final: Any = None
    try:
        for event in stream:
            kind = getattr(event, "type", "")
            if kind == "response.output_text.delta":
                if first is None:
                    first = clock() - started
                pieces.append(event.delta)
                if on_delta is not None:
                    on_delta(event.delta)
            elif kind in ("response.completed", "response.incomplete", "response.failed"):
                final = event.response
            elif kind == "error":  # the service reports a failure inside the stream
                return StreamRun(
                    "".join(pieces), INTERRUPTED, first, clock() - started,
                    incomplete_reason=str(getattr(event, "code", None) or "error event"),
                )  # fmt: skip
    except openai.APIError as err:
        return StreamRun(
            "".join(pieces), INTERRUPTED, first, clock() - started,
            incomplete_reason=type(err).__name__, error=err,
        )  # fmt: skip
    finally:
        stream.close()
    total = clock() - started
    if final is None:  # the body ended without a last event: as broken as a dropped connection
        return StreamRun("".join(pieces), INTERRUPTED, first, total,
                         incomplete_reason="no final event")  # fmt: skip
    details = getattr(final, "incomplete_details", None)
    return StreamRun(
        "".join(pieces), str(final.status), first, total, usage=final.usage,
        incomplete_reason=getattr(details, "reason", None),
    )  # fmt: skip


def stream_with_restart(
    client: Any,
    *,
    attempts: int = 2,
    on_delta: Callable[[str], object] | None = None,
    on_restart: Callable[[StreamRun], object] | None = None,
    clock: Callable[[], float] = time.perf_counter,
    **request: Any,
) -> StreamRun:
    """Stream the request; if it breaks half-way, start again and replace the partial text.

    ``on_restart(broken_run)`` is called before each new attempt: clear what ``on_delta``
    showed. Every attempt is a full request, billed in full. After ``attempts`` broken streams
    the last (interrupted) run is returned, so the caller still decides what to show.
    """
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise ValueError(f"attempts must be a whole number >= 1, got {attempts!r}")
    run: StreamRun | None = None
    for attempt in range(1, attempts + 1):
        if run is not None and on_restart is not None:
            on_restart(run)
        run = read_stream(client, on_delta=on_delta, clock=clock, **request)
        run = replace(run, attempts=attempt)
        if not run.interrupted:
            return run
    assert run is not None
    return run
