"""The Batch API path: one input file of requests in, a job on the provider's fleet, results out.

When per-minute limits are the bottleneck and nobody waits for the answers, the provider's own
batch engine beats any home-made runner: upload a JSONL file with one request a line, create a
batch with a completion window (``24h``), poll it, download the output. Half the price, no
429s, limits of its own (at most 50,000 requests and 200 MB per input file, and a ceiling on
the tokens *enqueued* per model).

This module is the mechanics, the same against the course simulator and the live API:

- ``batch_line`` / ``input_file`` / ``split_requests``: requests as input lines, split over the
  per-file limits;
- ``submit``, ``wait_for_batches`` (polls ``request_counts`` at honest intervals: about half
  the time the batch seems to need, never a busy loop) and ``cancel_batches``;
- ``collect``: the output and error files as the course's one record, ``results.Result``, with
  ``batch_id`` set: a line that failed is a failed record with an ``errors`` category, a line
  the window cut off is a ``timeout`` record that ``--resume`` sends again;
- ``BatchState``: which batches hold which prompts, kept in a small JSON file next to the
  output, so an interrupted run (a closed notebook, Ctrl+C) is collected later by its batch ids
  instead of being paid for twice.

``course_utils.runner`` reads the prompts file, resumes the output and writes the records:
``python -m course_utils.runner prompts.txt -o results.jsonl --batch``.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import openai

from .errors import CourseError
from .pricing import DEFAULT_MODEL, estimate_cost
from .results import Result
from .spend import batch_line_cost

__all__ = [
    "COMPLETION_WINDOW",
    "ENDPOINT",
    "MAX_FILE_BYTES",
    "MAX_LINES_PER_FILE",
    "STATE_SUFFIX",
    "TERMINAL_STATUSES",
    "BatchError",
    "BatchRequest",
    "BatchState",
    "Collected",
    "SubmittedBatch",
    "batch_input_file",
    "batch_line",
    "cancel_batches",
    "collect",
    "poll_interval",
    "results_cost_usd",
    "split_requests",
    "submit",
    "wait_for_batches",
]

ENDPOINT = "/v1/responses"
COMPLETION_WINDOW = "24h"  # the only window the service accepts
MAX_LINES_PER_FILE = 50_000  # the service's limits for one batch input file
MAX_FILE_BYTES = 200 * 1024 * 1024
TERMINAL_STATUSES = frozenset({"completed", "failed", "expired", "cancelled"})
STATE_SUFFIX = ".batch.json"  # results.jsonl -> results.jsonl.batch.json
MIN_POLL_S, MAX_POLL_S = 0.5, 60.0
STATE_VERSION = 1


class BatchError(CourseError, RuntimeError):
    """A batch could not be submitted, followed or read (the message says what to do)."""


@dataclass(frozen=True)
class BatchRequest:
    """One prompt as one input line: ``custom_id`` finds its answer in the output file."""

    custom_id: str
    id: str | int  # the prompt's id in the result records
    prompt: str
    body: Mapping[str, Any]


def batch_line(custom_id: str, body: Mapping[str, Any], url: str = ENDPOINT) -> str:
    """One input line: ``{"custom_id", "method": "POST", "url", "body"}`` as compact JSON."""
    record = {"custom_id": custom_id, "method": "POST", "url": url, "body": dict(body)}
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def batch_input_file(
    prompts: Sequence[str],
    *,
    model: str = DEFAULT_MODEL,
    max_output_tokens: int | None = None,
    url: str = ENDPOINT,
) -> str:
    """A whole input file for a list of prompts: ids ``1``, ``2``, ...; one line each."""
    lines = []
    for number, prompt in enumerate(prompts, 1):
        body: dict[str, Any] = {"model": model, "input": prompt}
        if max_output_tokens is not None:
            body["max_output_tokens"] = max_output_tokens
        lines.append(batch_line(str(number), body, url) + "\n")
    return "".join(lines)


def split_requests(
    requests: Iterable[BatchRequest],
    *,
    max_lines: int = MAX_LINES_PER_FILE,
    max_bytes: int = MAX_FILE_BYTES,
    url: str = ENDPOINT,
) -> Iterator[tuple[list[BatchRequest], bytes]]:
    """Input files within the per-file limits: (the requests of one file, its bytes).

    A new file starts when the next line would pass ``max_lines`` or ``max_bytes``; one line
    larger than ``max_bytes`` on its own can never be sent and raises ``BatchError``.
    """
    chunk: list[BatchRequest] = []
    buffer = io.BytesIO()
    for request in requests:
        data = (batch_line(request.custom_id, request.body, url) + "\n").encode()
        if len(data) > max_bytes:
            raise BatchError(
                f"the request for prompt {request.id!r} alone is {len(data):,} bytes, over the "
                f"{max_bytes:,}-byte limit of a batch input file; shorten it or send it online"
            )
        if chunk and (len(chunk) >= max_lines or buffer.tell() + len(data) > max_bytes):
            yield chunk, buffer.getvalue()
            chunk, buffer = [], io.BytesIO()
        chunk.append(request)
        buffer.write(data)
    if chunk:
        yield chunk, buffer.getvalue()


# --- the state kept next to the output ----------------------------------------------------------


@dataclass
class SubmittedBatch:
    """One batch this run created: its id and which prompts (custom ids) it holds."""

    id: str
    input_file_id: str
    custom_ids: list[str]
    submitted_at: float  # time.time(): a record's latency is measured from here
    collected: bool = False
    status: str = "validating"
    reserved_usd: float = 0.0  # live: the worst case held in the spend ledger until collected


@dataclass
class BatchState:
    """The batches of one output file, saved as JSON beside it (``results.jsonl.batch.json``).

    Written (atomically) right after each batch is created and after each is collected, so a
    run interrupted at any point knows what is running on the service and what is already in
    the output.
    """

    path: Path | None
    model: str
    endpoint: str = ENDPOINT
    batches: list[SubmittedBatch] = field(default_factory=list)

    @staticmethod
    def path_for(output: str | os.PathLike[str]) -> Path:
        """Where the state of ``output`` lives."""
        output = Path(output)
        return output.with_name(output.name + STATE_SUFFIX)

    @classmethod
    def load(cls, path: Path) -> BatchState:
        """Read a state file; a damaged one raises ``BatchError`` saying what to do."""
        try:
            data = json.loads(path.read_text("utf-8"))
            if data.get("version") != STATE_VERSION:
                raise ValueError(f"version {data.get('version')!r}")
            batches = [SubmittedBatch(**b) for b in data["batches"]]
            return cls(path, data["model"], data["endpoint"], batches)
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise BatchError(
                f"{path}: the batch state file cannot be read ({err}). It lists the batches a "
                "run submitted; if you know they are finished, delete it and run with "
                "--overwrite; otherwise find their ids with client.batches.list()."
            ) from None

    def save(self) -> None:
        """Write the state (through a temporary file, so a crash never leaves half of it)."""
        if self.path is None:
            return
        data = {
            "version": STATE_VERSION,
            "model": self.model,
            "endpoint": self.endpoint,
            "batches": [asdict(b) for b in self.batches],
        }
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1) + "\n", "utf-8")
        os.replace(tmp, self.path)

    def remove(self) -> None:
        """Delete the file once every batch is collected."""
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    @property
    def pending(self) -> list[SubmittedBatch]:
        """Batches created but not yet collected into the output."""
        return [b for b in self.batches if not b.collected]

    def pending_ids(self) -> set[str]:
        """The custom ids of every prompt in a batch not yet collected."""
        return {cid for b in self.pending for cid in b.custom_ids}


# --- submitting, waiting, cancelling ------------------------------------------------------------


def submit(
    client: openai.OpenAI,
    requests: list[BatchRequest],
    data: bytes,
    *,
    endpoint: str = ENDPOINT,
    metadata: dict[str, str] | None = None,
    filename: str = "requests.jsonl",
) -> SubmittedBatch:
    """Upload one input file and create its batch (``completion_window`` 24h)."""
    uploaded = client.files.create(file=(filename, io.BytesIO(data)), purpose="batch")
    batch = client.batches.create(
        input_file_id=uploaded.id,
        endpoint=endpoint,  # type: ignore[arg-type]
        completion_window="24h",
        metadata=metadata,
    )
    return SubmittedBatch(
        batch.id, uploaded.id, [r.custom_id for r in requests], time.time(), status=batch.status
    )


def poll_interval(
    previous_s: float,
    done: int,
    total: int,
    elapsed_s: float,
    *,
    min_s: float = MIN_POLL_S,
    max_s: float = MAX_POLL_S,
) -> float:
    """Seconds until the next poll: about half the time the batches still seem to need.

    Before any line has finished there is no rate to go on, so the wait grows by half each time
    (0.5 s, 0.75 s, 1.1 s, ...). Always between ``min_s`` and ``max_s``: never a busy loop, and
    never so long that a finished batch waits long to be read.
    """
    if done > 0 and elapsed_s > 0 and total > done:
        left_s = (total - done) / (done / elapsed_s)
        wanted = left_s / 2
    else:
        wanted = previous_s * 1.5
    return min(max_s, max(min_s, wanted))


def wait_for_batches(
    client: openai.OpenAI,
    state: BatchState,
    on_finished: Callable[[Any], None],
    *,
    on_progress: Callable[[int, int, int, list[str]], None] | None = None,
    sleep: Callable[[float], Any] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    min_poll_s: float = MIN_POLL_S,
    max_poll_s: float = MAX_POLL_S,
) -> None:
    """Poll every pending batch until each ends; ``on_finished(batch)`` for each as it does.

    ``on_progress(completed, failed, total, statuses)`` gets the ``request_counts`` summed over
    the pending batches after every poll (a progress bar reads it). ``sleep`` and ``clock`` are
    injectable, so a test follows the waits without waiting.
    """
    started = clock()
    base_done = None
    interval = min_poll_s / 1.5
    while True:
        completed = failed = total = 0
        statuses: list[str] = []
        for submitted in state.pending:
            batch = client.batches.retrieve(submitted.id)
            submitted.status = batch.status
            counts = batch.request_counts
            if counts is not None:
                completed, failed = completed + counts.completed, failed + counts.failed
                total += counts.total or len(submitted.custom_ids)
            else:
                total += len(submitted.custom_ids)
            statuses.append(batch.status)
            if batch.status in TERMINAL_STATUSES:
                on_finished(batch)
        if on_progress is not None:
            on_progress(completed, failed, total, statuses)
        if not state.pending:
            return
        done = completed + failed
        base_done = done if base_done is None else base_done
        interval = poll_interval(
            interval, done - base_done, total - base_done, clock() - started,
            min_s=min_poll_s, max_s=max_poll_s,
        )  # fmt: skip
        sleep(interval)


def cancel_batches(client: openai.OpenAI, state: BatchState) -> list[str]:
    """Ask every pending batch to stop; returns the ids asked. One that already ended is left
    alone (it is collected as it is)."""
    asked = []
    for submitted in state.pending:
        try:
            batch = client.batches.cancel(submitted.id)
        except openai.ConflictError:  # it ended meanwhile: nothing to cancel
            continue
        submitted.status = batch.status
        asked.append(submitted.id)
    return asked


# --- reading the results --------------------------------------------------------------------------

_STATUS_ERRORS: dict[int, type[openai.APIStatusError]] = {
    400: openai.BadRequestError,
    401: openai.AuthenticationError,
    403: openai.PermissionDeniedError,
    404: openai.NotFoundError,
    409: openai.ConflictError,
    422: openai.UnprocessableEntityError,
    429: openai.RateLimitError,
}


def _status_error(status: int, body: Any, request_id: str | None, url: str) -> openai.APIError:
    """The SDK's own exception for a line that failed with ``status``: classified like online."""
    inner = body.get("error", body) if isinstance(body, dict) else body
    message = inner.get("message") if isinstance(inner, dict) else None
    response = httpx2.Response(
        status,
        request=httpx2.Request("POST", f"https://batch.invalid{url}"),
        headers={"x-request-id": request_id} if request_id else {},
    )
    cls = _STATUS_ERRORS.get(status)
    if cls is None:
        cls = openai.InternalServerError if status >= 500 else openai.APIStatusError
    return cls(
        f"Error code: {status} - {message or body}",
        response=response,
        body=inner,
    )


