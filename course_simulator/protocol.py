"""The simulator's wire types: what arrived (``Call``), what goes back (``Reply``), what is logged.

Endpoints take a ``Call`` and return a ``Reply``; only ``http`` turns a reply into bytes, so a
new kind of reply (a stream of server-sent events, a batch file) needs no change to the pipeline.
A streamed reply carries ``stream``: an iterator of already-framed event bytes, with between them
the seconds to wait before the next (a float), that ``http`` or ``inprocess`` sends as they come
and that may raise ``StreamCut`` to drop the connection half-way. A whole reply waits
``delay_s`` (its simulated latency) before it is sent. The sender waits, never the endpoint, so
one app serves a socket (threads) and an in-process transport (``asyncio``, or the browser's one
thread) alike. ``Host`` is the little an endpoint may ask of the server it runs in
(admission against the rate-limit buckets, the simulated latency, the prompt cache), so
endpoints never import the server.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .batch_worker import BatchService
    from .prompt_cache import PromptCache

__all__ = [
    "Call",
    "Endpoint",
    "Host",
    "Reply",
    "RequestRecord",
    "SideRoute",
    "StreamCut",
    "new_id",
]


_COMPACT = json.JSONEncoder(separators=(",", ":"))  # built once, not per reply (json.dumps)


def new_id(prefix: str) -> str:
    """An object id in the service's style (``req_…``, ``resp_…``, ``file-…``): 32 random hex
    digits, read straight from ``os.urandom`` (a ``uuid4`` costs some 15 times as much)."""
    return prefix + os.urandom(16).hex()


@dataclass(frozen=True)
class RequestRecord:
    """What one request looked like from the server's side (the key only ever masked)."""

    time: float  # the simulator's clock (``clock=``, time.monotonic by default) on arrival
    method: str
    path: str
    key_hint: str
    model: str | None
    status: int | None  # None: no response was sent (dropped or held past the client's timeout)
    outcome: str
    request_id: str
    fault: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    # The server refused the request's key (missing or not accepted; not the simulated ``auth``
    # fault): a live view can count refused keys without showing them.
    key_refused: bool = False


@dataclass
class Reply:
    """An endpoint's answer before serialisation: ``action`` is respond, hold or drop."""

    status: int = 200
    body: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)
    outcome: str = "ok"
    action: str = "respond"
    input_tokens: int | None = None
    output_tokens: int | None = None
    # Not JSON and not text: the body as bytes (a file's content), sent with ``content_type``.
    content: bytes | None = None
    text: str | None = None  # a body that is not JSON (the live view's HTML), sent as is
    content_type: str = "application/json"
    # A streamed body: framed server-sent events, written and flushed one by one, and between
    # them a float: the seconds the sender waits before the next event (the stream's pacing).
    stream: Iterator[bytes | float] | None = None
    delay_s: float = 0.0  # a whole reply is sent after this simulated latency

    def payload(self) -> bytes:
        """The whole body as bytes: raw ``content``, ``text``, or the JSON ``body``."""
        if self.content is not None:
            return self.content
        if self.text is not None:
            return self.text.encode()
        return _COMPACT.encode(self.body).encode()


class StreamCut(Exception):
    """Raised by a reply's ``stream`` to drop the connection before the body is complete."""


@dataclass
class Call:
    """One parsed request as endpoints see it."""

    method: str
    path: str
    headers: Any
    key: str | None
    body: dict
    raw: bytes
    request_id: str
    params: dict[str, str] = field(default_factory=dict)  # path parameters: {"file_id": ...}
    query: str = ""  # the query string, without "?" (list endpoints read after= and limit=)
    # A fault that lets the request be served and then spoils its reply (``stream_cut``).
    fault: str | None = None

    @property
    def model(self) -> str | None:
        model = self.body.get("model")
        return model if isinstance(model, str) and model else None


class Host(Protocol):
    """What an endpoint may ask of the server running it."""

    def admit(self, call: Call, model: str, tokens: int) -> dict[str, str]:
        """Reserve ``tokens`` for the call's key (returning the rate-limit headers) or raise
        the service's 429."""
        ...

    @property
    def batch(self) -> BatchService:
        """The files and batches of the Batch API (``batch_worker.BatchService``)."""
        ...

    prompt_cache: PromptCache
    """The server's prompt cache (per API key and ``prompt_cache_key``)."""

    def timing(
        self, call: Call, model: str | None, input_tokens: int = 0, cached_tokens: int = 0
    ) -> tuple[float, float]:
        """(seconds before the first output token, seconds per output token) for ``call``."""
        ...

    def now(self) -> float:
        """The server's clock (``clock=``), so a stream keeps to its schedule without drift."""
        ...


Endpoint = Callable[[Host, Call], Reply]
SideRoute = Callable[[Call], Reply]
"""A route outside the API (the class server's admin endpoint and live view): see ``classroom``."""
