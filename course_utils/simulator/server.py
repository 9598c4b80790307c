"""The simulator's HTTP server: a route table, the request pipeline and start/stop/reset.

One request goes: route → injected fault → API key → JSON body → endpoint (validate, reserve
rate-limit budget, generate, serialise). Endpoints return a ``Reply``; only the handler turns it
into bytes, so streaming (SSE) or batch files can later add reply kinds without touching the
pipeline. Errors raised by the simulator's own code are bugs: they become a 500 whose body holds
the traceback, and land in ``Simulator.server_errors`` for the test to see.
"""

from __future__ import annotations

import contextlib
import json
import math
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..pricing import list_models
from ..tokens import count_request_input, output_reserve, request_messages
from .errors import SimError, bad_request, error_body, mask_key
from .faults import FAULT_HEADER, FaultPlan
from .limits import RateLimiter, format_duration
from .model import Answer, generate, profile

if TYPE_CHECKING:
    import openai

__all__ = [
    "DEFAULT_CLIENT_KEY",
    "HOLD_MAX_S",
    "RequestRecord",
    "Simulator",
]

DEFAULT_CLIENT_KEY = "sim-course-key"
HOLD_MAX_S = 30.0  # default: a "timeout" fault holds the request at most this long
MAX_BODY_BYTES = 64 * 1024 * 1024  # a larger Content-Length gets a JSON 413, unread
MAX_EXTRA_LATENCY_MS = 30_000  # the largest X-Sim-Latency-Ms a request may ask for
RESPONSES_MIN_OUTPUT_TOKENS = 16
ORG = "org-course-simulator"
RATE_LIMIT_DOCS = "Visit https://platform.openai.com/account/rate-limits to learn more."


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

    @property
    def model(self) -> str | None:
        model = self.body.get("model")
        return model if isinstance(model, str) and model else None


Endpoint = Callable[["Simulator", Call], Reply]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], sim: Simulator) -> None:
        self.sim = sim
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the SDK's connection pool reuses sockets
    server_version = "course-simulator"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the request log is ``Simulator.requests``, not stderr."""

    def __getattr__(self, name: str) -> Any:
        """Every method (GET, POST, PATCH, HEAD, OPTIONS, ...) goes through ``_handle``.

        http.server otherwise answers a method without a ``do_X`` with an HTML 501; here the
        route table decides, so an unknown method or route gets the JSON 404 listing routes.
        """
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol errors http.server finds itself (bad request line, headers): JSON too."""
        self.close_connection = True
        text = message or self.responses.get(code, ("Error",))[0]
        data = json.dumps(
            error_body(f"{text}. {explain}" if explain else text, "invalid_request_error"),
            separators=(",", ":"),
        ).encode()
        with contextlib.suppress(OSError):
            self.send_response(code, text)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            if getattr(self, "command", None) != "HEAD" and code not in (204, 304):
                self.wfile.write(data)

    def _handle(self) -> None:
        raw_length = self.headers.get("Content-Length")
        try:
            length = int(raw_length or 0)
        except ValueError:
            length = -1
        body_error = None
        if length < 0:
            body_error = bad_request(
                f"Content-Length must be a whole number of bytes, got {raw_length!r}: send the "
                "JSON body with a correct Content-Length (HTTP clients such as the SDK do this).",
                "Content-Length",
            )
        elif length > MAX_BODY_BYTES:
            body_error = SimError(
                413,
                f"The request body is {length:,} bytes; the course simulator accepts at most "
                f"{MAX_BODY_BYTES:,}. Send a smaller input.",
                code="request_too_large",
            )
        if body_error is not None:
            self.close_connection = True  # the body was not read: the stream cannot be reused
        raw = self.rfile.read(length) if body_error is None and length > 0 else b""
        reply = self.server.sim._serve(self.command, self.path, self.headers, raw, body_error)
        if reply.action == "drop":
            self.close_connection = True
            return
        data = json.dumps(reply.body, separators=(",", ":")).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except OSError:  # the client went away (e.g. it timed out first)
            self.close_connection = True