def _answer(body: Any, endpoint: str) -> Any:
    if endpoint.endswith("/chat/completions"):
        from openai.types.chat import ChatCompletion

        return ChatCompletion.model_validate(body)
    from openai.types.responses import Response

    return Response.model_validate(body)


@dataclass
class Collected:
    """What one finished batch gave: a record per prompt it answered, and what it left."""

    batch_id: str
    status: str
    results: list[Result] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)  # custom ids a cancel stopped: no record
    incomplete: int = 0  # answers cut at max_output_tokens (ok, with a note)
    cost_usd: float = 0.0  # at batch prices, for what was answered


def _lines(client: openai.OpenAI, file_id: str | None) -> Iterator[dict]:
    if not file_id:
        return
    text = client.files.content(file_id).text
    for raw in text.splitlines():
        if raw.strip():
            yield json.loads(raw)


def _failed_batch(batch: Any) -> tuple[str, str]:
    problems = list(batch.errors.data) if batch.errors and batch.errors.data else []
    codes = {p.code for p in problems}
    category = "rate_limit" if "token_limit_exceeded" in codes else "bad_request"
    shown = "; ".join(
        f"{p.code}" + (f" on line {p.line}" if p.line else "") + f": {p.message}"
        for p in problems[:3]
    )
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    if category == "rate_limit":
        advice = (
            "Nothing ran. Wait until your other batches finish, or submit fewer prompts at a "
            "time, then run again with --resume."
        )
    else:
        advice = "Nothing ran. Fix the input the message names, then run again with --resume."
    return category, f"The batch {batch.id} failed before running: {shown}{more}. {advice}"


