"""The Batch API path (``runner --batch``, ``run_batch``): files in, a job on the provider's
fleet, the same records out.

When per-minute limits are the bottleneck and nobody waits for the answers, the provider's own
batch engine beats any home-made runner: upload a JSONL file with one request a line, create a
batch with a completion window (``24h``), poll it, download the output. Half the price, no
429s, limits of its own (at most 50,000 requests and 200 MB per input file, and a ceiling on
the tokens *enqueued* per model).

What stays as online: the input (``runner.inputs``), the settings (``RunSettings``), the output
(one ``results.Result`` per prompt, with ``batch_id``), ``--resume``, the output's lock, the
summary line and the exit codes (0 all ok, 1 some failed or not run, 2 bad input, 130
interrupted). What is new: the batches in flight are listed in ``<output>.batch.json``; Ctrl+C
leaves them running on the service and ``--resume`` collects them by id instead of paying for
them twice; ``--cancel`` stops them and keeps what they finished. A prompt goes as one request
(no chunking): one over its budget is truncated (``--on-long truncate``) or recorded unsent.

Live, the spend cap covers batches too: a line the spend guard would refuse online is refused
the same way; each batch's worst case (every line's input plus its output cap, at its own
model's batch prices) is reserved in the spend ledger before it is uploaded and settled at what
its answers cost, every answer priced at its own model, when the batch is collected.
"""

from __future__ import annotations

import io
import json
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import openai

from .. import config
from ..errors import CourseError
from ..fitting import fit_request, input_budget
from ..pricing import DEFAULT_MODEL, estimate_cost, model_or_default
from ..results import Result
from ..spend import BudgetExceeded, LiveRequestRefused, spend_guard
from ..tokens import count_request_input
from .core import INCOMPLETE_NOTE
from .engine import Progress, refused_result
from .inputs import PromptItem
from .jobs import open_client, prepare
from .outputs import BATCH_ENDPOINT, STATE_SUFFIX, BatchState, Sink, SubmittedBatch, apply_resume
from .settings import RunSettings
from .summary import RunSummary

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
    "batch_exit_code",
    "batch_input_file",
    "batch_line",
    "cancel_batches",
    "collect",
    "poll_interval",
    "results_cost_usd",
    "run_batch",
    "split_requests",
    "submit",
    "wait_for_batches",
]

ENDPOINT = BATCH_ENDPOINT  # what every input line asks for
COMPLETION_WINDOW = "24h"  # the only window the service accepts
MAX_LINES_PER_FILE = 50_000  # the service's limits for one batch input file
MAX_FILE_BYTES = 200 * 1024 * 1024
TERMINAL_STATUSES = frozenset({"completed", "failed", "expired", "cancelled"})
MIN_POLL_S, MAX_POLL_S = 0.5, 60.0


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
            try:
                batch = client.batches.retrieve(submitted.id)
            except openai.NotFoundError:
                raise BatchError(
                    f"the service does not know the batch {submitted.id} (restarted, or the "
                    f"batch was deleted), so its answers cannot be collected. Run again with "
                    "--overwrite to forget it and send the prompts afresh (answers it did "
                    "finish, if any, are paid for but lost)"
                ) from None
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


def _unanswered(
    r: BatchRequest, batch_id: str, category: str, message: str, latency: float
) -> Result:
    return Result(
        id=r.id, prompt=r.prompt, ok=False, output=None, error_type=category, message=message,
        attempts=0, usage=None, latency_s=latency, batch_id=batch_id,
    )  # fmt: skip


def _line_cost(model: str, usage: Mapping[str, int]) -> float:
    """What one answered line cost, at its own model's batch prices."""
    priced = model_or_default(model).id
    cached = min(usage.get("cached_tokens", 0), usage["input_tokens"])
    return estimate_cost(priced, usage["input_tokens"], usage["output_tokens"], cached, batch=True)


