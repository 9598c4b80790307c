"""The simulator's server: lifecycle, the request pipeline, auth, admission and the request log.

One request goes: route → API key → injected fault → JSON body → endpoint (validate, reserve
rate-limit budget, generate, serialise). The key is checked before any fault, so a keyless
request cannot hold a thread with ``X-Sim-Fault: timeout``. The route table is
``endpoints.ROUTES``, the faults ``faults.FAULTS``, the wire types ``protocol``, bytes ``http``.

Every request that reaches the pipeline is answered and recorded in ``Simulator.requests``,
whatever happens: protocol errors found by ``http`` come in as ``body_error``, and anything the
simulator's own code raises (even a ``BaseException`` such as tiktoken's Rust panic, but not
Ctrl+C) is a bug: an OpenAI-shaped 500 ``simulator_internal_error`` naming the request id and
the exception's type. Its traceback goes to ``Simulator.server_errors`` (tests fail on it) and
the ``course_simulator`` logger, never over the wire or to stderr.

What the server keeps is bounded: the request log holds the newest ``request_log_max`` records
(``REQUEST_LOG_MAX``, 10,000; a ring buffer), the rate limiter the buckets of ``max_keys`` keys
(``limits.MAX_KEYS``, 10,000; least recently used forgotten first), ``server_errors`` the newest
``MAX_SERVER_ERRORS`` (1,000) tracebacks.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from .batch_worker import DEFAULT_BATCH_TIME_SCALE, DEFAULT_ENQUEUED_TOKEN_LIMIT, BatchService
from .caching import CACHED_PREFILL_SHARE, PromptCache
from .endpoints import ROUTES, allowed_methods, match_route, route_for
from .errors import (
    ORG,
    RATE_LIMIT_DOCS,
    SimError,
    bad_request,
    error_body,
    invalid_key,
    mask_key,
    retry_headers,
)
from .faults import FAULT_HEADER, FAULTS, FaultPlan, fault_reply
from .http import MAX_BODY_BYTES, MAX_CONNECTIONS, READ_TIMEOUT_S, Server
from .limits import MAX_KEYS, RateLimiter, format_duration
from .model import profile
from .protocol import Call, Endpoint, Reply, RequestRecord, SideRoute, StreamCut

__all__ = [
    "DEFAULT_CLIENT_KEY",
    "HOLD_MAX_S",
    "MAX_JSON_DEPTH",
    "MAX_SERVER_ERRORS",
    "REQUEST_LOG_MAX",
    "RequestRecord",
    "Simulator",
]

DEFAULT_CLIENT_KEY = "sim-course-key"
HOLD_MAX_S = 30.0  # default: a "timeout" fault holds the request at most this long
MAX_EXTRA_LATENCY_MS = 30_000  # the largest X-Sim-Latency-Ms a request may ask for
MAX_LATENCY_SCALE = 10.0  # the largest X-Sim-Latency-Scale a request may ask for
# Processing one fresh input token takes this share of the time to write one output token (a
# teaching approximation): a long prompt delays the first token, a cached prefix much less.
PREFILL_SHARE_OF_OUTPUT_TOKEN = 0.04
MAX_JSON_DEPTH = 64  # a body nested deeper is a 400 (a schema or message list is far shallower)
REQUEST_LOG_MAX = 10_000  # the request log keeps the newest this many records
MAX_SERVER_ERRORS = 1_000  # server_errors keeps the newest this many tracebacks

log = logging.getLogger("course_simulator")
log.addHandler(logging.NullHandler())  # no handler of the user's: silent, never stderr


def _batch_endpoint(url: str) -> Endpoint | None:
    """The endpoint an online POST to ``url`` reaches (a batch line runs through it)."""
    route = route_for("POST", url)
    return route.endpoint if route is not None else None


def _body_limit(method: str, target: str) -> int:
    """The largest body ``method target`` may send: the route's own limit, if it sets one."""
    found = match_route(method, urlsplit(target).path.rstrip("/") or "/")
    limit = found[0].max_body_bytes if found is not None else None
    return limit if limit is not None else MAX_BODY_BYTES


def _is_multipart(headers: Any) -> bool:
    return (headers.get("Content-Type") or "").lower().startswith("multipart/form-data")


def _bearer(headers: Any) -> str | None:
    auth = headers.get("Authorization") or ""
    scheme, _, key = str(auth).partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()