def collect(
    client: openai.OpenAI,
    batch: Any,
    requests: Mapping[str, BatchRequest],
    submitted: SubmittedBatch,
    *,
    model: str = DEFAULT_MODEL,
    now: Callable[[], float] = time.time,
) -> Collected:
    """Turn a finished batch into one ``Result`` per prompt it answered (``batch_id`` set).

    ``requests`` maps each custom id to its request (the prompt and its id). A prompt the
    window cut off becomes a failed ``timeout`` record (``--resume`` sends it again); one a
    cancel stopped gets no record and is listed in ``not_run``.
    """
    out = Collected(batch.id, batch.status)
    latency = max(0.0, now() - submitted.submitted_at)
    endpoint = getattr(batch, "endpoint", ENDPOINT) or ENDPOINT
    ids = [cid for cid in submitted.custom_ids if cid in requests]
    if batch.status == "failed":
        category, message = _failed_batch(batch)
        for cid in ids:
            r = requests[cid]
            out.results.append(
                Result(
                    id=r.id,
                    prompt=r.prompt,
                    ok=False,
                    output=None,
                    error_type=category,
                    message=message,
                    attempts=0,
                    usage=None,
                    latency_s=latency,
                    batch_id=batch.id,
                )
            )
        return out
    seen: set[str] = set()
    billed: set[str] = set()
    for record in [*_lines(client, batch.output_file_id), *_lines(client, batch.error_file_id)]:
        found = record.get("custom_id")
        if found in submitted.custom_ids and found not in billed:  # written or not (a resume)
            billed.add(found)
            out.cost_usd += batch_line_cost(record)
        if not isinstance(found, str) or found not in requests or found in seen:
            continue
        seen.add(found)
        result = _line_result(record, requests[found], batch.id, latency, endpoint, out)
        if result is None:
            out.not_run.append(found)
            continue
        out.results.append(result)
    for cid in ids:
        if cid in seen:
            continue
        r = requests[cid]
        if batch.status == "cancelled":
            out.not_run.append(cid)
            continue
        out.results.append(
            Result(
                id=r.id,
                prompt=r.prompt,
                ok=False,
                output=None,
                error_type="server_error",
                message=(
                    f"The batch {batch.id} ended {batch.status} without a line for this prompt "
                    "(neither in its output nor its error file). Run again with --resume to "
                    "send it in a new batch."
                ),
                attempts=0,
                usage=None,
                latency_s=latency,
                batch_id=batch.id,
            )
        )
    return out


