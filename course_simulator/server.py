"""The simulator: one app (the request pipeline), served over a socket or in-process.

``Simulator.handle(method, target, headers, body) -> Reply`` is the whole API as a plain
callable: route → API key → injected fault → JSON body → endpoint (validate, reserve rate-limit
budget, generate, serialise). It never waits and never touches a socket; whoever sends the
reply does (its ``delay_s``, a stream's pacing, a held or dropped connection). Two senders:

- ``Simulator()`` (``serve=True``) runs ``http.Server`` on a port: real sockets, real 429s, for
  the lessons and the class server (which adds the key check before the body is read, a fair
  share per key and a bound on keyless connections per address; see ``http``);
- ``Simulator(serve=False)`` binds nothing: ``sim.transport()`` / ``sim.async_transport()`` are
  httpx2 transports (``inprocess``) and ``sim.client()`` / ``sim.async_client()`` SDK clients
  that call ``handle`` directly, with no socket and no thread (fast tests, a browser kernel).

The key is checked before any fault: a keyless request cannot hold a connection with
``X-Sim-Fault: timeout``. Every request is answered and recorded in ``Simulator.requests``:
protocol errors found by ``http`` come in as ``body_error``; anything the simulator's own code
raises is a bug, a 500 (``bugs``), its traceback kept in ``Simulator.server_errors``. What it
keeps is bounded: the newest ``request_log_max`` records (``REQUEST_LOG_MAX``, 10,000), the
buckets of ``max_keys`` keys (``limits.MAX_KEYS``, 10,000; least recently used forgotten first),
the newest ``MAX_SERVER_ERRORS`` (1,000) tracebacks.
"""

from __future__ import annotations

import math
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from course_utils.platform import IN_BROWSER

from .batch_worker import DEFAULT_BATCH_TIME_SCALE, DEFAULT_ENQUEUED_TOKEN_LIMIT, BatchService
from .bugs import MAX_SERVER_ERRORS, Bugs
from .endpoints import ROUTES, Route, allowed_methods, match_route, max_body, online_endpoint
from .error_replies import (
    SimError,
    bad_request,
    invalid_key,
    mask_key,
    missing_key,
    no_route,
    rate_limited,
)
from .fair_share import DEFAULT_SLOTS, FairShare
from .faults import FAULT_HEADER, FAULTS, FaultPlan, fault_reply
from .http import MAX_CONNECTIONS, MAX_UNKEYED_PER_ADDRESS, READ_TIMEOUT_S, Server
from .latency import latency_parts, request_latency
from .limits import MAX_KEYS, KeyBuckets
from .prompt_cache import PromptCache
from .protocol import Call, Reply, RequestRecord, SideRoute, new_id
from .request_body import MAX_JSON_DEPTH, bearer, is_multipart, parse_body

if TYPE_CHECKING:
    import httpx2
    import openai

__all__ = [
    "DEFAULT_CLIENT_KEY",
    "HOLD_MAX_S",
    "IN_PROCESS_URL",
    "MAX_JSON_DEPTH",
    "MAX_SERVER_ERRORS",
    "REQUEST_LOG_MAX",
    "RequestRecord",
    "Simulator",
]

DEFAULT_CLIENT_KEY = "sim-course-key"
HOLD_MAX_S = 30.0  # default: a "timeout" fault holds the request at most this long
REQUEST_LOG_MAX = 10_000  # the request log keeps the newest this many records
IN_PROCESS_URL = "http://course-simulator.invalid/v1"  # serve=False: no socket, never resolved
_LIMIT_HEADER = "x-ratelimit-limit-requests"  # one of the six every API reply carries


def _seconds(value: object) -> bool:
    """True for a finite number of seconds > 0 (never a bool)."""
    return type(value) in (int, float) and 0 < value < math.inf  # type: ignore[operator]


