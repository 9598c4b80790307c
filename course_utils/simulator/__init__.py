"""The course's offline OpenAI-compatible server (``python -m course_utils.simulator``).

``Simulator`` answers the real ``openai`` SDK over real loopback HTTP: deterministic answers
with exact tiktoken usage, per-key RPM/TPM limits with the service's headers, and faults on
demand (``X-Sim-Fault``, ``queue_faults``, ``fail_rate``).
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
