"""The live spend cap: one total per learner, kept in a small ledger file, enforced before sending.

``COURSE_BUDGET_USD`` (default $0.50) is one total across every notebook, script and kernel
restart, not a budget per kernel. What live requests cost (from each answer's ``usage``, at the
catalogue's prices) is kept in a ledger file (``COURSE_SPEND_LEDGER``, by default ``spend.json``
in the user's cache folder), so a new kernel starts from what was already spent.
``reset_spend()`` starts the count at $0 again; nothing else ever lowers it.

**Reserve before sending, settle after.** Before a request leaves, ``SpendGuard`` estimates its
worst case and *reserves* it in the ledger, under the ledger's file lock: if spent + reserved +
estimate would pass the cap, the request is refused with ``BudgetExceeded`` and nothing is sent.
So concurrent requests -- threads, or several kernels at once -- can never pass the cap together
(16 threads each estimated at $0.375 against $0.50: one is sent). When the answer arrives the
reservation is *settled*: replaced by the actual cost from its ``usage``.

The worst case is: input tokens counted locally (``tokens.count_request_input``; tools, schemas
and other text the service also bills are bounded by their size in bytes) + the output cap (its
``max_output_tokens`` / ``max_completion_tokens`` / ``max_tokens``, times ``n`` for Chat) -- or,
when the request sets no cap, **the model's maximum output from the catalogue** (an uncapped
``gpt-5.4`` request may write 128,000 tokens: $1.92), priced at the catalogue's prices.

**What is counted.**
- A JSON answer: its ``usage``.
- A stream (``stream=True``): the usage in its final event -- ``response.completed`` /
  ``response.incomplete`` / ``response.failed`` for Responses, the last chunk for Chat, which
  sends usage only when asked: a live Chat stream must set
  ``stream_options={"include_usage": True}`` or it is refused. The response's bytes are read as
  they pass through the HTTP layer (nothing in the SDK is patched).
- A request that was sent and never answered -- a timeout, a dropped connection, a stream cut
  before its usage, and each retry the SDK makes of it -- is billed at its reservation: the
  service may have billed it. (One that never left -- the connection could not be opened -- is
  released.) A kernel that dies mid-request leaves its reservation in the ledger, counted too.
- An error answer (4xx/5xx): nothing; the service bills none.

**What is refused in live mode** (``LiveRequestRefused``, nothing sent), because the guard cannot
bound its cost: any POST other than Responses, Chat Completions and the free input-token count
(legacy completions, embeddings, images, audio, files, batches, fine-tuning, ...); a model the
catalogue does not price; built-in tools with their own fees (web search, file search, code
interpreter, image generation, ...); ``previous_response_id``, ``conversation`` or stored
``prompt`` (input the guard cannot see); image, audio or file inputs; ``service_tier:
"priority"`` (not in the catalogue's prices); a Chat stream without ``include_usage``. GET and
DELETE requests (listing models, retrieving, deleting) cost nothing and pass.

The guard is an httpx2 transport (``GuardTransport``, ``AsyncGuardTransport``) that
``course_utils.sdk.make_client`` puts around the client's real one, through the SDK's public
``http_client`` argument: the SDK is used exactly as shipped, sees a refusal as an
``openai.OpenAIError`` it raises at once without retrying, and every request it sends -- each
retry, each connection that fails -- passes the guard. A client built by hand
(``openai.OpenAI()``) has no guard. The ledger itself (file lock, atomic writes, a deleted
ledger noticed) is ``course_utils.ledger``.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx2

from . import config, sdk
from .ledger import BudgetExceeded, LiveRequestRefused, SpendLedger, SpendTotal, is_count
from .pricing import ModelInfo, UnknownModelError, estimate_cost, get_model, list_models
from .tokens import count_request_input, requested_output_cap

__all__ = [
    "AsyncGuardTransport",
    "BudgetExceeded",
    "GuardTransport",
    "LiveRequestRefused",
    "SpendGuard",
    "SpendLedger",
    "SpendTotal",
    "guard_of",
    "remaining_usd",
    "reset_spend",
    "spend_guard",
    "spend_summary",
    "spent_usd",
]

# The generating endpoints the guard estimates (path suffix -> tokens endpoint name), and the
# POST routes that cost nothing. Every other POST / PUT / PATCH is refused in live mode.
_GENERATING_PATHS = {"/responses": "responses", "/chat/completions": "chat"}
_FREE_POST_PATHS = ("/responses/input_tokens",)
_FREE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
_TEXT_PARTS = frozenset({"text", "input_text", "output_text", "refusal", "summary_text"})
_TOKEN_TOOLS = frozenset({"function", "custom"})  # billed as tokens only; others have fees
_UNSEEN_INPUT = ("previous_response_id", "conversation", "prompt")
# Request fields the service bills as input but ``count_request_input`` does not count: bounded
# by their size in bytes (a token is at least one byte).
_EXTRA_INPUT_FIELDS = ("tools", "tool_choice", "text", "response_format", "functions", "prediction")
_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")
_MAX_METERED_BYTES = 64 * 1024 * 1024
_BATCH_API = re.compile(r"/(files|batches)(/[^/]+/cancel)?$")


def _refused(what: str, why: str, instead: str) -> LiveRequestRefused:
    return LiveRequestRefused(
        f"Not sent: {what} -- {why}, so the course's spend guard cannot bound its cost in live "
        f"mode (COURSE_BACKEND=openai). {instead} (See the spend cap in "
        "notebooks/00_start_here.ipynb.)"
    )


# --- what a request may cost ---------------------------------------------------------------------


def _catalogue_row(model: object) -> ModelInfo | None:
    """The catalogue row pricing ``model``: its own, or its dated snapshot's (``-2026-03-01``)."""
    if not isinstance(model, str) or not model:
        return None
    try:
        return get_model(model)
    except UnknownModelError:
        pass
    base = _DATED.sub("", model)
    if base != model:
        with contextlib.suppress(UnknownModelError):
            return get_model(base)
    return None


