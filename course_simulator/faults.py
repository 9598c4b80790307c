"""Injected faults: a table of what each kind sends, and which kind (if any) a request gets.

Each kind is one ``FaultSpec`` row in ``FAULTS``: the status, error ``type`` and ``code``, the
message (a template), the headers (``retry-after`` or none), and the action (respond, hold the
request open, drop the connection, or cut: serve the request and break its reply half-way).
Adding a kind is adding a row.

A request's fault comes from, in order: its ``X-Sim-Fault`` header, the queue scripted with
``Simulator.queue_faults``, then the seeded ``fail_rate`` draw (the ``transient`` rows: 429, 500,
503 and dropped connections, the errors a retry is meant to survive). The queue and the draw are
only for generating routes (the route table marks them).

The quota codes are the ones OpenAI's help centre lists for a 429 ``insufficient_quota``
("Troubleshooting API usage and spend limits",
https://help.openai.com/en/articles/6614457-troubleshooting-api-usage-and-spend-limits):
``credit_balance_exhausted`` (no prepaid credit left) and ``project_spend_limit_exceeded`` (a
project's hard spend limit reached); plain ``quota`` keeps the older ``insufficient_quota`` code
that many accounts still see.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from course_utils.pricing import model_or_default

from .error_replies import (
    CONTEXT_LENGTH_MESSAGE,
    INVALID_KEY_MESSAGE,
    ORG,
    RATE_LIMIT_DOCS,
    error_body,
    mask_key,
    retry_headers,
)
from .limits import format_duration
from .protocol import Call, Reply

__all__ = [
    "FAULTS",
    "FAULT_HEADER",
    "FAULT_KINDS",
    "LONG_RETRY_AFTER_S",
    "TRANSIENT_FAULTS",
    "FaultPlan",
    "FaultSpec",
    "check_fault",
    "fault_reply",
]

FAULT_HEADER = "X-Sim-Fault"
CONFIGURED = "configured"  # retry_after_s: the simulator's own ``fault_retry_after_ms``
LONG_RETRY_AFTER_S = 300.0  # above the SDK's 120 s ceiling: it raises at once, no retry


@dataclass(frozen=True)
class FaultSpec:
    """One fault kind. Text fields are ``str.format`` templates over the request's context:
    ``{model}``, ``{org}``, ``{retry_in}``, ``{key}`` (masked), ``{tokens}``, ``{window}``,
    ``{input}`` (the name of the request's input parameter)."""

    kind: str
    status: int = 0  # only for action "respond": hold and drop send no response at all
    type: str = ""
    code: str | None = None
    message: str = ""
    retry_after_s: float | str | None = None  # seconds, CONFIGURED, or None for no retry hint
    headers: dict[str, str] = field(default_factory=dict)  # any further headers
    # respond | hold (until the client gives up) | drop the connection | cut: the endpoint serves
    # the request (billed), then a stream stops after about half its deltas and a JSON reply is
    # dropped before it is sent (``Call.fault`` tells the endpoint)
    action: str = "respond"
    param: str | None = None
    outcome: str = ""  # the request log's outcome; the kind unless set
    transient: bool = False  # drawn by ``fail_rate``: a retry is meant to get past it

    def __post_init__(self) -> None:
        """A bad row fails when the table is built (at import), never on a learner's request."""
        if self.action not in ("respond", "hold", "drop", "cut"):
            raise ValueError(f"fault {self.kind!r}: unknown action {self.action!r}")
        if self.action == "respond" and not (400 <= self.status <= 599 and self.type):
            raise ValueError(f"fault {self.kind!r} responds, so it needs an error status and type")


_RATE_LIMIT = (
    "Rate limit reached for {model} in organization {org} on {unit}: simulated fault. "
    "Please try again in {retry_in}. " + RATE_LIMIT_DOCS
)

FAULTS: dict[str, FaultSpec] = {
    spec.kind: spec
    for spec in (
        FaultSpec(
            "rate_limit", 429, "requests", "rate_limit_exceeded",
            _RATE_LIMIT.replace("{unit}", "requests per min (RPM)"),
            retry_after_s=CONFIGURED, transient=True,
        ),
        FaultSpec(
            "quota", 429, "insufficient_quota", "insufficient_quota",
            "You exceeded your current quota, please check your plan and billing details. "
            "Waiting does not help: add credit or use another project's key. (Simulated.)",
        ),
        FaultSpec(
            "server_error", 500, "server_error", "server_error",
            "The server had an error while processing your request. Sorry about that! "
            "(Simulated fault: retrying usually works.)",
            transient=True,
        ),
        FaultSpec(
            "overloaded", 503, "server_error", "overloaded",
            "The engine is currently overloaded, please try again later. (Simulated.)",
            transient=True,
        ),
        FaultSpec("timeout", action="hold"),
        FaultSpec("disconnect", action="drop", transient=True),
        FaultSpec(
            "bad_request", 400, "invalid_request_error", "invalid_value",
            "Invalid request (simulated fault): the request was refused as malformed. "
            "Sending it again fails the same way; fix the request instead of retrying.",
        ),
        FaultSpec(
            "auth", 401, "invalid_request_error", "invalid_api_key", INVALID_KEY_MESSAGE
        ),
        FaultSpec(
            "context_length", 400, "invalid_request_error", "context_length_exceeded",
            CONTEXT_LENGTH_MESSAGE, param="{input}",
        ),
        FaultSpec(
            "rate_limit_long", 429, "tokens", "rate_limit_exceeded",
            _RATE_LIMIT.replace("{unit}", "tokens per day (TPD)"),
            retry_after_s=LONG_RETRY_AFTER_S,
        ),
        FaultSpec(
            "quota_credit", 429, "insufficient_quota", "credit_balance_exhausted",
            "Your organization has no prepaid credit left, so the request was refused "
            "(simulated). Retrying will not help: add credit to the API balance first.",
        ),
        FaultSpec(
            "quota_spend_limit", 429, "insufficient_quota", "project_spend_limit_exceeded",
            "This project has reached the monthly spend limit set for it (simulated). Retrying "
            "will not help: raise the project's limit, or wait for the monthly reset.",
        ),
        # The rarer statuses of the SDK's tree, so lesson 04 can show every row of its table.
        FaultSpec(
            "permission", 403, "invalid_request_error", "unsupported_country_region_territory",
            "Country, region, or territory not supported (simulated). The key is valid but may "
            "not be used from here; retrying will not help.",
        ),
        FaultSpec(
            "conflict", 409, "invalid_request_error", "conflict",
            "Another request is changing the same resource right now (simulated). Retry in a "
            "moment.",
        ),
        FaultSpec(
            "unprocessable", 422, "invalid_request_error", "unprocessable_entity",
            "The request was well-formed but could not be processed (simulated). Change its "
            "content; sending the same content again fails the same way.",
        ),
        # An error half-way through a streamed answer: some deltas arrive, then the connection
        # drops. Not transient for fail_rate (its draw order stays as lessons know it).
        FaultSpec("stream_cut", action="cut"),
    )
}  # fmt: skip
FAULT_KINDS = tuple(FAULTS)
TRANSIENT_FAULTS = tuple(kind for kind, spec in FAULTS.items() if spec.transient)


def fault_reply(kind: str, call: Call, configured_retry_after_s: float) -> Reply:
    """The reply a request gets under fault ``kind`` (its spec filled in for this request)."""
    spec = FAULTS[kind]
    outcome = spec.outcome or kind
    if spec.action != "respond":
        return Reply(action=spec.action, outcome=outcome)
    retry_s = configured_retry_after_s if spec.retry_after_s == CONFIGURED else spec.retry_after_s
    window = model_or_default(call.model or "").context_window
    context = {
        "model": call.model or "this model",
        "org": ORG,
        "retry_in": format_duration(float(retry_s)) if retry_s is not None else "",
        "key": mask_key(call.key),
        "tokens": window + 1,
        "window": window,
        "input": "messages" if call.path.endswith("/chat/completions") else "input",
    }
    headers = dict(spec.headers)
    if retry_s is not None:
        headers.update(retry_headers(float(retry_s)))
    body = error_body(
        spec.message.format(**context),
        spec.type,
        spec.param.format(**context) if spec.param else None,
        spec.code,
    )
    return Reply(spec.status, body, headers, outcome)


def check_fault(kind: object, where: str = "fault") -> str | None:
    """``kind`` if it names a fault (or is None for "serve normally"); else a clear ValueError."""
    if kind is None:
        return None
    if isinstance(kind, str) and kind in FAULTS:
        return kind
    raise ValueError(
        f"{where} {kind!r} is not a simulator fault; use one of {', '.join(FAULT_KINDS)} "
        "(or None to serve the request normally)"
    )


class FaultPlan:
    """The scripted queue plus the seeded random draw, shared by all server threads."""

    def __init__(self, fail_rate: float = 0.0, seed: int = 0) -> None:
        if not isinstance(fail_rate, int | float) or not 0.0 <= fail_rate <= 1.0:
            raise ValueError(f"fail_rate must be a probability between 0 and 1, got {fail_rate!r}")
        self.fail_rate = float(fail_rate)
        self.seed = seed
        self._rng = random.Random(seed)
        self._queue: deque[str | None] = deque()
        self._lock = threading.Lock()

    def queue(self, kinds: Iterable[str | None], *, replace: bool = False) -> None:
        """Append faults for the next requests, in order (None serves one normally)."""
        if isinstance(kinds, str):
            raise TypeError(
                f"queue_faults takes a list, e.g. [{kinds!r}], not a bare string {kinds!r}"
            )
        checked = [check_fault(k, "queued fault") for k in kinds]
        with self._lock:
            if replace:
                self._queue.clear()
            self._queue.extend(checked)

    def clear(self) -> None:
        """Drop the faults still queued (the seeded draw goes on where it was)."""
        with self._lock:
            self._queue.clear()

    @property
    def pending(self) -> list[str | None]:
        """The faults still queued, next first."""
        with self._lock:
            return list(self._queue)

    def next_fault(self, header: str | None, *, generating: bool = True) -> str | None:
        """The fault for one arriving request (the header wins and leaves the queue alone).

        Only a generating request (``generating=True``) takes from the queue or the draw, so
        listing models or counting tokens never uses up a fault scripted for a generation.
        """
        if header:
            return check_fault(header.strip().lower(), f"{FAULT_HEADER} header value")
        if not generating:
            return None
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            if self.fail_rate and self._rng.random() < self.fail_rate:
                return self._rng.choice(TRANSIENT_FAULTS)
        return None

    def reset(self) -> None:
        """Empty the queue and restart the seeded draw."""
        with self._lock:
            self._queue.clear()
            self._rng = random.Random(self.seed)