def _not_a_number(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _depth(value: object) -> int:
    """How deeply ``value`` nests lists and objects (iteratively: no recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            items: Iterable[object] = item.values()
        elif isinstance(item, list):
            items = item
        else:
            continue
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            break
        stack.extend((child, depth + 1) for child in items)
    return deepest


_UNREADABLE_BODY = (
    "We could not parse the JSON body of your request: send a JSON object, with Content-Type: "
    "application/json."
)


def _parse_body(raw: bytes) -> tuple[dict | None, SimError | None]:
    """The JSON object a body holds, or the 400 it earns (never an exception)."""
    if not raw:
        return {}, None
    try:
        body = json.loads(raw, parse_constant=_not_a_number)
    except RecursionError:
        body, depth = None, MAX_JSON_DEPTH + 1
    except ValueError:  # also bad UTF-8 and over-long integers
        return None, bad_request(_UNREADABLE_BODY)
    else:
        if not isinstance(body, dict):
            return None, bad_request(_UNREADABLE_BODY)
        depth = _depth(body)
    if depth > MAX_JSON_DEPTH:
        return None, bad_request(
            f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep; the course "
            "simulator reads at most that many (real requests nest a few levels).",
            code="invalid_value",
        )
    return body, None


class Simulator:
    """An OpenAI-compatible server for the course: ``with Simulator() as sim: sim.client()``."""

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
    ) -> None:
        if (
            isinstance(hold_max_s, bool)
            or not isinstance(hold_max_s, int | float)
            or not 0 < hold_max_s < math.inf
        ):
            raise ValueError(
                f"hold_max_s must be a number of seconds > 0 (how long a 'timeout' fault holds "
                f"the request before dropping it), got {hold_max_s!r}"
            )
        for name, value in (("latency_ms", latency_ms), ("latency_scale", latency_scale)):
            if not isinstance(value, int | float) or not 0 <= value < math.inf:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port must be 0 (any free port) or 1-65535, got {port!r}")
        if isinstance(read_timeout_s, bool) or not (
            isinstance(read_timeout_s, int | float) and 0 < read_timeout_s < math.inf
        ):
            raise ValueError(
                f"read_timeout_s must be a number of seconds > 0, got {read_timeout_s!r}"
            )
        for name, count in (
            ("max_connections", max_connections),
            ("request_log_max", request_log_max),
        ):
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {count!r}")
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
        self.request_log_max = request_log_max
        self.limiter = RateLimiter(rpm, tpm, clock, max_keys=max_keys)
        self.faults = FaultPlan(fail_rate, seed)
        self.prompt_cache = PromptCache(clock)
        self.server_errors: list[str] = []
        # The Batch API's files and jobs; its lines run through the same endpoints (route_for).
        self.batch = BatchService(
            self.faults, time_scale=batch_time_scale, enqueued_token_limit=batch_enqueued_tokens,
            endpoint_for=_batch_endpoint, on_crash=self.server_errors.append,
            prompt_cache=self.prompt_cache,
        )  # fmt: skip
        self._log: deque[RequestRecord] = deque(maxlen=request_log_max)
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> Simulator:
        """Bind and serve in a background thread; a second start() is an error."""
        if self._server is not None:
            raise RuntimeError(
                f"this Simulator is already running at {self.base_url}; call stop() first, "
                "or create a second Simulator(port=0) for a second server"
            )
        try:
            server = Server(
                (self.host, self.port),
                self._serve,
                crash=self._crash_outside,
                read_timeout_s=self.read_timeout_s,
                max_connections=self.max_connections,
            )
        except OSError as err:
            raise OSError(
                f"the simulator could not listen on {self.host}:{self.port} ({err.strerror}); "
                "pick another --port, or 0 for any free port"
            ) from err
        self._release = threading.Event()
        server.body_limit = _body_limit
        self.batch.start()
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True,
            name=f"course-simulator:{server.server_address[1]}",
        )  # fmt: skip
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, release held requests and close open connections (safe to repeat)."""
        server, self._server = self._server, None
        if server is None:
            return
        self._release.set()
        self.batch.stop()  # the batch workers first: they hold no connection
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
            self.server_errors.clear()
        self.faults.reset()
        self.limiter.reset()
        self.prompt_cache.clear()
        self.batch.reset()

    def __enter__(self) -> Simulator:
        return self.start()  # a running simulator raises: `with` must not stop someone else's

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self._server else "stopped"
        return f"<Simulator {where} rpm={self.limiter.rpm} tpm={self.limiter.tpm}>"

    # --- public helpers -------------------------------------------------------------------

    @property
    def clock(self) -> Callable[[], float]:
        """The clock request records are stamped with (``clock=``; time.monotonic by default)."""
        return self._clock

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._server is not None

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v1``, the ``base_url`` for ``openai.OpenAI``."""
        if self._server is None:
            raise RuntimeError("the simulator is not running: call start() or use `with sim:`")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def client(self, **kwargs: Any) -> Any:
        """An SDK client pointed at this simulator (kwargs go to ``course_utils.sdk.make_client``;
        ``asynchronous=True`` gives an ``openai.AsyncOpenAI``)."""
        from course_utils.sdk import make_client  # here: the CLI server starts without the SDK

        kwargs.setdefault("api_key", DEFAULT_CLIENT_KEY)
        kwargs.setdefault("base_url", self.base_url)
        return make_client(**kwargs)

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

    # --- the pipeline ---------------------------------------------------------------------

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
        )
        with self._lock:
            self._log.append(record)
        for observe in self.observers:
            try:
                observe(record, call.key)
            except Exception:  # an observer's bug must not cost the learner their answer
                self.server_errors.append(traceback.format_exc())

    def _serve(
        self,
        method: str,
        target: str,
        headers: Any,
        raw: bytes,
        body_error: SimError | None = None,
    ) -> Reply:
        """Answer one request; never raises, always records (see the module docstring)."""
        started = self._clock()
        call = Call(method, "/", headers, None, {}, raw, f"req_{uuid.uuid4().hex}")
        fault = None
        try:
            try:
                url = urlsplit(target)
                call.path, call.query = url.path.rstrip("/") or "/", url.query
                call.key = _bearer(headers)
                multipart = _is_multipart(headers)  # an upload: the endpoint reads the raw body
                body, body_problem = ({}, None) if multipart else _parse_body(raw)
                call.body = body if body is not None else {}
                side = self.side_routes.get((method, call.path))
                if side is not None and body_error is None:
                    return self._serve_side(side, call)  # its own auth; not in the log
                if body_error is not None:
                    raise body_error
                found = match_route(method, call.path)
                if found is None:
                    raise self._not_found(method, call.path)
                route, call.params = found
                self._authenticate(call.key)  # before any fault: no keyless holds
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
                reply.stream = self._guarded(reply.stream)
            reply.headers = {
                **self.limiter.headers(call.key or ""),
                **reply.headers,
                "x-request-id": call.request_id,
            }
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # a bug: even a Rust panic (a BaseException) is answered
            reply = self._crash(call, exc, traceback.format_exc())
        if reply.action == "hold":
            self._record(call, reply, started, fault)
            self._release.wait(self.hold_max_s)
            reply.action = "drop"
            return reply
        self._record(call, reply, started, fault)
        return reply

    def _serve_side(self, handler: SideRoute, call: Call) -> Reply:
        """A non-API route (the class server's admin and live view): it does its own auth,
        takes no fault, sends no rate-limit headers and is not in the request log."""
        try:
            reply = handler(call)
        except SimError as err:
            reply = Reply(err.status, err.body(), dict(err.headers), err.outcome)
        except Exception:  # a bug: the traceback goes to server_errors, never on the wire
            self.server_errors.append(traceback.format_exc())
            body = error_body(
                f"The course simulator itself failed (a bug, not a simulated fault); request id "
                f"{call.request_id}.",
                "server_error",
                None,
                "simulator_internal_error",
            )
            reply = Reply(500, body, {"x-should-retry": "false"}, "internal_error")
        reply.headers = {**reply.headers, "x-request-id": call.request_id}
        return reply

    def _next_fault(self, headers: Any, generating: bool) -> str | None:
        try:
            return self.faults.next_fault(headers.get(FAULT_HEADER), generating=generating)
        except ValueError as err:
            raise bad_request(str(err), FAULT_HEADER) from None

    def _guarded(self, stream: Iterator[bytes]) -> Iterator[bytes]:
        """A reply stream whose own failure (a simulator bug mid-stream, after the status line
        went out) is kept in ``server_errors`` and drops the connection."""
        try:
            yield from stream
        except (StreamCut, GeneratorExit):
            raise
        except Exception:
            self._keep_error(traceback.format_exc())
            log.error("course simulator internal error in a reply stream; see server_errors")
            raise StreamCut from None

    def _keep_error(self, tb: str) -> None:
        with self._lock:
            self.server_errors.append(tb)
            del self.server_errors[:-MAX_SERVER_ERRORS]

    def _crash(self, call: Call, exc: BaseException, tb: str) -> Reply:
        """The reply to a bug: an OpenAI-shaped 500; the traceback kept, never sent."""
        self._keep_error(tb)
        kind = type(exc).__name__
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

    def _crash_outside(self, tb: str) -> None:
        """A traceback from outside the pipeline (the HTTP layer): kept and logged, not printed."""
        self._keep_error(tb)
        log.error("course simulator internal error in its HTTP layer; see Simulator.server_errors")
        log.debug("%s", tb)

    def _not_found(self, method: str, path: str) -> SimError:
        routes = ", ".join(f"{m} {p}" for m, p in ROUTES)
        allowed = allowed_methods(path)
        if allowed:
            return SimError(
                405,
                f"Method {method} is not allowed on {path}; use {' or '.join(allowed)}. "
                f"The course simulator serves: {routes}.",
                "invalid_request_error",
                outcome="not_found",
                headers={"Allow": ", ".join(allowed)},
            )
        return SimError(
            404,
            f"Invalid URL ({method} {path}). The course simulator serves: {routes}.",
            "invalid_request_error",
            outcome="not_found",
        )

    def _authenticate(self, key: str | None) -> None:
        if key is None:
            raise SimError(
                401,
                "You didn't provide an API key. Send it in an Authorization header using "
                "Bearer auth (Authorization: Bearer YOUR_KEY); the SDK does this from "
                "OPENAI_API_KEY or api_key=.",
                "invalid_request_error",
                code="missing_api_key",
                outcome="auth",
            )
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
        unit = (
            "requests per min (RPM)"
            if admission.limit_type == "requests"
            else ("tokens per min (TPM)")
        )
        if math.isinf(admission.retry_after_s):
            raise SimError(
                429,
                f"Request too large for {model} in organization {ORG} on {unit}: Limit "
                f"{admission.limit:,}, Requested {admission.requested:,}. It can never fit: "
                "reduce the input or max_output_tokens. " + RATE_LIMIT_DOCS,
                "tokens",
                code="rate_limit_exceeded",
                outcome="rate_limit",
                headers=admission.headers,
            )
        raise SimError(
            429,
            f"Rate limit reached for {model} in organization {ORG} on {unit}: Limit "
            f"{admission.limit:,}, Used {admission.used:,}, Requested {admission.requested:,}. "
            f"Please try again in {format_duration(admission.retry_after_s)}. " + RATE_LIMIT_DOCS,
            admission.limit_type or "requests",
            code="rate_limit_exceeded",
            outcome="rate_limit",
            headers={**admission.headers, **retry_headers(admission.retry_after_s)},
        )

    def latency_s(
        self,
        model: str | None,
        output_tokens: int,
        extra_ms: float = 0.0,
        *,
        input_tokens: int = 0,
        cached_tokens: int = 0,
        scale: float | None = None,
    ) -> float:
        """Simulated latency: fixed ms + ``latency_scale`` x the model's catalogue profile.

        The profile: time to first token (more for a long input, much less for its cached
        part) plus the time per output token. ``scale`` overrides ``latency_scale``.
        """
        first, per_token = self._latency_parts(model, extra_ms, input_tokens, cached_tokens, scale)
        return first + per_token * output_tokens

    def _latency_parts(
        self,
        model: str | None,
        extra_ms: float,
        input_tokens: int,
        cached_tokens: int,
        scale: float | None,
    ) -> tuple[float, float]:
        scale = self.latency_scale if scale is None else scale
        first = (self.latency_ms + extra_ms) / 1000
        if not scale or model is None:
            return first, 0.0
        p = profile(model)
        fresh = max(0, input_tokens - cached_tokens) + CACHED_PREFILL_SHARE * cached_tokens
        prefill_ms = PREFILL_SHARE_OF_OUTPUT_TOKEN * p.sim_ms_per_output_token * fresh
        first += scale * (p.sim_first_token_ms + prefill_ms) / 1000
        return first, scale * p.sim_ms_per_output_token / 1000

    def timing(
        self, call: Call, model: str | None, input_tokens: int = 0, cached_tokens: int = 0
    ) -> tuple[float, float]:
        """(seconds before the first output token, seconds per output token) for ``call``.

        The request may add fixed latency (``X-Sim-Latency-Ms``) or set its own share of the
        catalogue profile (``X-Sim-Latency-Scale``, 1 = the catalogue's full latency): a
        lesson can show realistic streaming on the shared simulator; the live API ignores both.
        """
        extra = self._header_number(
            call, "X-Sim-Latency-Ms", MAX_EXTRA_LATENCY_MS, "a number of milliseconds"
        )
        scale = self._header_number(call, "X-Sim-Latency-Scale", MAX_LATENCY_SCALE, "a number")
        return self._latency_parts(model, extra or 0.0, input_tokens, cached_tokens, scale)

    @staticmethod
    def _header_number(call: Call, name: str, most: float, unit: str) -> float | None:
        raw = call.headers.get(name)
        if not raw:
            return None
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not 0 <= value <= most:
            raise bad_request(f"{name} must be {unit} from 0 to {most:g}, got {raw!r}", name)
        return value

    def pause(self, seconds: float) -> None:
        """Wait ``seconds`` (released at once by stop()/reset())."""
        if seconds > 0:
            self._release.wait(seconds)

    def now(self) -> float:
        """The simulator's clock (``clock=``, time.monotonic by default)."""
        return self._clock()

    def wait_latency(self, call: Call, model: str | None, output_tokens: int) -> None:
        """Wait the simulated latency (released at once by stop()/reset())."""
        first, per_token = self.timing(call, model)
        self.pause(first + per_token * output_tokens)