def _price_model(model: str) -> str:
    """The catalogue row to price ``model`` with: its own, else the dearest (never undercount)."""
    row = _catalogue_row(model)
    if row is not None:
        return row.id
    return max(list_models(), key=lambda m: (m.output, m.input)).id


def _endpoint(method: str, path: str) -> str | None:
    """``responses`` / ``chat`` for a generating POST, else None."""
    if method != "POST":
        return None
    for suffix, endpoint in _GENERATING_PATHS.items():
        if path.endswith(suffix):
            return endpoint
    return None


def _non_text_parts(body: dict, endpoint: str) -> list[str]:
    """The ``type`` of every content part that is not text (an image, a file, audio)."""
    items = body.get("messages") if endpoint == "chat" else body.get("input")
    found = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        if endpoint == "responses" and item.get("type") in ("input_image", "input_file"):
            found.append(str(item["type"]))
        content = item.get("content")
        for part in content if isinstance(content, list) else []:
            kind = part.get("type") if isinstance(part, dict) else None
            if isinstance(kind, str) and kind not in _TEXT_PARTS:
                found.append(kind)
    return found


@dataclass(frozen=True)
class _Estimate:
    usd: float
    what: str
    endpoint: str
    model: str  # the catalogue row that prices it
    stream: bool


class SpendGuard:
    """Reserves each live request's worst case before it is sent; settles its actual cost.

    ``budget_usd`` None reads ``COURSE_BUDGET_USD`` at every check, so raising the cap in a
    running kernel takes effect at once.
    """

    def __init__(
        self,
        budget_usd: float | None = None,
        ledger: SpendLedger | None = None,
        *,
        batches: bool = False,
    ) -> None:
        self._budget_usd = budget_usd
        self.batches = batches  # let the Batch API's own calls through (see for_batches)
        self.ledger = ledger if ledger is not None else SpendLedger(config.spend_ledger_path())
        self.held_usd = 0.0  # reservations of this process's requests still in flight
        self._lock = threading.Lock()

    def wrap(self, inner: Any, *, asynchronous: bool) -> GuardTransport | AsyncGuardTransport:
        """The transport ``sdk.make_client`` puts in front of a client's real one."""
        return AsyncGuardTransport(inner, self) if asynchronous else GuardTransport(inner, self)

    def for_batches(self) -> SpendGuard:
        """A guard on the same ledger that also lets the Batch API's uploads and batch calls
        through: for the batch path only, which reserves each whole batch (``reserve_batch``)
        before uploading it and settles it when collected."""
        return SpendGuard(self._budget_usd, self.ledger, batches=True)

    @property
    def budget_usd(self) -> float:
        """The cap in USD."""
        return self._budget_usd if self._budget_usd is not None else config.budget_usd()

    @property
    def spent_usd(self) -> float:
        """What live requests have cost, all notebooks and kernels together."""
        return self.ledger.read().spent_usd

    # --- estimating ------------------------------------------------------------------------

    def estimate(self, body: dict, path: str) -> tuple[float, str]:
        """Worst-case USD of one Responses or Chat body, and a short account of how it was
        reached. Raises ``LiveRequestRefused`` for what the guard cannot bound."""
        endpoint = "chat" if path.endswith("/chat/completions") else "responses"
        found = self._estimate(body, endpoint)
        return found.usd, found.what

    def _estimate(self, body: dict, endpoint: str) -> _Estimate:
        name = "Chat Completions" if endpoint == "chat" else "Responses"
        model = body.get("model")
        row = _catalogue_row(model)
        if row is None:
            known = ", ".join(m.id for m in list_models())
            raise _refused(
                f"a {name} request for model {model!r}",
                "the course catalogue has no price for that model",
                f"Use one it prices ({known}), or add the model's row (with its real prices) "
                "to course_utils/data/models.toml.",
            )
        for field in _UNSEEN_INPUT:
            if body.get(field):
                raise _refused(
                    f"a {name} request with {field!r}",
                    "the service adds input the guard cannot see or count",
                    "Send the whole conversation in 'input' instead.",
                )
        tools = body.get("tools")
        for tool in tools if isinstance(tools, list) else []:
            kind = tool.get("type") if isinstance(tool, dict) else None
            if kind not in _TOKEN_TOOLS:
                raise _refused(
                    f"a request with the built-in tool {kind!r}",
                    "built-in tools have their own fees the catalogue does not hold",
                    "Use function tools only, or work offline with the simulator.",
                )
        tier = body.get("service_tier")
        if tier not in (None, "auto", "default", "flex"):
            raise _refused(
                f"a request with service_tier={tier!r}",
                "that tier's prices are not in the catalogue",
                "Leave service_tier unset (or 'default' / 'flex').",
            )
        parts = _non_text_parts(body, endpoint)
        if parts:
            raise _refused(
                f"a request with {', '.join(sorted(set(parts)))} input",
                "images, audio and files are priced by rules the course does not model",
                "Send text only in live mode.",
            )
        stream = body.get("stream") is True
        if stream and endpoint == "chat":
            options = body.get("stream_options")
            if not (isinstance(options, dict) and options.get("include_usage") is True):
                raise _refused(
                    "a Chat Completions stream without stream_options.include_usage",
                    "without it the stream never says what it cost",
                    'Add stream_options={"include_usage": True} (the last chunk then carries '
                    "usage, and has no choices), or use the Responses API.",
                )
        try:
            input_tokens = count_request_input(body, row.id, endpoint)
            how = f"{input_tokens:,} input"
        except (TypeError, ValueError):  # an odd body: bounded by its size (tokens <= bytes)
            input_tokens = len(json.dumps(body).encode())
            how = f"up to {input_tokens:,} input (by size)"
        extra = sum(len(json.dumps(body[f]).encode()) for f in _EXTRA_INPUT_FIELDS if body.get(f))
        if extra:
            input_tokens += extra
            how += f" + up to {extra:,} for tools / schemas (by size)"
        caps = [requested_output_cap(body, endpoint)]
        if endpoint == "chat":  # both may be sent; the larger bounds the answer
            caps.append(requested_output_cap({"max_tokens": body.get("max_tokens")}, "chat"))
        cap = max((c for c in caps if c is not None), default=None)
        if cap is None:
            cap = row.max_output
            out = f"no output cap, so up to the model's maximum of {cap:,} output tokens"
        else:
            out = f"up to {cap:,} output tokens"
        n = body.get("n") if endpoint == "chat" else None
        if isinstance(n, int) and not isinstance(n, bool) and n > 1:
            cap *= n
            out += f" x {n} choices"
        what = f"{row.id}: {how} + {out}"
        return _Estimate(estimate_cost(row.id, input_tokens, cap), what, endpoint, row.id, stream)

    # --- one request's ticket --------------------------------------------------------------

    def route(self, request: httpx2.Request) -> str | None:
        """``responses`` / ``chat`` for a request to estimate, None for one that costs nothing;
        ``LiveRequestRefused`` for any other request that could cost money."""
        method, path = request.method.upper(), request.url.path.rstrip("/")
        if method in _FREE_METHODS or path.endswith(_FREE_POST_PATHS):
            return None
        if self.batches and _BATCH_API.search(path):
            return None  # the batch path reserved the whole batch before uploading it
        endpoint = _endpoint(method, path)
        if endpoint is None:
            raise _refused(
                f"{method} {path}",
                "the guard only estimates Responses (POST /responses) and Chat Completions "
                "(POST /chat/completions); legacy completions, embeddings, images, audio, "
                "files, batches and the rest are not estimated",
                "Use client.responses.create or client.chat.completions.create in live mode, "
                "or work offline with the simulator.",
            )
        coding = request.headers.get("content-encoding", "identity").strip().lower()
        if coding != "identity":
            raise _refused(
                f"a {method} {path} body sent with Content-Encoding: {coding}",
                "the guard reads the request as it is sent and does not undo compression",
                "Send the body uncompressed (the SDK does unless told otherwise).",
            )
        return endpoint

    def admit(self, request: httpx2.Request, endpoint: str, content: bytes) -> _Ticket | None:
        """Reserve the worst case of a generating request (None: not a JSON object, which the
        service answers with a free 400), or raise ``BudgetExceeded`` / ``LiveRequestRefused``
        before anything is sent.

        The answer is asked for uncompressed, so the bytes the guard reads as they pass are
        the ones the SDK parses (no second decoder here).
        """
        try:
            body = json.loads(content or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return None
        found = self._estimate(body, endpoint)
        self.ledger.reserve(found.usd, self.budget_usd, found.what)
        with self._lock:
            self.held_usd += found.usd
        request.headers["Accept-Encoding"] = "identity"
        return _Ticket(self, found)

    def reserve_batch(self, lines: Iterable[tuple[str, int, int | None]]) -> float:
        """Reserve a Batch API batch's worst case before it is uploaded; returns the USD held.

        Each line is ``(model, input tokens, output cap)``, priced at batch prices at *its own*
        model (one the catalogue does not price: at the dearest row); a line without a cap at
        its model's maximum output. ``BudgetExceeded`` if the whole batch would pass the cap.
        """
        usd, count = 0.0, 0
        for model, input_tokens, cap in lines:
            row = _price_model(model)
            out = cap if cap is not None else get_model(row).max_output
            usd += estimate_cost(row, input_tokens, out, batch=True)
            count += 1
        what = f"a batch of {count:,} requests at batch prices, input + output cap of each line"
        self.ledger.reserve(usd, self.budget_usd, what)
        return usd

    def _done(self, usd: float) -> None:
        with self._lock:
            self.held_usd = max(0.0, self.held_usd - usd)


class _Ticket:
    """One sent request's reservation, settled exactly once."""

    def __init__(self, guard: SpendGuard, found: _Estimate) -> None:
        self.guard, self.found = guard, found
        self._once = threading.Lock()
        self._open = True

    def _close(self) -> bool:
        with self._once:
            was, self._open = self._open, False
        if was:
            self.guard._done(self.found.usd)
        return was

    def release(self) -> None:
        if self._close():
            self.guard.ledger.release(self.found.usd)

    def bill_reservation(self) -> None:
        if self._close():
            self.guard.ledger.bill_unanswered(self.found.usd)

    def settle_from_usage(self, usage: object) -> None:
        """Settle at the actual cost of ``usage``; without a readable usage, at the reservation."""
        usd = _usage_cost(self.found.model, usage)
        if usd is None:
            self.bill_reservation()
        elif self._close():
            self.guard.ledger.settle(self.found.usd, usd)


def _usage_cost(model: str, usage: object, *, batch: bool = False) -> float | None:
    """USD of a Responses or Chat ``usage`` object (None if it is not one)."""
    if not isinstance(usage, dict):
        return None
    inp = usage.get("input_tokens", usage.get("prompt_tokens"))
    out = usage.get("output_tokens", usage.get("completion_tokens"))
    if not (is_count(inp) and is_count(out)):
        return None
    details = usage.get("input_tokens_details") or usage.get("prompt_tokens_details") or {}
    cached = details.get("cached_tokens") if isinstance(details, dict) else 0
    cached = min(cached if is_count(cached) else 0, inp)  # type: ignore[type-var]
    return estimate_cost(model, inp, out, cached, batch=batch)  # type: ignore[arg-type]


# --- metering the answer as it passes through -----------------------------------------------------


class _Meter:
    """Reads an answer's bytes once, as they pass to the SDK: a JSON body's ``usage``, or a
    stream's final usage event. Settles the ticket once it knows; ``finish`` settles what is
    left (at the reservation when no usage was seen)."""

    def __init__(self, response: httpx2.Response, ticket: _Ticket) -> None:
        self.ticket = ticket
        self.sse = "event-stream" in response.headers.get("content-type", "")
        # The guard asked for the answer uncompressed; one compressed anyway is not read here
        # (its reservation stands) rather than decoded a second time.
        coding = response.headers.get("content-encoding", "identity").strip().lower()
        self.readable = coding in ("", "identity")
        self._buffer = bytearray()
        self._event: list[bytes] = []

    def feed(self, chunk: bytes) -> None:
        if not self.readable or not self.ticket._open:
            return
        self._buffer += chunk
        if len(self._buffer) > _MAX_METERED_BYTES:
            self.readable = False
        elif self.sse:
            self._read_events()

    def _read_events(self) -> None:
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                return
            line = bytes(self._buffer[:end]).rstrip(b"\r")
            del self._buffer[: end + 1]
            if line.startswith(b"data:"):
                self._event.append(line[5:].strip())
            elif not line and self._event:
                data, self._event = b"\n".join(self._event), []
                self._on_event(data)

    def _on_event(self, data: bytes) -> None:
        try:
            event = json.loads(data)
        except ValueError:
            return  # "[DONE]" and the like
        if not isinstance(event, dict):
            return
        usage = None
        if event.get("type") in ("response.completed", "response.incomplete", "response.failed"):
            response = event.get("response")
            usage = response.get("usage") if isinstance(response, dict) else None
        elif event.get("object") == "chat.completion.chunk" and event.get("usage"):
            usage = event.get("usage")
        if usage is not None:
            self.ticket.settle_from_usage(usage)

    def finish(self) -> None:
        """The answer ended (or was closed): settle whatever is still open."""
        if not self.ticket._open:
            return
        if self.readable and not self.sse:
            try:
                usage = json.loads(bytes(self._buffer)).get("usage")
            except (ValueError, AttributeError):
                usage = None
            self.ticket.settle_from_usage(usage)
        else:
            self.ticket.bill_reservation()  # a stream cut before its usage, or unreadable


class _MeteredStream(httpx2.SyncByteStream):
    def __init__(self, inner: Any, meter: _Meter) -> None:
        self._inner, self._meter = inner, meter

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._inner:
            self._meter.feed(chunk)
            yield chunk
        self._meter.finish()

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._meter.finish()


class _MeteredAsyncStream(httpx2.AsyncByteStream):
    def __init__(self, inner: Any, meter: _Meter) -> None:
        self._inner, self._meter = inner, meter

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._meter.feed(chunk)
            yield chunk
        self._meter.finish()

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._meter.finish()


# Raised before a single byte of the request left: the service never saw it.
_NEVER_SENT = (
    httpx2.ConnectError,
    httpx2.ConnectTimeout,
    httpx2.PoolTimeout,
    httpx2.UnsupportedProtocol,
)


def _answered(response: httpx2.Response, ticket: _Ticket | None, asynchronous: bool) -> None:
    """Meter the answer's body as the client reads it (an in-process answer's stream may be
    both kinds: the client's kind decides), or at once if it came already read."""
    if ticket is None:
        return
    if response.status_code >= 300:  # an error answer: the service bills nothing
        ticket.release()
        return
    meter = _Meter(response, ticket)
    if response.is_stream_consumed:  # built whole (an in-process app): its body is here already
        meter.feed(response.content)
        meter.finish()
    elif asynchronous:
        response.stream = _MeteredAsyncStream(response.stream, meter)
    else:
        response.stream = _MeteredStream(response.stream, meter)


@contextlib.contextmanager
def _settled_on_failure(ticket: _Ticket | None) -> Iterator[None]:
    """A request that never left frees its reservation; one lost after sending bills it."""
    try:
        yield
    except _NEVER_SENT:
        if ticket is not None:
            ticket.release()
        raise
    except BaseException:
        if ticket is not None:
            ticket.bill_reservation()
        raise


class GuardTransport(httpx2.BaseTransport):
    """An httpx2 transport that asks the spend guard before sending and meters the answer.

    ``course_utils.sdk.make_client`` puts it around the client's real transport (the network's,
    or an in-process simulator's), so it sees every request the SDK sends -- each retry, and
    each connection that fails -- and the answer's bytes as the SDK reads them.
    """

    def __init__(self, inner: httpx2.BaseTransport, guard: SpendGuard) -> None:
        self.inner, self.guard = inner, guard

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        endpoint = self.guard.route(request)
        ticket = None if endpoint is None else self.guard.admit(request, endpoint, request.read())
        with _settled_on_failure(ticket):
            response = self.inner.handle_request(request)
        _answered(response, ticket, asynchronous=False)
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncGuardTransport(httpx2.AsyncBaseTransport):
    """``GuardTransport`` for an async client (the runner's)."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, guard: SpendGuard) -> None:
        self.inner, self.guard = inner, guard

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        endpoint = self.guard.route(request)
        content = await request.aread() if endpoint is not None else b""
        ticket = None if endpoint is None else self.guard.admit(request, endpoint, content)
        with _settled_on_failure(ticket):
            response = await self.inner.handle_async_request(request)
        _answered(response, ticket, asynchronous=True)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


# --- the process's guard and the learner-facing helpers -------------------------------------------

_lock = threading.Lock()
_guard: SpendGuard | None = None


def guard_of(client: sdk.Client) -> SpendGuard | None:
    """The spend guard a client built by ``sdk.make_client`` sends through (None: unguarded,
    or built by hand)."""
    guard = sdk.guard_of(client)
    return guard if isinstance(guard, SpendGuard) else None


def spend_guard() -> SpendGuard:
    """The process's one guard (shared by every live client)."""
    global _guard
    with _lock:
        if _guard is None:
            _guard = SpendGuard()
        return _guard


def spent_usd() -> float:
    """What live requests have cost so far: one total across notebooks and kernel restarts
    (requests sent and never answered count at their reservation)."""
    return SpendLedger(config.spend_ledger_path()).read().spent_usd


def remaining_usd() -> float:
    """What is left of the spend cap (``COURSE_BUDGET_USD``) after spending and the requests
    in flight, never below $0."""
    total = SpendLedger(config.spend_ledger_path()).read()
    return max(0.0, config.budget_usd() - total.committed_usd)


def spend_summary() -> str:
    """One line: spent, cap, remaining, and where the total is kept."""
    ledger = SpendLedger(config.spend_ledger_path())
    total = ledger.read()
    budget = config.budget_usd()
    reserved = (
        f", ${total.reserved_usd:.4f} reserved by requests in flight" if total.reserved_usd else ""
    )
    unanswered = (
        f", {total.unanswered} never answered and counted at their estimate"
        if total.unanswered
        else ""
    )
    return (
        f"spent ${total.spent_usd:.4f} of the ${budget:.2f} spend cap (COURSE_BUDGET_USD)"
        f"{reserved}, ${max(0.0, budget - total.committed_usd):.4f} remaining "
        f"({total.requests} live request{'s' if total.requests != 1 else ''}{unanswered}; one "
        f"total across notebooks and restarts, kept in {ledger.path}; reset_spend() starts "
        "again at $0)"
    )


def reset_spend() -> None:
    """Start the spend count again at $0 (deliberately: nothing else lowers it)."""
    global _guard
    with _lock:
        SpendLedger(config.spend_ledger_path()).reset()
        _guard = None