def _bearer(headers: Any) -> str | None:
    auth = headers.get("Authorization") or ""
    scheme, _, key = auth.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()


def _int_param(body: dict, name: str, minimum: int) -> int | None:
    """An optional integer parameter, checked the way the service checks it."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(
            f"Invalid type for '{name}': expected an integer, but got {type(value).__name__} "
            "instead.",
            name,
            "invalid_type",
        )
    if value < minimum:
        raise bad_request(
            f"Invalid '{name}': integer below minimum value. Expected a value >= {minimum}, "
            f"but got {value} instead.",
            name,
            "integer_below_min_value",
        )
    return value


def _check_temperature(body: dict) -> None:
    value = body.get("temperature")
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 2:
        raise bad_request(
            f"Invalid 'temperature': expected a number between 0 and 2, but got {value!r}.",
            "temperature",
            "invalid_value",
        )


def _require(body: dict, name: str) -> object:
    if body.get(name) in (None, "", []):
        raise bad_request(
            f"Missing required parameter: '{name}'.", name, "missing_required_parameter"
        )
    return body[name]


def _check_messages(messages: object, param: str) -> list[dict]:
    if not isinstance(messages, list) or not all(
        isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages
    ):
        raise bad_request(
            f"Invalid '{param}': expected a list of messages, each an object with a 'role' and "
            "'content'.",
            param,
            "invalid_type",
        )
    return messages


def _no_streaming(body: dict) -> None:
    if body.get("stream"):
        raise bad_request(
            "The course simulator does not simulate streaming yet: send the request without "
            "'stream' (or stream=False) and read the whole response.",
            "stream",
            "unsupported_value",
        )


def _check_responses_input(body: dict) -> None:
    input = _require(body, "input")
    if not isinstance(input, str):
        _check_messages(input, "input")
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise bad_request("Invalid 'instructions': expected a string.", "instructions")


def _output_format(fmt: object) -> tuple[bool, dict | None]:
    """(json_mode, schema) from ``text.format`` / ``response_format``."""
    if not isinstance(fmt, dict):
        return False, None
    kind = fmt.get("type")
    if kind == "json_object":
        return True, None
    if kind == "json_schema":
        spec = fmt.get("json_schema", fmt)  # chat nests it; Responses does not
        schema = spec.get("schema") if isinstance(spec, dict) else None
        return True, schema if isinstance(schema, dict) else {}
    return False, None


def _context_error(model: str, tokens: int, param: str) -> SimError:
    window = profile(model).context_window
    return SimError(
        400,
        f"Your input exceeds the context window of this model ({tokens:,} tokens; {model} "
        f"takes at most {window:,}). Shorten or chunk the input and try again.",
        "invalid_request_error",
        param,
        "context_length_exceeded",
        "context_length",
    )


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
        self.host, self.port = host, port
        self.latency_ms, self.latency_scale = float(latency_ms), float(latency_scale)
        self.fault_retry_after_ms = fault_retry_after_ms
        self.hold_max_s = float(hold_max_s)
        self._api_key = api_key
        self._clock = clock
        self.limiter = RateLimiter(rpm, tpm, clock)
        self.faults = FaultPlan(fail_rate, seed)
        self.server_errors: list[str] = []
        self._log: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: _Server | None = None
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
            server = _Server((self.host, self.port), self)
        except OSError as err:
            raise OSError(
                f"the simulator could not listen on {self.host}:{self.port} ({err.strerror}); "
                "pick another --port, or 0 for any free port"
            ) from err
        self._release = threading.Event()
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
        server.shutdown()
        with server.connections_lock:
            for conn in list(server.connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
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

    def __enter__(self) -> Simulator:
        return self.start()  # a running simulator raises: `with` must not stop someone else's

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self._server else "stopped"
        return f"<Simulator {where} rpm={self.limiter.rpm} tpm={self.limiter.tpm}>"

    # --- public helpers -------------------------------------------------------------------

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
        return f"http://{host}:{port}/v1"

    def client(self, **kwargs: Any) -> openai.OpenAI:
        """An SDK client pointed at this simulator (kwargs go to ``openai.OpenAI``)."""
        import openai  # here, so that the CLI server starts without importing the SDK

        kwargs.setdefault("api_key", DEFAULT_CLIENT_KEY)
        kwargs.setdefault("base_url", self.base_url)
        return openai.OpenAI(**kwargs)

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

    def _serve(
        self,
        method: str,
        target: str,
        headers: Any,
        raw: bytes,
        body_error: SimError | None = None,
    ) -> Reply:
        started = self._clock()
        path = urlsplit(target).path.rstrip("/") or "/"
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        call = Call(
            method, path, headers, _bearer(headers), body if isinstance(body, dict) else {},
            raw, f"req_{uuid.uuid4().hex}",
        )  # fmt: skip
        fault = None
        try:
            try:
                if body_error is not None:
                    raise body_error
                endpoint = ROUTES.get((method, path))
                if endpoint is None:
                    raise self._not_found(method, path)
                fault = self._next_fault(headers, (method, path) in GENERATING)
                if fault is not None:
                    reply = self._fault(fault, call)
                else:
                    self._authenticate(call.key)
                    if body is None or (raw and not isinstance(body, dict)):
                        raise bad_request(
                            "We could not parse the JSON body of your request: send a JSON "
                            "object, with Content-Type: application/json.",
                        )
                    reply = endpoint(self, call)
            except SimError as err:
                reply = Reply(err.status, err.body(), dict(err.headers), err.outcome)
        except Exception:
            reply = self._crash(traceback.format_exc())
        reply.headers = {
            **self.limiter.headers(call.key or ""),
            **reply.headers,
            "x-request-id": call.request_id,
        }
        if reply.action == "hold":
            self._record(call, reply, started, fault)
            self._release.wait(self.hold_max_s)
            reply.action = "drop"
            return reply
        self._record(call, reply, started, fault)
        return reply

    def _next_fault(self, headers: Any, generating: bool) -> str | None:
        try:
            return self.faults.next_fault(headers.get(FAULT_HEADER), generating=generating)
        except ValueError as err:
            raise bad_request(str(err), FAULT_HEADER) from None

    def _crash(self, tb: str) -> Reply:
        self.server_errors.append(tb)
        body = error_body(
            "The course simulator itself failed (a bug, not a simulated fault):\n" + tb,
            "server_error",
            None,
            "simulator_internal_error",
        )
        return Reply(500, body, {"x-should-retry": "false"}, "internal_error")

    def _not_found(self, method: str, path: str) -> SimError:
        routes = ", ".join(f"{m} {p}" for m, p in ROUTES)
        allowed = [m for m, p in ROUTES if p == path]
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
        if self._api_key is not None and key != self._api_key:
            raise self._bad_key(key)

    def _bad_key(self, key: str | None) -> SimError:
        return SimError(
            401,
            f"Incorrect API key provided: {mask_key(key)}. Check the key you set in "
            "OPENAI_API_KEY (or passed as api_key=) against the one the server expects.",
            "invalid_request_error",
            code="invalid_api_key",
            outcome="auth",
        )

    def _fault(self, kind: str, call: Call) -> Reply:
        model = call.model or "this model"
        if kind == "timeout":
            return Reply(action="hold", outcome="timeout")
        if kind == "disconnect":
            return Reply(action="drop", outcome="disconnect")
        if kind == "rate_limit":
            ms = self.fault_retry_after_ms
            raise SimError(
                429,
                f"Rate limit reached for {model} in organization {ORG} on requests per min "
                f"(RPM): simulated fault. Please try again in {format_duration(ms / 1000)}. "
                + RATE_LIMIT_DOCS,
                "requests",
                code="rate_limit_exceeded",
                outcome="rate_limit",
                headers=_retry_headers(ms / 1000),
            )
        if kind == "quota":
            raise SimError(
                429,
                "You exceeded your current quota, please check your plan and billing details. "
                "Waiting does not help: add credit or use another project's key. (Simulated.)",
                "insufficient_quota",
                code="insufficient_quota",
                outcome="quota",
            )
        if kind == "server_error":
            raise SimError(
                500,
                "The server had an error while processing your request. Sorry about that! "
                "(Simulated fault: retrying usually works.)",
                "server_error",
                code="server_error",
                outcome="server_error",
            )
        if kind == "overloaded":
            raise SimError(
                503,
                "The engine is currently overloaded, please try again later. (Simulated.)",
                "server_error",
                code="overloaded",
                outcome="overloaded",
            )
        if kind == "bad_request":
            raise SimError(
                400,
                "Invalid request (simulated fault): the request was refused as malformed. "
                "Sending it again fails the same way; fix the request instead of retrying.",
                "invalid_request_error",
                code="invalid_value",
                outcome="bad_request",
            )
        if kind == "auth":
            raise self._bad_key(call.key)
        if kind == "context_length":
            param = "messages" if call.path.endswith("/chat/completions") else "input"
            raise _context_error(model, profile(model).context_window + 1, param)
        raise AssertionError(f"unhandled fault kind {kind!r}")  # FAULT_KINDS and this agree

    def _admit(self, call: Call, model: str, tokens: int) -> dict[str, str]:
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
            headers={**admission.headers, **_retry_headers(admission.retry_after_s)},
        )

    def latency_s(self, model: str | None, output_tokens: int, extra_ms: float = 0.0) -> float:
        """Simulated latency: fixed ms + ``latency_scale`` x the model's catalogue profile."""
        seconds = (self.latency_ms + extra_ms) / 1000
        if self.latency_scale and model is not None:
            p = profile(model)
            ms = p.sim_first_token_ms + p.sim_ms_per_output_token * output_tokens
            seconds += self.latency_scale * ms / 1000
        return seconds

    def _delay(self, call: Call, model: str | None, output_tokens: int) -> None:
        """Wait the simulated latency (released at once by stop()/reset())."""
        raw = call.headers.get("X-Sim-Latency-Ms")
        try:
            extra = float(raw) if raw else 0.0
        except ValueError:
            extra = -1.0
        if not 0 <= extra <= MAX_EXTRA_LATENCY_MS:
            raise bad_request(
                f"X-Sim-Latency-Ms must be a number of milliseconds from 0 to "
                f"{MAX_EXTRA_LATENCY_MS}, got {raw!r}",
                "X-Sim-Latency-Ms",
            )
        seconds = self.latency_s(model, output_tokens, extra)
        if seconds > 0:
            self._release.wait(seconds)

    def _answer(
        self, call: Call, model: str, endpoint: str, cap: int | None, fmt: object, param: str
    ) -> tuple[Answer, dict[str, str]]:
        """The shared core of the generating endpoints: count, check, reserve, generate, wait."""
        info = profile(model)
        input_tokens = _count(call.body, model, endpoint, param)
        messages = request_messages(call.body, endpoint)
        if input_tokens > info.context_window:
            raise _context_error(model, input_tokens, param)
        headers = self._admit(call, model, input_tokens + output_reserve(model, cap))
        json_mode, schema = _output_format(fmt)
        answer = generate(
            messages, model, cap, json_mode=json_mode, schema=schema, input_tokens=input_tokens
        )
        self._delay(call, model, answer.output_tokens)
        return answer, headers


