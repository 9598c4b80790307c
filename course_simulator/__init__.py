"""The course's offline OpenAI-compatible server (``python -m course_simulator``).

``Simulator`` answers the real ``openai`` SDK over real loopback HTTP (or in-process, with
``serve=False``: the same app through an httpx2 transport): deterministic answers
with exact tiktoken usage, per-key RPM/TPM limits with the service's headers, and faults on
demand (``X-Sim-Fault``, ``queue_faults``, ``fail_rate``).

Layout: ``server`` (the ``Simulator``: the app ``handle``, lifecycle, auth, admission, request
log), ``http`` (the socket server: bytes <-> ``Reply``, the class server's bounds),
``http_head`` (a request's line and headers read, a response's head written),
``inprocess`` (httpx2 transports that reach the same app with no socket: ``serve=False``,
``sim.transport()``, ``sim.async_transport()``), ``fair_share`` (turns per key),
``protocol`` (``Call``, ``Reply``, ``RequestRecord``), ``request_body`` (key and JSON body),
``params`` (the API's 400s), ``error_replies`` (the service's error bodies), ``bugs`` (the 500
a simulator bug earns), ``endpoints`` (one module per endpoint family and the one route table),
``faults`` (the table of fault kinds), ``limits`` (RPM/TPM ``KeyBuckets``), ``latency``,
``prompt_cache``, ``model`` (the simulated model), ``answer_memo`` (answers already written).
It imports nothing above the foundation (``pricing``, ``tokens``).

Conventions lesson authors can rely on:
- every response carries ``x-request-id`` and the six ``x-ratelimit-*`` headers; with no
  ``rpm``/``tpm`` the limits are reported (30,000 RPM, 150,000,000 TPM) but never enforced;
- a request reserves input tokens + its output cap (``max_output_tokens`` / ``max_tokens`` /
  ``max_completion_tokens``, else 1,024) against TPM; nothing is refunded afterwards;
- a 429 ``rate_limit_exceeded`` carries ``retry-after`` (whole seconds) and ``retry-after-ms``
  (exact; a scripted ``rate_limit`` fault uses ``fault_retry_after_ms``, 100 by default);
- a 429 ``insufficient_quota`` (faults ``quota``, ``quota_credit``, ``quota_spend_limit``) carries
  no retry hint and no ``x-should-retry``, exactly like the service, so the SDK's built-in
  retries repeat it (a trap worth showing learners: waiting never fixes a quota);
- fault ``rate_limit_long`` is a 429 with ``retry-after: 300``: above the SDK's 120 s ceiling, so
  the SDK raises at once instead of waiting;
- a bug in the simulator itself is a 500 ``simulator_internal_error`` naming the request id and
  the exception's type, with ``x-should-retry: false``; its traceback is kept in
  ``Simulator.server_errors`` and the ``course_simulator`` log, never sent or printed;
- ``max_output_tokens`` (or ``max_tokens`` / ``max_completion_tokens``) above the model's
  maximum output is the service's 400, and an uncapped answer stops at that maximum;
- every request is answered and recorded, protocol garbage included (a status line and an
  OpenAI-shaped body); the key is checked before ``X-Sim-Fault``; a stalled client gets a 408
  after ``read_timeout_s``; past ``max_connections`` (1,024) a connection gets a 503, and so
  does one more from an address already holding ``max_unkeyed_per_address`` (128) connections
  that showed no valid key; the key is checked from the headers before the body is read; the
  pipeline serves the keys in turn (``fair_share``); a held request ends when its client
  disconnects; a body that cannot fit the model's window by its size alone is refused before
  it is tokenised;
- in-process (``Simulator(serve=False)``) every reply is the same; a dropped connection or a
  cut stream raises httpx2's ``RemoteProtocolError`` (the SDK's ``APIConnectionError``) and a
  held request ``ReadTimeout`` at once (``APITimeoutError``);
- the request log and the per-key buckets are bounded (10,000 each, newest / most recently
  used kept);
- the Batch API (``/v1/files``, ``/v1/batches``; ``batch_worker``) runs each line through the
  same endpoint as an online request, in a worker thread, on a simulated clock
  (``batch_time_scale``, 3600 by default: a "24h" window lasts 24 real seconds); batch work
  takes nothing from the RPM/TPM buckets, has its own enqueued-token limit per model, and a
  line's fault (queued or ``fail_rate``) lands in the batch's error file;
- ``GET /v1/models/{id}`` returns one catalogue model, or the service's 404
  ``model_not_found``;
- ``stream: true`` answers with the service's server-sent events on both endpoints (same text
  and ``usage`` as the JSON reply, deltas paced by the model's latency profile); fault
  ``stream_cut`` drops the connection half-way through the stream;
- prompt caching (``prompt_cache``): an input of 1,024+ tokens whose prefix matches a recent request
  of the same key, model and ``prompt_cache_key`` reports ``cached_tokens`` (1,024 + 128·k);
- ``X-Sim-Latency-Scale: 1`` gives one request the catalogue's full latency (the live API
  ignores it), so a lesson can measure time to first token on the shared simulator.
"""

from __future__ import annotations

from .endpoints import ROUTES, Route
from .faults import FAULT_KINDS, FAULTS, TRANSIENT_FAULTS, FaultSpec
from .limits import TokenBucket, format_duration
from .protocol import RequestRecord
from .server import Simulator

__all__ = [
    "FAULTS",
    "FAULT_KINDS",
    "ROUTES",
    "TRANSIENT_FAULTS",
    "FaultSpec",
    "RequestRecord",
    "Route",
    "Simulator",
    "TokenBucket",
    "format_duration",
]