def _line_result(
    record: dict,
    request: BatchRequest,
    batch_id: str,
    latency: float,
    endpoint: str,
    out: Collected,
) -> Result | None:
    response = record.get("response")
    error = record.get("error")
    if isinstance(response, dict) and response.get("status_code") == 200:
        request_id = response.get("request_id")
        try:
            answer = _answer(response.get("body"), endpoint)
        except ValueError as err:
            invalid = openai.APIResponseValidationError(
                httpx2.Response(200, request=httpx2.Request("POST", "https://batch.invalid")),
                response.get("body"),
                message=f"The batch line's body is not a {endpoint} answer: {err}",
            )
            return Result.from_error(
                request.id, request.prompt, invalid, attempts=1, latency_s=latency,
                batch_id=batch_id,
            )  # fmt: skip
        result = Result.from_response(
            request.id, request.prompt, answer, attempts=1, latency_s=latency, batch_id=batch_id
        ).with_(request_id=request_id if isinstance(request_id, str) else None)
        if getattr(answer, "status", None) == "incomplete" or _chat_cut(answer):
            out.incomplete += 1
            result = result.with_(
                message="The answer was cut at max_output_tokens (status incomplete): raise the "
                "cap or ask for a shorter answer."
            )
        return result
    if isinstance(response, dict) and isinstance(response.get("status_code"), int):
        exc = _status_error(
            response["status_code"], response.get("body"), response.get("request_id"), endpoint
        )
        return Result.from_error(
            request.id, request.prompt, exc, attempts=1, latency_s=latency, batch_id=batch_id
        )
    code = error.get("code") if isinstance(error, dict) else None
    text = error.get("message") if isinstance(error, dict) else None
    if code == "batch_cancelled":
        return None
    if code == "batch_expired":
        category = "timeout"
        message = (
            f"Not run: the batch {batch_id} reached the end of its {COMPLETION_WINDOW} completion "
            "window before this request's turn (batch_expired); nothing was billed for it. Run "
            "again with --resume to send it in a new batch."
        )
    else:
        category = "server_error"
        message = (
            f"The batch {batch_id} could not run this request ({code or 'no code'}: "
            f"{text or 'no message'}). Run again with --resume to send it in a new batch."
        )
    return Result(
        id=request.id, prompt=request.prompt, ok=False, output=None, error_type=category,
        message=message, attempts=0, usage=None, latency_s=latency, batch_id=batch_id,
    )  # fmt: skip


def _chat_cut(answer: Any) -> bool:
    choices = getattr(answer, "choices", None) or []
    return bool(choices) and getattr(choices[0], "finish_reason", None) == "length"


def results_cost_usd(
    results: Iterable[Result], model: str = DEFAULT_MODEL, *, batch: bool = False
) -> float:
    """What the answered records cost at the catalogue's online (or ``batch=True``) prices."""
    total = 0.0
    for r in results:
        if r.usage:
            total += estimate_cost(
                model,
                r.usage["input_tokens"],
                r.usage["output_tokens"],
                min(r.usage.get("cached_tokens", 0), r.usage["input_tokens"]),
                batch=batch,
            )
    return total if math.isfinite(total) else 0.0