def _count(body: dict, model: str, endpoint: str, param: str) -> int:
    """Input tokens (``tokens.count_request_input``), or the service's 400 for content the
    simulator cannot read."""
    try:
        return count_request_input(body, model, endpoint)
    except TypeError as err:
        raise bad_request(
            f"Invalid '{param}': {err}. The simulator reads text content only (strings or "
            "text parts); images, audio and files are not simulated.",
            param,
            "invalid_type",
        ) from None


def _model(body: dict) -> str:
    model = _require(body, "model")
    if not isinstance(model, str):
        raise bad_request(
            f"Invalid type for 'model': expected a string such as 'gpt-5.4-mini', got {model!r}.",
            "model",
            "invalid_type",
        )
    return model


def _retry_headers(seconds: float) -> dict[str, str]:
    """``retry-after`` (whole seconds, at least 1) and the exact ``retry-after-ms``."""
    return {
        "retry-after": str(max(1, math.ceil(seconds))),
        "retry-after-ms": str(max(1, math.ceil(seconds * 1000))),
    }


# --- endpoints ------------------------------------------------------------------------------


def _usage_responses(answer: Answer) -> dict:
    return {
        "input_tokens": answer.input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": answer.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": answer.input_tokens + answer.output_tokens,
    }


def responses_create(sim: Simulator, call: Call) -> Reply:
    """POST /v1/responses."""
    body = call.body
    model = _model(body)
    _check_responses_input(body)
    _no_streaming(body)
    cap = _int_param(body, "max_output_tokens", RESPONSES_MIN_OUTPUT_TOKENS)
    _check_temperature(body)
    text_cfg = body.get("text") if isinstance(body.get("text"), dict) else {}
    fmt = text_cfg.get("format")
    answer, headers = sim._answer(call, model, "responses", cap, fmt, "input")
    status = "incomplete" if answer.truncated else "completed"
    out = {
        "id": f"resp_{uuid.uuid4().hex}",
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if answer.truncated else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": cap,
        "metadata": body.get("metadata") or {},
        "model": model,
        "output": [
            {
                "type": "message",
                "id": f"msg_{uuid.uuid4().hex}",
                "status": status,
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": answer.text, "annotations": [], "logprobs": []}
                ],
            }
        ],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": False,
        "temperature": body.get("temperature", 1.0),
        "text": {"format": fmt if isinstance(fmt, dict) else {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": _usage_responses(answer),
        "user": None,
    }
    return Reply(
        200, out, headers, outcome="incomplete" if answer.truncated else "ok",
        input_tokens=answer.input_tokens, output_tokens=answer.output_tokens,
    )  # fmt: skip


def responses_input_tokens(sim: Simulator, call: Call) -> Reply:
    """POST /v1/responses/input_tokens: the service's own count of a request's input."""
    model = _model(call.body)
    _check_responses_input(call.body)
    tokens = _count(call.body, model, "responses", "input")
    body = {"object": "response.input_tokens", "input_tokens": tokens}
    return Reply(200, body, input_tokens=tokens)


def chat_completions(sim: Simulator, call: Call) -> Reply:
    """POST /v1/chat/completions."""
    body = call.body
    model = _model(body)
    _check_messages(_require(body, "messages"), "messages")
    _no_streaming(body)
    cap = _int_param(body, "max_completion_tokens", 1)
    legacy = _int_param(body, "max_tokens", 1)
    cap = cap if cap is not None else legacy
    _check_temperature(body)
    answer, headers = sim._answer(call, model, "chat", cap, body.get("response_format"), "messages")
    out = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": answer.text,
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "length" if answer.truncated else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": answer.input_tokens,
            "completion_tokens": answer.output_tokens,
            "total_tokens": answer.input_tokens + answer.output_tokens,
            "prompt_tokens_details": {
                "cached_tokens": 0,
                "cache_write_tokens": 0,
                "audio_tokens": 0,
            },
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_course_sim",
    }
    return Reply(
        200, out, headers, outcome="incomplete" if answer.truncated else "ok",
        input_tokens=answer.input_tokens, output_tokens=answer.output_tokens,
    )  # fmt: skip


def models_list(sim: Simulator, call: Call) -> Reply:
    """GET /v1/models: the course catalogue's ids."""
    data = [
        {"id": m.id, "object": "model", "created": 1_767_225_600, "owned_by": "course-simulator"}
        for m in list_models()
    ]
    return Reply(200, {"object": "list", "data": data})


# (method, path) -> endpoint. New endpoints (files, batches) are one line here.
ROUTES: dict[tuple[str, str], Endpoint] = {
    ("POST", "/v1/responses"): responses_create,
    ("POST", "/v1/responses/input_tokens"): responses_input_tokens,
    ("POST", "/v1/chat/completions"): chat_completions,
    ("GET", "/v1/models"): models_list,
}

# The routes that generate an answer: only these take a queued or ``fail_rate`` fault.
GENERATING = frozenset({("POST", "/v1/responses"), ("POST", "/v1/chat/completions")})
