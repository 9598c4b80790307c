"""The course's offline OpenAI-compatible server (``python -m course_utils.simulator``).

``Simulator`` answers the real ``openai`` SDK over real loopback HTTP: deterministic answers
with exact tiktoken usage, per-key RPM/TPM limits with the service's headers, and faults on
demand (``X-Sim-Fault``, ``queue_faults``, ``fail_rate``).

Conventions lesson authors can rely on:
- every response carries ``x-request-id`` and the six ``x-ratelimit-*`` headers; with no
  ``rpm``/``tpm`` the limits are reported (30,000 RPM, 150,000,000 TPM) but never enforced;
- a request reserves input tokens + its output cap (``max_output_tokens`` / ``max_tokens`` /
  ``max_completion_tokens``, else 1,024) against TPM; nothing is refunded afterwards;
- a 429 ``rate_limit_exceeded`` carries ``retry-after`` (whole seconds) and ``retry-after-ms``
  (exact; a scripted ``rate_limit`` fault uses ``fault_retry_after_ms``, 100 by default);
- a 429 ``insufficient_quota`` carries no retry hint and no ``x-should-retry``, exactly like the
  service, so the SDK's built-in retries repeat it (a trap the retry lesson shows);
- a bug in the simulator itself is a 500 ``simulator_internal_error`` with the traceback in the
  message and ``x-should-retry: false``, and is kept in ``Simulator.server_errors``;
- ``stream: true`` gets a 400 saying streaming is not simulated yet.
"""

from __future__ import annotations

from .faults import FAULT_KINDS, TRANSIENT_FAULTS
from .limits import TokenBucket, format_duration
from .server import RequestRecord, Simulator

__all__ = [
    "FAULT_KINDS",
    "TRANSIENT_FAULTS",
    "RequestRecord",
    "Simulator",
    "TokenBucket",
    "format_duration",
]