def collect(
    client: openai.OpenAI,
    batch: Any,
    requests: Mapping[str, BatchRequest],
    submitted: SubmittedBatch,
    *,
    now: Callable[[], float] = time.time,
) -> Collected:
    """Turn a finished batch into one ``Result`` per prompt it answered (``batch_id`` set).

    ``requests`` maps each custom id to its request (the prompt, its id, its body: each answer
    is priced at its own body's model). A prompt the window cut off becomes a failed
    ``timeout`` record (``--resume`` sends it again); one a cancel stopped gets no record and
    is listed in ``not_run``.
    """
    out = Collected(batch.id, batch.status)
    latency = max(0.0, now() - submitted.submitted_at)
    endpoint = getattr(batch, "endpoint", ENDPOINT) or ENDPOINT
    ids = [cid for cid in submitted.custom_ids if cid in requests]
    if batch.status == "failed":
        category, message = _failed_batch(batch)
        out.results = [_unanswered(requests[c], batch.id, category, message, latency) for c in ids]
        return out
    seen: set[str] = set()
    for record in [*_lines(client, batch.output_file_id), *_lines(client, batch.error_file_id)]:
        found = record.get("custom_id")
        if not isinstance(found, str) or found not in requests or found in seen:
            continue
        seen.add(found)
        result = _line_result(record, requests[found], batch.id, latency, endpoint, out)
        if result is None:
            out.not_run.append(found)
            continue
        out.results.append(result)
        if result.ok and result.usage:
            model = str(requests[found].body.get("model") or DEFAULT_MODEL)
            out.cost_usd += _line_cost(model, result.usage)
    for cid in ids:
        if cid in seen:
            continue
        if batch.status == "cancelled":
            out.not_run.append(cid)
            continue
        message = (
            f"The batch {batch.id} ended {batch.status} without a line for this prompt (neither "
            "in its output nor its error file). Run again with --resume to send it in a new batch."
        )
        out.results.append(_unanswered(requests[cid], batch.id, "server_error", message, latency))
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
            result = result.with_(message=INCOMPLETE_NOTE)
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
    return _unanswered(request, batch_id, category, message, latency)


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


# --- runner --batch: prompts in, records out -----------------------------------------------------

LIMITS_NOTE = "batch: the per-minute limits do not apply"


def _is_live(client: openai.OpenAI) -> bool:
    return str(client.base_url).rstrip("/") == config.live_base_url().rstrip("/")


def _request(item: PromptItem, s: RunSettings, live: bool) -> BatchRequest | Result:
    """The batch line for one prompt, or the record of a prompt that cannot be sent: over its
    budget (a batch line is one request: truncated or refused, never chunked), or refused by
    the live spend guard exactly as the online runner's request would be."""
    options = {k: v for k, v in item.options.items() if k != "extra_headers"}
    body: dict[str, Any] = {"model": s.model, "input": item.prompt}
    body.update({"max_output_tokens": s.max_output_tokens, **options})
    model, cap = str(body["model"]), int(body["max_output_tokens"])
    budget, why = input_budget(model, cap, max_input_tokens=s.max_input_tokens)
    fit = fit_request(body, budget, "truncate" if s.on_long == "truncate" else "fail", why)
    if fit.refused:
        how = " Shorten the prompt, or pass --on-long truncate."
        if s.on_long == "chunk":
            how = (
                " Batch mode sends each prompt as one request and does not chunk: run this "
                "prompt online (the runner chunks it there), or pass --on-long truncate."
            )
        message = (fit.refusal or "").split(". Shorten")[0] + "." + how
        return Result(
            id=item.id, prompt=item.prompt, ok=False, output=None, error_type="context_length",
            message=message, attempts=0, usage=None, latency_s=0.0,
        )  # fmt: skip
    if live:
        try:
            spend_guard().estimate(fit.bodies[0], ENDPOINT)
        except BudgetExceeded:
            pass  # the whole batch is reserved against the cap before it is uploaded
        except LiveRequestRefused as exc:
            return refused_result(item, exc)
    return BatchRequest(item.key, item.id, item.prompt, fit.bodies[0])


def _reserve(client: openai.OpenAI, requests: list[BatchRequest]) -> float:
    """Live only: reserve a batch's worst case (every line's input plus output cap, at its own
    model's batch prices) in the spend ledger before it is uploaded, or ``BudgetExceeded``."""
    if not requests or not _is_live(client):
        return 0.0
    worst = 0.0
    for r in requests:
        info = model_or_default(str(r.body["model"]))
        tokens = count_request_input(r.body, info.id)
        cap = int(r.body.get("max_output_tokens") or info.max_output)
        worst += estimate_cost(info.id, tokens, cap, batch=True)
    guard = spend_guard()
    what = f"a batch of {len(requests):,} requests at batch prices, input + output cap"
    guard.ledger.reserve(worst, guard.budget_usd, what)
    return worst


def batch_exit_code(summary: RunSummary) -> int:
    """0 when every prompt succeeded; 1 when any failed or was not run (a cancel)."""
    return 1 if summary.failed or summary.stopped else 0


