"""The simulator without a socket: httpx2 transports that hand each request to the app.

``Simulator(serve=False)`` binds no port; ``sim.transport()`` (sync) and
``sim.async_transport()`` (asyncio) are httpx2 transports that pass each request straight to
``Simulator.handle``, the same pipeline the socket server runs (routes, auth, faults, limits,
endpoints, the request log). ``sim.client()`` and ``sim.async_client()`` mount them for you.
Neither starts a thread, so the async one runs in a browser kernel (Pyodide) as well.

A fault has no socket to break, so each becomes the error httpx2 raises for the real thing,
which the SDK turns into the same exception class as over HTTP:

- a dropped connection (``disconnect``, or a JSON reply cut by ``stream_cut``) raises
  ``httpx2.RemoteProtocolError`` ("Server disconnected"): the SDK's ``APIConnectionError``;
- a stream cut half-way raises it while the body is read: ``APIConnectionError`` in the loop;
- a held request (``timeout``) raises ``httpx2.ReadTimeout`` at once, and so does a reply whose
  simulated latency exceeds the request's read timeout: ``APITimeoutError``, without the wait
  (a held request over a socket waits for the client to give up);
- every response fault (429, 500, 503, 400, 401, ...) is the very same reply, headers included.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Protocol

import httpx2

from .error_replies import SimError
from .protocol import Reply, StreamCut

__all__ = ["AsyncSimulatorTransport", "SimulatorTransport"]

_DROPPED = "Server disconnected without sending a response (simulated fault, in-process)."
_CUT = "peer closed connection without sending complete message body (simulated stream cut)"
_HELD = "The simulator held the request (fault 'timeout'); in-process it times out at once."
_SLOW = "The simulated latency ({:.1f} s) is longer than the request's read timeout ({:.1f} s)."


class App(Protocol):
    """What a transport needs of the simulator: its pipeline and its release-aware wait."""

    def handle(
        self, method: str, target: str, headers: Any, raw: bytes, body_error: SimError | None = None
    ) -> Reply: ...

    def pause(self, seconds: float) -> None: ...


def _read_timeout(request: httpx2.Request) -> float | None:
    timeout = request.extensions.get("timeout") or {}
    value = timeout.get("read")
    return float(value) if value is not None else None


def _check_wait(request: httpx2.Request, seconds: float) -> None:
    """A wait longer than the client would: its timeout, raised at once (no one waits)."""
    limit = _read_timeout(request)
    if limit is not None and seconds > limit:
        raise httpx2.ReadTimeout(_SLOW.format(seconds, limit), request=request)


def _serve(app: App, request: httpx2.Request, raw: bytes) -> Reply:
    """The app's reply, or the timeout a held (or too slow) request raises."""
    target = request.url.raw_path.decode("ascii", "replace")
    reply = app.handle(request.method, target, request.headers, raw)
    if reply.action == "hold":
        raise httpx2.ReadTimeout(_HELD, request=request)
    _check_wait(request, reply.delay_s)
    return reply


def _dropped(request: httpx2.Request, reply: Reply) -> None:
    """A dropped connection (after its latency, as over a socket) raises as httpx2 would."""
    if reply.action == "drop":
        raise httpx2.RemoteProtocolError(_DROPPED, request=request)


def _response(request: httpx2.Request, reply: Reply, stream: Any) -> httpx2.Response:
    """``reply`` as an httpx2 response: a streamed body, or the whole body with its length."""
    if stream is not None:
        headers = {
            "content-type": "text/event-stream; charset=utf-8",
            "cache-control": "no-cache",
            "transfer-encoding": "chunked",
            **reply.headers,
        }
        return httpx2.Response(reply.status, headers=headers, stream=stream, request=request)
    data = reply.payload()
    headers = {"content-type": reply.content_type, "content-length": str(len(data)),
               **reply.headers}  # fmt: skip
    content = b"" if request.method == "HEAD" else data
    return httpx2.Response(reply.status, headers=headers, content=content, request=request)


class _Frames(httpx2.SyncByteStream):
    """A reply stream read by the client: waits between events, a cut raises as a socket's."""

    def __init__(self, frames: Iterator[bytes | float], pause: Callable[[float], None],
                 request: httpx2.Request) -> None:  # fmt: skip
        self._frames, self._pause, self._request = frames, pause, request

    def __iter__(self) -> Iterator[bytes]:
        try:
            for frame in self._frames:
                if isinstance(frame, float):
                    _check_wait(self._request, frame)
                    self._pause(frame)
                elif frame:
                    yield frame
        except StreamCut:
            raise httpx2.RemoteProtocolError(_CUT, request=self._request) from None

    def close(self) -> None:
        close = getattr(self._frames, "close", None)
        if close is not None:
            close()


class _AsyncFrames(httpx2.AsyncByteStream):
    """``_Frames`` for asyncio: the waits are ``asyncio.sleep``, so the loop keeps running."""

    def __init__(self, frames: Iterator[bytes | float], request: httpx2.Request) -> None:
        self._frames, self._request = frames, request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            for frame in self._frames:
                if isinstance(frame, float):
                    _check_wait(self._request, frame)
                    await asyncio.sleep(frame)
                elif frame:
                    yield frame
        except StreamCut:
            raise httpx2.RemoteProtocolError(_CUT, request=self._request) from None

    async def aclose(self) -> None:
        close = getattr(self._frames, "close", None)
        if close is not None:
            close()


class SimulatorTransport(httpx2.BaseTransport):
    """A sync httpx2 transport serving requests with ``app`` in this thread (no socket)."""

    def __init__(self, app: App) -> None:
        self.app = app

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        reply = _serve(self.app, request, request.read())
        if reply.stream is not None:
            return _response(request, reply, _Frames(reply.stream, self.app.pause, request))
        self.app.pause(reply.delay_s)
        _dropped(request, reply)
        return _response(request, reply, None)


class AsyncSimulatorTransport(httpx2.AsyncBaseTransport):
    """An asyncio httpx2 transport serving requests with ``app`` on the running loop."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        reply = _serve(self.app, request, await request.aread())
        if reply.stream is not None:
            return _response(request, reply, _AsyncFrames(reply.stream, request))
        if reply.delay_s > 0:
            await asyncio.sleep(reply.delay_s)
        _dropped(request, reply)
        return _response(request, reply, None)
