"""What the two generating endpoints share when ``stream: true``: parameters, deltas, framing.

A streamed answer is generated, billed and admitted exactly like a non-streamed one (same text,
same ``usage``); only its delivery differs. ``deltas`` cuts the text at token boundaries into
whole-character pieces, one per token as the service sends them; the endpoint's event
generator yields the seconds to wait before each one (a float between the frames) so that time
to first token and total time follow the model's latency profile; whoever sends the stream does
the waiting (``http`` with a socket, ``inprocess`` with ``time.sleep`` or ``asyncio.sleep``), so
the endpoint never blocks. ``sse`` frames one event; ``http`` writes the frames.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from course_utils.tokens import encoding_for

from ..error_replies import bad_request
from ..model import profile
from ..protocol import Host

__all__ = [
    "DONE",
    "Pacer",
    "StreamSettings",
    "cut_point",
    "deltas",
    "sse",
    "stream_settings",
]

DONE = b"data: [DONE]\n\n"  # Chat Completions' last frame


@dataclass(frozen=True)
class StreamSettings:
    """``stream`` and its ``stream_options``, as checked."""

    stream: bool = False
    include_usage: bool = False  # Chat: a last chunk with empty choices and the usage


def stream_settings(body: dict, endpoint: str) -> StreamSettings:
    """``stream`` (a boolean) and ``stream_options``, or the service's 400 for a bad value.

    ``stream_options`` is only allowed with ``stream: true``; it takes ``include_obfuscation``
    (accepted; the simulator pads nothing) and, on Chat, ``include_usage``.
    """
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise bad_request(
            f"Invalid type for 'stream': expected a boolean, but got {type(stream).__name__} "
            "instead.",
            "stream",
            "invalid_type",
        )
    options = body.get("stream_options")
    if options is None:
        return StreamSettings(bool(stream))
    if not stream:
        raise bad_request(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
            "invalid_value",
        )
    if not isinstance(options, dict):
        raise bad_request(
            f"Invalid type for 'stream_options': expected an object, but got "
            f"{type(options).__name__} instead.",
            "stream_options",
            "invalid_type",
        )
    names = ["include_obfuscation"] + (["include_usage"] if endpoint == "chat" else [])
    for name, value in options.items():
        if name not in names:
            raise bad_request(
                f"Unknown parameter: 'stream_options.{name}'.",
                f"stream_options.{name}",
                "unknown_parameter",
            )
        if not isinstance(value, bool):
            raise bad_request(
                f"Invalid type for 'stream_options.{name}': expected a boolean, but got "
                f"{type(value).__name__} instead.",
                f"stream_options.{name}",
                "invalid_type",
            )
    return StreamSettings(True, bool(options.get("include_usage", False)))


class Pacer:
    """Keeps a stream on its schedule: each ``wait`` is due at start + the waits so far.

    Waiting each delta's own time would add the cost of writing every event to the total, so a
    long streamed answer would finish visibly later than the same answer as JSON.
    """

    def __init__(self, host: Host) -> None:
        self.host = host
        self.due = host.now()

    def wait(self, seconds: float) -> float:
        """The seconds left until ``seconds`` after the previous wait was due (0 if late):
        the stream yields it and its sender waits."""
        self.due += seconds
        return max(0.0, self.due - self.host.now())


def deltas(text: str, model: str) -> list[tuple[str, int]]:
    """``text`` in the pieces a stream sends: (piece, tokens), one token each where possible.

    A character that the tokenizer splits over several tokens (many emoji) stays whole in one
    piece that counts all of them, so every delta is valid text. The pieces join to ``text``.
    """
    if not text:
        return []
    enc = encoding_for(profile(model).id)
    ids = enc.encode_ordinary(text)
    _, offsets = enc.decode_with_offsets(ids)
    pieces: list[tuple[str, int]] = []
    i = 0
    while i < len(ids):
        j = i + 1
        while j < len(ids) and offsets[j] <= offsets[i]:  # a token that starts mid-character
            j += 1
        end = offsets[j] if j < len(ids) else len(text)
        pieces.append((text[offsets[i] : end], j - i))
        i = j
    return pieces


def cut_point(n_deltas: int) -> int:
    """Where fault ``stream_cut`` drops the connection: after about half the deltas (at least
    one when there are any)."""
    return max(1, n_deltas // 2) if n_deltas else 0


def sse(data: dict, event: str | None = None) -> bytes:
    """One server-sent event: ``event: NAME`` (Responses) and a one-line ``data:`` JSON."""
    line = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {line}\n\n".encode()
