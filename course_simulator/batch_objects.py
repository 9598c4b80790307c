"""The Batch API's objects as the simulator keeps them: files, batches, and their schedule.

``StoredFile`` and ``BatchJob`` hold what the service stores and build the ``FileObject`` and
``Batch`` it returns (``object()``); ``BatchTimings`` is the fixed schedule a job's simulated
clock follows; ``problem`` is one entry of a failed batch's ``errors.data``. The workers that
move a job through its states are in ``batch_worker``.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = ["COMPLETION_WINDOWS", "BatchJob", "BatchTimings", "StoredFile", "problem"]

COMPLETION_WINDOWS = {"24h": 24 * 3600}  # the only window the service accepts


@dataclass(frozen=True)
class BatchTimings:
    """How long each stage takes, in *simulated* seconds (divide by the time scale for real).

    Small batches finish in well under an hour of simulated time, a full 50,000-line file in a
    few hours: the shape of the service's typical turnaround, not a measurement of it.
    """

    validate_s: float = 120.0  # reading and checking the input file
    queue_s: float = 900.0  # waiting for capacity once in_progress
    lines_per_hour: float = 20_000.0  # then a steady rate of lines
    finalize_s: float = 300.0  # writing the output and error files
    cancel_s: float = 120.0  # cancelling: in-flight lines drain, then the files are written


@dataclass
class StoredFile:
    """One uploaded (or generated) file: its bytes and its ``FileObject`` fields."""

    id: str
    owner: str
    filename: str
    purpose: str
    data: bytes
    created_at: int
    expires_at: int | None = None

    def object(self) -> dict[str, Any]:
        """The ``FileObject`` the service returns."""
        return {
            "id": self.id,
            "object": "file",
            "bytes": len(self.data),
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "status_details": None,
        }


@dataclass
class BatchJob:
    """One batch: the ``Batch`` object's fields plus what its worker needs."""

    id: str
    owner: str
    input_file_id: str
    endpoint: str
    completion_window: str
    metadata: dict[str, str] | None
    created_at: int
    started: float  # time.monotonic() at creation: real time of simulated t = 0
    status: str = "validating"
    t: float = 0.0  # simulated seconds since creation, on the job's schedule
    stamps: dict[str, int] = field(default_factory=dict)  # "in_progress_at" -> epoch seconds
    total: int = 0
    completed: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    model: str | None = None
    usage: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("input_tokens", "cached_tokens", "output_tokens", "reasoning_tokens"), 0
        )
    )
    enqueued_tokens: int = 0
    cancel_requested: bool = False
    created_object: dict[str, Any] | None = None  # the object as create() returns it
    wake: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    @property
    def window_s(self) -> float:
        return float(COMPLETION_WINDOWS[self.completion_window])

    def stamp(self, name: str) -> int:
        """Record that ``name`` happened now (at the job's simulated time)."""
        value = self.created_at + math.floor(self.t)
        self.stamps[name] = value
        return value

    def object(self) -> dict[str, Any]:
        """The ``Batch`` object the service returns."""
        u = self.usage
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "model": self.model,
            "errors": None if self.errors is None else {"object": "list", "data": self.errors},
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": self.created_at,
            "in_progress_at": self.stamps.get("in_progress_at"),
            "expires_at": self.created_at + int(self.window_s),
            "finalizing_at": self.stamps.get("finalizing_at"),
            "completed_at": self.stamps.get("completed_at"),
            "failed_at": self.stamps.get("failed_at"),
            "expired_at": self.stamps.get("expired_at"),
            "cancelling_at": self.stamps.get("cancelling_at"),
            "cancelled_at": self.stamps.get("cancelled_at"),
            "request_counts": {
                "total": self.total,
                "completed": self.completed,
                "failed": self.failed,
            },
            "usage": {
                "input_tokens": u["input_tokens"],
                "input_tokens_details": {"cached_tokens": u["cached_tokens"]},
                "output_tokens": u["output_tokens"],
                "output_tokens_details": {"reasoning_tokens": u["reasoning_tokens"]},
                "total_tokens": u["input_tokens"] + u["output_tokens"],
            },
            "metadata": self.metadata,
        }


def problem(code: str, message: str, line: int | None = None, param: str | None = None) -> dict:
    """One entry of a failed batch's ``errors.data`` (``BatchError``)."""
    return {"code": code, "message": message, "param": param, "line": line}