def run_batch(
    prompts: Any,
    output: str | Path | None = None,
    *,
    client: openai.OpenAI | None = None,
    resume: bool = False,
    overwrite: bool = False,
    cancel: bool = False,
    progress: bool = True,
    metadata: dict[str, str] | None = None,
    max_lines: int = MAX_LINES_PER_FILE,
    max_bytes: int = MAX_FILE_BYTES,
    min_poll_s: float = 0.5,
    max_poll_s: float = 60.0,
    sleep: Callable[[float], Any] = time.sleep,
    log: Callable[[str], None] | None = print,
    settings: RunSettings | None = None,
    **options: Any,
) -> RunSummary:
    """Run every prompt through the Batch API; one ``Result`` per prompt, as ``run_prompts``.

    ``prompts`` and ``output`` are ``run_prompts``'s; ``settings`` (a ``RunSettings``) or the
    same keyword options as ``run_prompts`` (``model``, ``max_output_tokens``, ``on_long`` -
    ``"fail"`` unless given - and ``max_input_tokens`` matter here). The batches in flight are
    kept in ``<output>.batch.json``: after an interruption, ``resume=True`` collects them
    instead of submitting again, and ``cancel=True`` cancels them and writes what they
    finished. Inputs over ``max_lines`` requests or ``max_bytes`` bytes (the service's 50,000
    and 200 MB) go as several batches. ``sleep`` waits between polls (injectable for tests).
    """
    run_settings = settings or RunSettings.known(**{"on_long": "fail", **options})
    say = log or (lambda text: None)
    job = prepare(prompts, output, run_settings, resume=resume or cancel, overwrite=overwrite)
    summary, sink, own_client = job.summary, None, False
    bar = Progress(job.total - len(job.skip), progress, "batch")
    summary.limits_source = LIMITS_NOTE
    started = time.monotonic()
    try:
        state = BatchState.for_run(job.output, run_settings.model, resume=resume,
                                   overwrite=overwrite, cancel=cancel, say=say)  # fmt: skip
        client, own_client = open_client(client, run_settings, sync=True)
        live = _is_live(client)
        everything = {item.key: item for item in job.items()}
        pending = state.pending_ids()
        made = [  # a prompt of a batch in flight too: its answer is priced at its body's model
            _request(item, run_settings, live)
            for key, item in everything.items()
            if key in pending or key not in job.skip
        ]
        by_id = {r.custom_id: r for r in made if isinstance(r, BatchRequest)}
        fresh = [r for r in by_id.values() if r.custom_id not in pending]
        for r in fresh:  # an over-size line is refused before any batch is submitted
            next(split_requests([r], max_bytes=max_bytes))
        if job.plan is not None:
            apply_resume(job.plan)
        sink = Sink(job.output, truncate=job.truncate)
        for result in made:
            if isinstance(result, Result) and str(result.id) not in job.skip:
                sink.write(result)
                summary.count(result)
        if cancel:
            if fresh:
                say(f"--cancel: {len(fresh):,} prompt(s) not in any batch are left for --resume")
            asked = cancel_batches(client, state)
            say(f"asked {len(asked)} batch(es) to cancel: {', '.join(asked) or 'none running'}")
            fresh = []
        groups: dict[str, list[BatchRequest]] = {}
        for r in fresh:  # one model per batch input file
            groups.setdefault(str(r.body["model"]), []).append(r)
        for group in groups.values():
            for chunk, data in split_requests(group, max_lines=max_lines, max_bytes=max_bytes):
                reserved = _reserve(client, chunk)
                try:
                    submitted = submit(client, chunk, data, endpoint=ENDPOINT, metadata=metadata)
                except BaseException:
                    if reserved:
                        spend_guard().ledger.release(reserved)
                    raise
                submitted.reserved_usd = reserved
                state.batches.append(submitted)
                state.save()
                summary.requests += len(chunk)
                say(f"submitted {submitted.id}: {len(chunk):,} prompt(s)")
        not_run: list[str] = []

        def finished(batch: Any) -> None:
            submitted = next(b for b in state.pending if b.id == batch.id)
            got = collect(client, batch, by_id, submitted)
            for result in got.results:  # a crash mid-collection left some already written
                if str(result.id) not in job.skip:
                    sink.write(result)
                summary.count(result)
            summary.incomplete += got.incomplete
            not_run.extend(got.not_run)
            if submitted.reserved_usd or (got.cost_usd and live):
                spend_guard().ledger.settle(submitted.reserved_usd, got.cost_usd)
            submitted.collected, submitted.status = True, batch.status
            state.save()
            say(f"{batch.id} {batch.status}: {len(got.results):,} record(s) written")

        if state.pending:
            wait_for_batches(
                client, state, finished, on_progress=bar.polled, sleep=sleep,
                min_poll_s=min_poll_s, max_poll_s=max_poll_s,
            )  # fmt: skip
        if not_run:
            summary.stopped = (
                f"by a cancel: {len(not_run):,} prompt(s) were not run and have no record; run "
                "again with --resume to send them"
            )
        if not state.pending:
            state.remove()
    finally:
        summary.elapsed_s = time.monotonic() - started
        bar.close()
        try:
            if sink is not None:
                sink.close()
        finally:
            if own_client and client is not None:
                client.close()
            job.release()
    if sink is not None and sink.memory is not None:
        summary.results = sink.memory
    return summary