class Simulator:
    """An OpenAI-compatible server for the course: ``with Simulator() as sim: sim.client()``.

    ``serve=False`` binds no port: the same app is reached through ``transport()`` /
    ``async_transport()`` (or ``client()`` / ``async_client()``, which mount them).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        rpm: int | None = None,
        tpm: int | None = None,
        fail_rate: float = 0.0,
        latency_ms: float = 0,
        seed: int = 0,
        api_key: str | None = None,
        latency_scale: float = 0.0,
        fault_retry_after_ms: int = 100,
        clock: Callable[[], float] = time.monotonic,
        hold_max_s: float = HOLD_MAX_S,
        accept_key: Callable[[str], bool] | None = None,
        read_timeout_s: float = READ_TIMEOUT_S,
        max_connections: int = MAX_CONNECTIONS,
        request_log_max: int = REQUEST_LOG_MAX,
        max_keys: int = MAX_KEYS,
        batch_time_scale: float = DEFAULT_BATCH_TIME_SCALE,
        batch_enqueued_tokens: int = DEFAULT_ENQUEUED_TOKEN_LIMIT,
        serve: bool | None = None,  # None: a socket, but in-process in a browser tab (none there)
        max_unkeyed_per_address: int = MAX_UNKEYED_PER_ADDRESS,
        pipeline_slots: int = DEFAULT_SLOTS,
    ) -> None:
        if not _seconds(hold_max_s):
            raise ValueError(
                f"hold_max_s must be a number of seconds > 0 (how long a 'timeout' fault holds "
                f"the request before dropping it), got {hold_max_s!r}"
            )
        for name, value in (("latency_ms", latency_ms), ("latency_scale", latency_scale)):
            if not isinstance(value, int | float) or not 0 <= value < math.inf:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port must be 0 (any free port) or 1-65535, got {port!r}")
        if not _seconds(read_timeout_s):
            raise ValueError(
                f"read_timeout_s must be a number of seconds > 0, got {read_timeout_s!r}"
            )
        for name, count in (
            ("max_connections", max_connections),
            ("request_log_max", request_log_max),
            ("max_unkeyed_per_address", max_unkeyed_per_address),
        ):
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {count!r}")
        self.serve = not IN_BROWSER if serve is None else bool(serve)
        self.host, self.port = host, port
        self.latency_ms, self.latency_scale = float(latency_ms), float(latency_scale)
        self.fault_retry_after_ms = fault_retry_after_ms
        self.hold_max_s = float(hold_max_s)
        self._api_key = api_key
        # Class mode (``classroom.attach``): more keys accepted, non-API routes, record observers.
        self.accept_key = accept_key  # a key rule (keys file / prefix), besides ``api_key``
        self.side_routes: dict[tuple[str, str], SideRoute] = {}  # own auth; no faults; unlogged
        self.observers: list[Callable[[RequestRecord, str | None], None]] = []  # (record, key)
        self._clock = clock
        self.read_timeout_s = float(read_timeout_s)
        self.max_connections = max_connections
        self.max_unkeyed_per_address = max_unkeyed_per_address
        self.fair_share = FairShare(pipeline_slots)  # the socket server's turns, per key
        self.request_log_max = request_log_max
        self.limiter = KeyBuckets(rpm, tpm, clock, max_keys=max_keys)
        self.faults = FaultPlan(fail_rate, seed)
        self.prompt_cache = PromptCache(clock)
        self.bugs = Bugs()
        self.server_errors = self.bugs.tracebacks  # the simulator's own bugs (tests fail on them)
        # The Batch API's files and jobs; its lines run through the same endpoints (route_for).
        self.batch = BatchService(
            self.faults, time_scale=batch_time_scale, enqueued_token_limit=batch_enqueued_tokens,
            endpoint_for=online_endpoint, on_crash=self.server_errors.append,
            prompt_cache=self.prompt_cache,
        )  # fmt: skip
        self._log: deque[RequestRecord] = deque(maxlen=request_log_max)
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._running = False

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> Simulator:
        """Serve (a background thread on a port, or in-process); a second start() is an error."""
        if self._running:
            raise RuntimeError(
                f"this Simulator is already running at {self.base_url}; call stop() first, "
                "or create a second Simulator(port=0) for a second server"
            )
        self._release = threading.Event()
        if self.serve:
            try:
                server = Server((self.host, self.port), self, body_limit=max_body)
            except OSError as err:
                raise OSError(
                    f"the simulator could not listen on {self.host}:{self.port} "
                    f"({err.strerror}); pick another --port, or 0 for any free port"
                ) from err
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True,
                name=f"course-simulator:{server.server_address[1]}",
            )  # fmt: skip
            self._thread.start()
        self.batch.start()
        self._running = True
        return self

    def stop(self) -> None:
        """Stop serving, release held requests and close open connections (safe to repeat)."""
        if not self._running:
            return
        self._running = False
        self._release.set()
        self.batch.stop()  # the batch workers first: they hold no connection
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.close_connections()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def reset(self) -> None:
        """Forget the log, queued faults, rate-limit buckets and server errors; free held calls."""
        old, self._release = self._release, threading.Event()
        old.set()
        with self._lock:
            self._log.clear()
        self.bugs.clear()
        self.faults.reset()
        self.limiter.reset()
        self.prompt_cache.clear()
        self.batch.reset()

    def __enter__(self) -> Simulator:
        return self.start()  # a running simulator raises: `with` must not stop someone else's

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self._running else "stopped"
        return f"<Simulator {where} rpm={self.limiter.rpm} tpm={self.limiter.tpm}>"

    # --- public helpers -------------------------------------------------------------------

    @property
    def clock(self) -> Callable[[], float]:
        """The clock request records are stamped with (``clock=``; time.monotonic by default)."""
        return self._clock

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._running

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v1``, the ``base_url`` for ``openai.OpenAI`` (in-process: a name
        that never resolves, ``IN_PROCESS_URL``: only this simulator's transports reach it)."""
        if not self._running:
            raise RuntimeError("the simulator is not running: call start() or use `with sim:`")
        if self._server is None:
            return IN_PROCESS_URL
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def open_connections(self) -> int:
        """How many connections the socket server is serving now (0 in-process)."""
        return self._server.active if self._server is not None else 0

    def transport(self) -> httpx2.BaseTransport:
        """An httpx2 transport that serves each request with this app, in this thread."""
        from .inprocess import SimulatorTransport

        return SimulatorTransport(self)

    def async_transport(self) -> httpx2.AsyncBaseTransport:
        """An asyncio httpx2 transport that serves each request with this app (no thread)."""
        from .inprocess import AsyncSimulatorTransport

        return AsyncSimulatorTransport(self)

    def client(self, **kwargs: Any) -> openai.OpenAI:
        """An SDK client for this simulator, built by the course's one client factory
        (``course_utils.sdk.make_client``; kwargs go to it); in-process when ``serve=False``."""
        return self._client(kwargs, asynchronous=False)

    def async_client(self, **kwargs: Any) -> openai.AsyncOpenAI:
        """``client()`` for asyncio: an ``openai.AsyncOpenAI`` for this simulator."""
        return self._client(kwargs, asynchronous=True)

    def _client(self, kwargs: dict, *, asynchronous: bool) -> Any:
        from course_utils.sdk import make_client  # here: the CLI server starts without the SDK

        kwargs.setdefault("api_key", DEFAULT_CLIENT_KEY)
        kwargs.setdefault("base_url", self.base_url)
        if self._server is None and "http_client" not in kwargs:
            kwargs.setdefault(
                "transport", self.async_transport() if asynchronous else self.transport()
            )
        return make_client(asynchronous=asynchronous, **kwargs)

    def queue_faults(self, faults: Iterable[str | None], *, replace: bool = False) -> None:
        """Script the next generating requests: each a fault kind, or None to serve normally.

        ``replace=True`` drops the faults still pending first, so a re-run cell starts clean.
        """
        self.faults.queue(faults, replace=replace)

    def clear_faults(self) -> None:
        """Drop every queued fault (the ``fail_rate`` draw and the request log are kept)."""
        self.faults.clear()

    @property
    def pending_faults(self) -> list[str | None]:
        """A snapshot of the queued faults, next first."""
        return self.faults.pending

    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of the requests that arrived, oldest first."""
        with self._lock:
            return list(self._log)

    # --- the app --------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: Any, raw: bytes, body_error: SimError | None = None
    ) -> Reply:
        """Answer one request (``headers``: any mapping with a case-blind ``get``).

        Never raises, never waits, always records. ``body_error``: a refusal the sender found
        first (bad framing, a key refused from the headers), answered and recorded the same.
        """
        started = self._clock()
        call = Call(method, "/", headers, None, {}, raw, new_id("req_"))
        fault = None
        try:
            try:
                url = urlsplit(target)
                call.path, call.query = url.path.rstrip("/") or "/", url.query
                call.key = bearer(headers)
                multipart = is_multipart(headers)  # an upload: the endpoint reads the raw body
                body, body_problem = ({}, None) if multipart else parse_body(raw)
                call.body = body if body is not None else {}
                side = self.side_routes.get((method, call.path))
                if side is not None and body_error is None:
                    return self._serve_side(side, call)  # its own auth; not in the log
                if body_error is not None:
                    raise body_error
                route, call.params = self._route_and_key(method, call.path, call.key)
                fault = self._next_fault(headers, route.generating)
                if fault is not None and FAULTS[fault].action != "cut":
                    reply = fault_reply(fault, call, self.fault_retry_after_ms / 1000)
                elif body_problem is not None:
                    raise body_problem
                elif multipart and not route.multipart:
                    raise bad_request(
                        f"{method} {call.path} takes a JSON body, not multipart/form-data."
                    )
                else:
                    call.fault = fault  # a "cut" fault: served, then its reply is broken
                    reply = route.endpoint(self, call)
            except SimError as err:
                reply = Reply(err.status, err.body(), dict(err.headers), err.outcome)
            if reply.stream is not None:
                reply.stream = self.bugs.guarded(reply.stream)
            # an admitted reply carries its buckets' headers already: not computed twice
            limits = {} if _LIMIT_HEADER in reply.headers else self.limiter.headers(call.key or "")
            reply.headers = {**limits, **reply.headers, "x-request-id": call.request_id}
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # a bug: even a Rust panic (a BaseException) is answered
            reply = self.bugs.reply(call, exc)
        self._record(call, reply, started, fault)
        return reply

    def precheck(self, method: str, target: str, headers: Any) -> SimError | None:
        """What the headers alone decide, before a body is read: the 404 of an unknown route,
        the 401 of a missing or refused key; None when the body is worth reading."""
        path = urlsplit(target).path.rstrip("/") or "/"
        if (method, path) in self.side_routes:
            return None
        try:
            self._route_and_key(method, path, bearer(headers))
        except SimError as err:
            return err
        return None

    def key_is_valid(self, headers: Any) -> bool:
        """True when the request's key is accepted (``http`` counts keyless connections)."""
        try:
            self._authenticate(bearer(headers))
        except SimError:
            return False
        return True

    def _route_and_key(self, method: str, path: str, key: str | None) -> tuple[Route, dict]:
        found = match_route(method, path)
        if found is None:
            served = [f"{m} {p}" for m, p in ROUTES]
            raise no_route(method, path, served, allowed_methods(path))
        self._authenticate(key)  # before any fault: no keyless holds
        return found

    def _record(self, call: Call, reply: Reply, started: float, fault: str | None) -> None:
        record = RequestRecord(
            time=started,
            method=call.method,
            path=call.path,
            key_hint=mask_key(call.key),
            model=call.model,
            status=reply.status if reply.action == "respond" else None,
            outcome=reply.outcome,
            request_id=call.request_id,
            fault=fault,
            input_tokens=reply.input_tokens,
            output_tokens=reply.output_tokens,
            key_refused=reply.outcome == "auth" and fault is None,
        )
        with self._lock:
            self._log.append(record)
        for observe in self.observers:
            try:
                observe(record, call.key)
            except Exception:  # an observer's bug must not cost the learner their answer
                self.bugs.keep(traceback.format_exc())

    def _serve_side(self, handler: SideRoute, call: Call) -> Reply:
        """A non-API route (the class server's admin and live view): it does its own auth,
        takes no fault, sends no rate-limit headers and is not in the request log."""
        try:
            reply = handler(call)
        except SimError as err:
            reply = Reply(err.status, err.body(), dict(err.headers), err.outcome)
        except Exception as exc:  # a bug: the traceback goes to server_errors, never on the wire
            reply = self.bugs.reply(call, exc)
        reply.headers = {**reply.headers, "x-request-id": call.request_id}
        return reply

    def _next_fault(self, headers: Any, generating: bool) -> str | None:
        try:
            return self.faults.next_fault(headers.get(FAULT_HEADER), generating=generating)
        except ValueError as err:
            raise bad_request(str(err), FAULT_HEADER) from None

    def crash_outside(self, tb: str) -> None:
        """A traceback from outside the pipeline (the socket server): kept and logged."""
        self.bugs.outside(tb)

    def _authenticate(self, key: str | None) -> None:
        if key is None:
            raise missing_key()
        if self.accept_key is not None:
            if key == self._api_key or self.accept_key(key):
                return
            raise invalid_key(key)
        if self._api_key is not None and key != self._api_key:
            raise invalid_key(key)

    # --- what endpoints may ask of the server (protocol.Host) ------------------------------

    def admit(self, call: Call, model: str, tokens: int) -> dict[str, str]:
        """Reserve ``tokens`` for this key (returning the headers) or raise the service's 429."""
        admission = self.limiter.admit(call.key or "", tokens)
        if admission.admitted:
            return admission.headers
        raise rate_limited(admission, model)

    def timing(
        self, call: Call, model: str | None, input_tokens: int = 0, cached_tokens: int = 0
    ) -> tuple[float, float]:
        """(seconds before the first output token, seconds per output token) for ``call``:
        ``latency_ms`` + ``latency_scale`` x the model's profile, or what the request's
        ``X-Sim-Latency-Ms`` / ``X-Sim-Latency-Scale`` headers ask (see ``latency``)."""
        extra_ms, scale = request_latency(call)
        scale = self.latency_scale if scale is None else scale
        return latency_parts(model, self.latency_ms + extra_ms, scale, input_tokens, cached_tokens)

    def latency_s(
        self, model: str | None, output_tokens: int, *, input_tokens: int = 0,
        cached_tokens: int = 0,
    ) -> float:  # fmt: skip
        """The whole simulated latency of an answer (what a JSON reply waits)."""
        first, per_token = latency_parts(
            model, self.latency_ms, self.latency_scale, input_tokens, cached_tokens
        )
        return first + per_token * output_tokens

    def pause(self, seconds: float) -> None:
        """Wait ``seconds`` (released at once by stop()/reset())."""
        if seconds > 0 and not IN_BROWSER:  # a browser tab waits for no one: no latency there
            self._release.wait(seconds)

    def release_signal(self) -> threading.Event:
        """The event the next stop()/reset() sets: a request held now waits on it."""
        return self._release

    def now(self) -> float:
        """The simulator's clock (``clock=``, time.monotonic by default)."""
        return self._clock()
