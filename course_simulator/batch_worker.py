"""The Batch API behind the simulator: stored files, batch jobs and the workers that run them.

A batch goes ``validating → in_progress → finalizing → completed`` (or ``failed`` when its input
file breaks a rule, ``expired`` when its completion window ends first, ``cancelling →
cancelled`` on request), as on the service. Each job runs in its own worker thread, which sends
every line through the same endpoint function an online request reaches (``endpoints.ROUTES``),
so a line's answer is byte for byte the answer the online endpoint gives, but it takes nothing
from the per-minute RPM/TPM buckets: batch work has its own limit, the tokens *enqueued* per
model (the input tokens of that key's unfinished batches).

Time runs on a scale. ``time_scale`` simulated seconds pass per real second (3600 by default: a
"24h" window lasts 24 real seconds). A job keeps its own simulated clock ``t`` that advances on
a fixed schedule (``BatchTimings``: validation, a wait for capacity, a steady rate of lines,
finalizing) and the worker sleeps so that ``t`` never runs ahead of real time x scale. Expiry
is judged on that schedule, so whether a line finishes inside the window does not depend on how
busy the machine is; timestamps are ``created_at`` + ``t``.

Faults: each line takes the next fault of the server's ``FaultPlan`` (queued, then the seeded
``fail_rate`` draw) like a generating request, and lands in the error file with the fault's
status and body. Faults that only make sense on a live connection or against per-minute limits
(``rate_limit``, ``rate_limit_long``, ``timeout``, ``disconnect``) become a 500 ``server_error``
line: batch work never sees a 429 for going too fast.

The objects a job keeps (``BatchJob``, ``StoredFile``, ``BatchTimings``) are in
``batch_objects``; the input file's rules, checked before any line runs, in ``batch_input``.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from course_utils.platform import IN_BROWSER
from course_utils.tokens import count_request_input

from .batch_input import InputLine, validate_input
from .batch_objects import BatchJob, BatchTimings, StoredFile, problem
from .error_replies import ORG, SimError, bad_request, error_body
from .faults import FAULTS, FaultPlan, fault_reply
from .prompt_cache import PromptCache
from .protocol import Call, Endpoint, Reply, new_id

__all__ = [
    "BATCH_ENDPOINTS",
    "DEFAULT_BATCH_TIME_SCALE",
    "DEFAULT_ENQUEUED_TOKEN_LIMIT",
    "FILE_PURPOSES",
    "MAX_BATCH_FILE_BYTES",
    "MAX_BATCH_REQUESTS",
    "MAX_FILE_BYTES",
    "BatchService",
]

BATCH_ENDPOINTS = ("/v1/responses", "/v1/chat/completions")  # the ones the simulator can run
MAX_BATCH_REQUESTS = 50_000  # lines in one batch input file
MAX_BATCH_FILE_BYTES = 200 * 1024 * 1024  # one batch input file: 200 MB
MAX_FILE_BYTES = 512 * 1024 * 1024  # any one uploaded file: 512 MB
BATCH_FILE_LIFETIME_S = 30 * 24 * 3600  # purpose=batch files expire after 30 days by default
DEFAULT_BATCH_TIME_SCALE = 3600.0  # simulated seconds per real second: 24h lasts 24 s
# Tokens a key may hold enqueued per model (the input of its unfinished batches). The service's
# figure depends on the model and the usage tier; this is about a top tier's for a small model,
# matching the generous per-minute limits the simulator reports when none are set.
DEFAULT_ENQUEUED_TOKEN_LIMIT = 15_000_000_000
FILE_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
MAX_METADATA_PAIRS, MAX_METADATA_KEY, MAX_METADATA_VALUE = 16, 64, 512
# Faults with no meaning for a batch line (no connection to drop, no per-minute bucket).
_LINE_AS_SERVER_ERROR = frozenset({"rate_limit", "rate_limit_long", "timeout", "disconnect"})
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})


class _LineHost:
    """The ``Host`` a batch line runs against: no RPM/TPM admission, no per-request latency
    (the batch's own schedule sets the pace), the server's prompt cache (batch lines that
    share a long prefix report ``cached_tokens`` as online requests do)."""

    def __init__(self, service: BatchService, prompt_cache: PromptCache) -> None:
        self._service = service
        self.prompt_cache = prompt_cache

    def admit(self, call: Call, model: str, tokens: int) -> dict[str, str]:
        return {}

    def wait_latency(self, call: Call, model: str | None, output_tokens: int) -> None:
        return None

    def timing(
        self, call: Call, model: str | None, input_tokens: int = 0, cached_tokens: int = 0
    ) -> tuple[float, float]:
        return 0.0, 0.0

    def pause(self, seconds: float) -> None:
        return None

    def now(self) -> float:
        return time.monotonic()

    @property
    def batch(self) -> BatchService:
        return self._service


def _not_found(kind: str, object_id: str) -> SimError:
    return SimError(
        404,
        f"No {kind} found with id '{object_id}'. Check the id (it is case-sensitive) and that it "
        "was created with the same API key.",
        "invalid_request_error",
        "id",
        "not_found" if kind == "batch" else "file_not_found",
        outcome="not_found",
    )


def _endpoint_kind(url: str) -> str:
    return "chat" if url.endswith("/chat/completions") else "responses"


class BatchService:
    """Files and batches for every API key of one simulator, and the worker threads.

    ``timings`` and the limits are attributes, so a test (or a lesson) can make a window run
    out after a few lines: ``sim.batch.timings = BatchTimings(lines_per_hour=2)``.
    """

    def __init__(
        self,
        faults: FaultPlan,
        *,
        time_scale: float = DEFAULT_BATCH_TIME_SCALE,
        enqueued_token_limit: int = DEFAULT_ENQUEUED_TOKEN_LIMIT,
        endpoint_for: Callable[[str], Endpoint | None] = lambda url: None,
        on_crash: Callable[[str], None] | None = None,
        prompt_cache: PromptCache | None = None,
    ) -> None:
        """``endpoint_for(url)`` is the online endpoint a line's url reaches (the server passes
        its route table's, so this module never imports the endpoints that import it)."""
        if isinstance(time_scale, bool) or not isinstance(time_scale, int | float):
            raise ValueError(f"batch_time_scale must be a number > 0, got {time_scale!r}")
        if not 0 < time_scale < math.inf:
            raise ValueError(
                f"batch_time_scale must be a number > 0 (simulated seconds per real second; "
                f"3600 makes a 24h window last 24 s), got {time_scale!r}"
            )
        if (
            isinstance(enqueued_token_limit, bool)
            or not isinstance(enqueued_token_limit, int)
            or enqueued_token_limit <= 0
        ):
            raise ValueError(
                f"batch_enqueued_tokens must be a whole number > 0, got {enqueued_token_limit!r}"
            )
        self.faults = faults
        self.time_scale = float(time_scale)
        self.enqueued_token_limit = enqueued_token_limit
        self.timings = BatchTimings()
        self.max_requests = MAX_BATCH_REQUESTS
        self.max_batch_file_bytes = MAX_BATCH_FILE_BYTES
        self._on_crash = on_crash
        self._endpoint_for = endpoint_for
        self._files: dict[str, StoredFile] = {}
        self._batches: dict[str, BatchJob] = {}  # insertion order = creation order
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._host = _LineHost(self, prompt_cache if prompt_cache is not None else PromptCache())

    # --- lifecycle ------------------------------------------------------------------------

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop every worker thread (jobs stay where they were) and wait for them."""
        self._stopping.set()
        with self._lock:
            jobs = list(self._batches.values())
        for job in jobs:
            job.wake.set()
        deadline = time.monotonic() + timeout_s
        for job in jobs:
            if job.thread is not None:
                job.thread.join(max(0.0, deadline - time.monotonic()))

    def start(self) -> None:
        """Allow workers again (after ``stop()``; the server calls it on start)."""
        self._stopping = threading.Event()

    def reset(self) -> None:
        """Stop the workers and forget every file and batch."""
        self.stop()
        with self._lock:
            self._files.clear()
            self._batches.clear()
        self.start()

    @property
    def running_workers(self) -> int:
        """Worker threads still alive (0 after ``stop()``)."""
        with self._lock:
            return sum(1 for j in self._batches.values() if j.thread and j.thread.is_alive())

    # --- files ----------------------------------------------------------------------------

    def add_file(self, owner: str, filename: str, purpose: str, data: bytes) -> StoredFile:
        """Store an upload (checked by the endpoint) or a batch's output file."""
        now = int(time.time())
        expires = now + BATCH_FILE_LIFETIME_S if purpose in ("batch", "batch_output") else None
        stored = StoredFile(new_id("file-"), owner, filename, purpose, data, now, expires)
        with self._lock:
            self._files[stored.id] = stored
        return stored

    def file(self, owner: str, file_id: str) -> StoredFile:
        """The file ``file_id`` of this key, or the service's 404."""
        with self._lock:
            found = self._files.get(file_id)
        if found is None or found.owner != owner:
            raise _not_found("file", file_id)
        return found

    def delete_file(self, owner: str, file_id: str) -> None:
        """Delete a file of this key (its batches keep their results until they are read)."""
        self.file(owner, file_id)
        with self._lock:
            self._files.pop(file_id, None)

    def files(self, owner: str, purpose: str | None = None) -> list[StoredFile]:
        """This key's files, oldest first."""
        with self._lock:
            return [
                f
                for f in self._files.values()
                if f.owner == owner and (purpose is None or f.purpose == purpose)
            ]

    # --- batches ----------------------------------------------------------------------------

    def create(
        self,
        owner: str,
        input_file_id: str,
        endpoint: str,
        completion_window: str,
        metadata: dict[str, str] | None,
    ) -> BatchJob:
        """Start a batch over a stored input file (parameters checked by the endpoint)."""
        source = self.file(owner, input_file_id)
        if source.purpose != "batch":
            raise bad_request(
                f"The input file {input_file_id} was uploaded with purpose '{source.purpose}'; "
                "a batch reads only files uploaded with purpose 'batch'.",
                "input_file_id",
                "invalid_value",
            )
        if IN_BROWSER:  # each batch runs in a worker thread, and a browser tab has none
            raise bad_request(
                "The course simulator cannot run batches in a browser tab (no threads there); "
                "run this part of the course in JupyterLab on your machine or on Binder.",
                "input_file_id",
                "unsupported_in_browser",
            )
        job = BatchJob(
            new_id("batch_"), owner, input_file_id, endpoint, completion_window, metadata,
            int(time.time()), time.monotonic(),
        )  # fmt: skip
        job.thread = threading.Thread(
            target=self._work, args=(job, source.data), daemon=True, name=f"batch:{job.id[:14]}"
        )
        job.created_object = job.object()  # before the worker starts: always "validating"
        with self._lock:
            self._batches[job.id] = job
        job.thread.start()
        return job

    def get(self, owner: str, batch_id: str) -> BatchJob:
        """The batch ``batch_id`` of this key, or the service's 404."""
        with self._lock:
            job = self._batches.get(batch_id)
        if job is None or job.owner != owner:
            raise _not_found("batch", batch_id)
        return job

    def batches(self, owner: str) -> list[BatchJob]:
        """This key's batches, newest first (the order the service lists them in)."""
        with self._lock:
            return [j for j in reversed(self._batches.values()) if j.owner == owner]

    def cancel(self, owner: str, batch_id: str) -> BatchJob:
        """Ask a batch to stop: ``cancelling`` now, ``cancelled`` once its worker has wound down."""
        job = self.get(owner, batch_id)
        with self._lock:
            if job.status in TERMINAL or job.status == "cancelling":
                if job.status in ("cancelling", "cancelled"):
                    return job
                raise SimError(
                    409,
                    f"Cannot cancel a batch with status '{job.status}': it has already ended.",
                    "invalid_request_error",
                    code="batch_not_cancellable",
                    outcome="conflict",
                )
            job.cancel_requested = True
            job.status = "cancelling"
            job.stamp("cancelling_at")
        job.wake.set()
        return job

    # --- the worker -------------------------------------------------------------------------

    def _pace(self, job: BatchJob) -> bool:
        """Sleep until real time catches up with the job's simulated ``t``; False if stopping."""
        while not self._stopping.is_set():
            ahead = job.started + job.t / self.time_scale - time.monotonic()
            if ahead <= 0.002 or (job.cancel_requested and job.status == "cancelling"):
                return True
            job.wake.wait(ahead)
            job.wake.clear()
        return False

    def _advance(self, job: BatchJob, seconds: float) -> bool:
        job.t += seconds
        return self._pace(job)

    def _work(self, job: BatchJob, data: bytes) -> None:
        try:
            self._run(job, data)
        except Exception:  # a bug in the simulator: the batch fails and the test sees it
            tb = traceback.format_exc()
            if self._on_crash is not None:
                self._on_crash(tb)
            with self._lock:
                job.status = "failed"
                job.errors = [
                    problem(
                        "simulator_internal_error",
                        "The course simulator itself failed (a bug, not a simulated fault) while "
                        "running this batch; Simulator.server_errors holds the traceback.",
                    )
                ]
                job.stamp("failed_at")
        finally:
            self._release(job)

    def _release(self, job: BatchJob) -> None:
        with self._lock:
            job.enqueued_tokens = 0

    def _fail(self, job: BatchJob, problems: list[dict]) -> None:
        with self._lock:
            job.status = "failed"
            job.errors = problems
            job.stamp("failed_at")

    def _run(self, job: BatchJob, data: bytes) -> None:
        lines, problems, model = validate_input(data, job.endpoint, self.max_requests)
        if not self._advance(job, self.timings.validate_s):
            return
        if job.cancel_requested:  # cancelled while validating: nothing ran, nothing to report
            self._finish_cancelled(job, [], [], [])
            return
        if problems:
            self._fail(job, problems)
            return
        kind = _endpoint_kind(job.endpoint)
        tokens = 0
        for line in lines:
            # content the simulator cannot count is refused when its line runs: count it as 0
            with contextlib.suppress(TypeError, ValueError):
                tokens += count_request_input(line.body, model, kind)
        with self._lock:
            queued = sum(
                j.enqueued_tokens
                for j in self._batches.values()
                if j.owner == job.owner and j.model == model and j is not job
            )
            if queued + tokens > self.enqueued_token_limit:
                job.model = model
                self._fail(job, [self._token_limit_problem(model, tokens, queued)])
                return
            job.model, job.enqueued_tokens, job.total = model, tokens, len(lines)
            if not job.cancel_requested:
                job.status = "in_progress"
                job.stamp("in_progress_at")
        if not self._advance(job, self.timings.queue_s):
            return
        outputs: list[dict] = []
        failures: list[dict] = []
        line_s = 3600.0 / self.timings.lines_per_hour
        for index, line in enumerate(lines):
            if job.cancel_requested:
                self._finish_cancelled(job, lines[index:], outputs, failures)
                return
            if job.t + line_s > job.window_s:
                self._finish_expired(job, lines[index:], outputs, failures)
                return
            record, ok = self._run_line(job, line)
            job.t += line_s
            with self._lock:
                (outputs if ok else failures).append(record)
                if ok:
                    job.completed += 1
                else:
                    job.failed += 1
            if not self._pace(job):
                return
        with self._lock:
            cancelled = job.cancel_requested  # after the last line: it still ends cancelled
            if not cancelled:
                job.status = "finalizing"
                job.stamp("finalizing_at")
        if cancelled:
            self._finish_cancelled(job, [], outputs, failures)
            return
        if not self._advance(job, self.timings.finalize_s):
            return
        self._write_files(job, outputs, failures)
        with self._lock:
            job.status = "completed"
            job.stamp("completed_at")

    def _token_limit_problem(self, model: str, tokens: int, queued: int) -> dict:
        return problem(
            "token_limit_exceeded",
            f"Enqueued token limit reached for {model} in organization {ORG}. Limit: "
            f"{self.enqueued_token_limit:,} enqueued tokens; this batch holds {tokens:,} and "
            f"{queued:,} are already enqueued in your unfinished batches. Submit smaller "
            "batches, or wait until some in_progress batches have completed.",
        )

    def _unfinished(self, job: BatchJob, lines: list[InputLine], code: str, message: str) -> list:
        return [
            {
                "id": new_id("batch_req_"),
                "custom_id": line.custom_id,
                "response": None,
                "error": {"code": code, "message": message},
            }
            for line in lines
        ]

    def _finish_expired(
        self, job: BatchJob, rest: list[InputLine], outputs: list[dict], failures: list[dict]
    ) -> None:
        failures += self._unfinished(
            job, rest, "batch_expired",
            "This request could not be executed before the completion window expired.",
        )  # fmt: skip
        job.t = max(job.t, job.window_s)
        if not self._pace(job):
            return
        self._write_files(job, outputs, failures)
        with self._lock:
            job.failed += len(rest)
            job.status = "expired"
            job.stamp("expired_at")

    def _finish_cancelled(
        self, job: BatchJob, rest: list[InputLine], outputs: list[dict], failures: list[dict]
    ) -> None:
        failures += self._unfinished(
            job, rest, "batch_cancelled", "This request was not executed: the batch was cancelled."
        )
        if not self._advance(job, self.timings.cancel_s):
            return
        self._write_files(job, outputs, failures)
        with self._lock:
            job.failed += len(rest)
            job.status = "cancelled"
            job.stamp("cancelled_at")

    def _write_files(self, job: BatchJob, outputs: list[dict], failures: list[dict]) -> None:
        def jsonl(records: list[dict]) -> bytes:
            return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records).encode()

        if outputs:
            out = self.add_file(job.owner, f"{job.id}_output.jsonl", "batch_output", jsonl(outputs))
            job.output_file_id = out.id
        if failures:
            err = self.add_file(job.owner, f"{job.id}_error.jsonl", "batch_output", jsonl(failures))
            job.error_file_id = err.id

    def _run_line(self, job: BatchJob, line: InputLine) -> tuple[dict, bool]:
        """Run one line through the endpoint an online request would reach."""
        request_id = new_id("req_")
        call = Call("POST", line.url, {}, job.owner, line.body, b"", request_id)
        fault = self.faults.next_fault(None, generating=True)
        if fault is not None:
            kind = "server_error" if fault in _LINE_AS_SERVER_ERROR else fault
            reply = fault_reply(kind, call, 0.0)
            if FAULTS[kind].action != "respond":  # stream_cut: no stream to cut in a batch
                reply = fault_reply("server_error", call, 0.0)
        else:
            endpoint = self._endpoint_for(line.url)
            assert endpoint is not None  # the url was validated against BATCH_ENDPOINTS
            try:
                reply = endpoint(self._host, call)
            except SimError as err:
                reply = Reply(err.status, err.body())
            except Exception:
                tb = traceback.format_exc()
                if self._on_crash is not None:
                    self._on_crash(tb)
                body = error_body(
                    "The course simulator itself failed (a bug, not a simulated fault); request "
                    f"id {request_id}.",
                    "server_error",
                    None,
                    "simulator_internal_error",
                )
                reply = Reply(500, body)
        ok = reply.status == 200
        if ok and reply.body is not None:
            self._add_usage(job, reply.body.get("usage") or {})
        record = {
            "id": new_id("batch_req_"),
            "custom_id": line.custom_id,
            "response": {"status_code": reply.status, "request_id": request_id, "body": reply.body},
            "error": None,
        }
        return record, ok

    def _add_usage(self, job: BatchJob, usage: dict[str, Any]) -> None:
        chat = "prompt_tokens" in usage
        inp = usage.get("prompt_tokens" if chat else "input_tokens") or 0
        out = usage.get("completion_tokens" if chat else "output_tokens") or 0
        inp_details = usage.get("prompt_tokens_details" if chat else "input_tokens_details") or {}
        out_details = (
            usage.get("completion_tokens_details" if chat else "output_tokens_details") or {}
        )
        with self._lock:
            job.usage["input_tokens"] += inp
            job.usage["output_tokens"] += out
            job.usage["cached_tokens"] += inp_details.get("cached_tokens") or 0
            job.usage["reasoning_tokens"] += out_details.get("reasoning_tokens") or 0
