"""The asyncio core: a pool of workers pulling prompts, one limiter pacing them all.

``prepare`` checks everything before a request is sent (settings, input, output, resume state);
``run_prompts`` / ``run_prompts_async`` run a prepared job. Why asyncio: see the package
docstring.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import math
import os
import random
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai

from .. import config
from ..backoff import RetryPolicy, exponential, full_jitter, parse_retry_after
from ..client import get_simulator
from ..errors import CourseError, classify
from ..logs import get_logger
from ..pricing import DEFAULT_MODEL, model_or_default
from ..ratelimit_extras import AdaptiveRateLimiter, ScaledClock
from ..results import Result, usage_dict
from ..spend import BudgetExceeded, spend_guard
from ..tokens import (
    chunk_text,
    count_request_input,
    count_tokens,
    estimate_request_tokens,
    truncate_to_tokens,
)
from .inputs import (
    MIN_OUTPUT_TOKENS,
    InputError,
    PromptItem,
    items_from_memory,
    iter_prompts,
    prompt_digest,
    scan_prompts,
)
from .outputs import (
    STOP_CATEGORIES,
    ResumePlan,
    Sink,
    apply_resume,
    check_output_path,
    plan_resume,
)
from .summary import Attempt, RunSummary

__all__ = [
    "CHUNK_JOINER",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MAX_OUTPUT_TOKENS",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT_S",
    "ON_LONG",
    "prepare",
    "run_prompts",
    "run_prompts_async",
]

DEFAULT_CONCURRENCY = 32  # requests in flight at most; the limiter, not this, sets the rate
DEFAULT_MAX_RETRIES = 5
DEFAULT_MAX_OUTPUT_TOKENS = 150  # short, predictable answers (and a small TPM reservation)
DEFAULT_TIMEOUT_S = 60.0
ON_LONG = ("chunk", "truncate", "fail")
CHUNK_JOINER = "\n\n"
# Prompts being worked on per in-flight slot: the others wait out backoffs or the limiter as
# small tasks, so a slot is never idle while a retry sleeps (and memory stays bounded).
TASKS_PER_SLOT = 4
# Prompts sent one at a time at the start, until an answer brings x-ratelimit-* headers (a
# server that never sends them gets the pool after this many).
PROBES_AT_MOST = 5


@dataclass
class _Settings:
    model: str = DEFAULT_MODEL
    concurrency: int = DEFAULT_CONCURRENCY
    rpm: int | None = None
    tpm: int | None = None
    max_retries: int = DEFAULT_MAX_RETRIES
    max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS
    on_long: str = "chunk"
    max_input_tokens: int | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    seed: int | None = None
    timeline: bool = False
    clock: ScaledClock | None = None  # a simulated clock shared with an in-process Simulator


@dataclass
class _Job:
    """A validated run: where the prompts come from, where results go, what to skip."""

    settings: _Settings
    items: Callable[[], Iterator[PromptItem]]
    total: int
    skip: set[str]
    output: Path | None
    truncate: bool
    plan: ResumePlan | None
    summary: RunSummary


@dataclass
class _Outcome:
    ok: bool
    attempts: int
    text: str = ""
    usage: dict[str, int] | None = None
    request_id: str | None = None
    incomplete: bool = False
    error: BaseException | None = None


class Progress:
    """tqdm (``tqdm.auto``: a widget in Jupyter, text in a terminal) with ok/failed/retrying."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.ok = self.failed = self.retrying = 0
        self.bar: Any = None
        if enabled:
            from tqdm.auto import tqdm  # type: ignore[import-untyped]

            self.bar = tqdm(total=total, unit="prompt", desc="prompts", dynamic_ncols=True)
            self._show()

    def _show(self) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(
                f"ok={self.ok}, failed={self.failed}, retrying={self.retrying}", refresh=False
            )

    def done(self, ok: bool) -> None:
        if ok:
            self.ok += 1
        else:
            self.failed += 1
        self._show()
        if self.bar is not None:
            self.bar.update(1)

    def retry(self, delta: int) -> None:
        self.retrying += delta
        self._show()

    def close(self) -> None:
        if self.bar is not None:
            self._show()
            self.bar.refresh()
            self.bar.close()


def _headroom_s(clock: ScaledClock | None) -> float:
    """The limiter's headroom: how much later than the limiter let it go a request may reach
    the server (a new connection, a busy machine), so the burst holds back that much refill.

    Real time: ratelimit's default of 1 s. On a ``ScaledClock`` the same real delay lasts
    ``speed`` times more simulated seconds; half a real second is enough on loopback (lesson 03
    uses the same).
    """
    if clock is None:
        return 1.0
    return min(0.5 * clock.speed, 30.0)


class _TooLarge(CourseError, ValueError):
    """A request larger than the TPM limit: the limiter can never let it go."""


class _Engine:
    """The asyncio core: a pool of workers pulling prompts, one limiter pacing them all."""

    def __init__(self, job: _Job, client: openai.AsyncOpenAI, progress: Progress, sink: Sink):
        s = job.settings
        self.job, self.s, self.client, self.progress, self.sink = job, s, client, progress, sink
        self.summary = job.summary
        clock = s.clock
        self.now: Callable[[], float] = clock if clock is not None else time.monotonic
        self.sleep_async: Callable[[float], Awaitable[Any]] = (
            clock.sleep_async if clock is not None else asyncio.sleep
        )
        self.limiter = AdaptiveRateLimiter(
            rpm=s.rpm, tpm=s.tpm, clock=self.now, headroom_s=_headroom_s(clock),
            sleep=clock.sleep if clock is not None else time.sleep,
            async_sleep=self.sleep_async,
        )  # fmt: skip
        self.policy = RetryPolicy(
            max_retries=s.max_retries,
            schedule=full_jitter(exponential(base_s=0.5, factor=2.0, cap_s=8.0)),
            honour_retry_after=True,
        )
        self.rng = random.Random(s.seed)
        self.stop_event = asyncio.Event()
        self.in_flight = asyncio.Semaphore(s.concurrency)
        self.stop_category: str | None = None
        self.pause_epoch = 0
        self.heard = False  # an answer's x-ratelimit-* headers have been read
        self.started = self.now()
        self.timeline = job.summary.timeline
        self.log = get_logger("runner")

    # -- limits ----------------------------------------------------------------------------

    def _learn(self, headers: Any) -> None:
        """Feed an answer's ``x-ratelimit-*`` headers to the limiter.

        A limit not given is learned from the first answer, together with the allowance the
        server says is left (so the pool starts from the server's bucket, burst included); after
        that the limiter only ever lowers what it thinks is left, which keeps it honest when
        other clients share the key.
        """
        if headers is None:
            return
        if not self.limiter.update_from_headers(headers).empty:
            self.heard = True
        self.summary.rpm = float(self.limiter.rpm) if self.limiter.rpm else None
        self.summary.tpm = float(self.limiter.tpm) if self.limiter.tpm else None
        given = [x for x in (self.s.rpm, self.s.tpm) if x is not None]
        lowered = (self.s.rpm is not None and self.limiter.rpm != self.s.rpm) or (
            self.s.tpm is not None and self.limiter.tpm != self.s.tpm
        )
        if len(given) == 2:
            source = "given"
        elif given:
            source = "given in part, the rest learned from x-ratelimit-* headers"
        elif self.summary.rpm or self.summary.tpm:
            source = "learned from x-ratelimit-* headers"
        else:
            source = "none"
        if lowered:
            source += ", lowered to what the server reports"
        self.summary.limits_source = source

    # -- stopping --------------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self.stop_event.is_set()

    def _stop(self, category: str, advice: str, item: PromptItem) -> None:
        if self.stopping:
            return
        self.stop_category = category
        self.summary.stopped = (
            f"after a {category} error on prompt {item.id!r}, which no retry fixes. {advice} "
            "Every prompt not yet sent is recorded as not attempted: fix the cause, then run "
            "again with --resume to send them."
        )
        self.stop_event.set()

    async def _until_stopped(self, awaitable: Awaitable[Any]) -> bool:
        """Await ``awaitable`` unless the run stops first (then cancel it); True if it finished."""
        if self.stopping:
            if asyncio.iscoroutine(awaitable):
                awaitable.close()
            return False
        task = asyncio.ensure_future(awaitable)
        stopper = asyncio.ensure_future(self.stop_event.wait())
        done, _ = await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            stopper.cancel()
            task.result()
            return True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return False

    # -- one prompt --------------------------------------------------------------------------

    def _body(self, item: PromptItem, text: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.s.model,
            "input": text,
            "max_output_tokens": self.s.max_output_tokens,
        }
        body.update(item.options)
        return body

    def _budget(self, body: Mapping[str, Any]) -> tuple[int, str]:
        """Input tokens one request may hold, and what set that budget."""
        model = str(body.get("model"))
        info = model_or_default(model)
        cap = int(body.get("max_output_tokens") or self.s.max_output_tokens)
        limits = [
            (info.context_window - cap, f"{model}'s {info.context_window:,}-token context window")
        ]
        tpm = self.summary.tpm
        if tpm:
            limits.append((int(tpm) - cap, f"the {tpm:,.0f} TPM limit"))
        if self.s.max_input_tokens:
            limits.append((self.s.max_input_tokens, "the max_input_tokens setting"))
        budget, why = min(limits)
        setting = why.endswith("setting")
        return budget, why if setting else f"{why} less the {cap}-token output cap"

    def _plan(self, item: PromptItem) -> tuple[list[dict[str, Any]], str | None] | Result:
        """The request bodies for one prompt (several when chunked) and a note, or a refusal."""
        body = self._body(item, item.prompt)
        used = count_request_input(body)
        budget, why = self._budget(body)
        if used <= budget:
            return [body], None
        overhead = count_request_input(self._body(item, ""))
        room = budget - overhead
        model = str(body["model"])
        mode = self.s.on_long
        if mode == "fail" or room < 1:
            self.summary.preflight["refused"] += 1
            return Result(
                id=item.id, prompt=item.prompt, ok=False, output=None,
                error_type="context_length",
                message=(
                    f"Not sent: the request is {used:,} input tokens, over the budget of "
                    f"{budget:,} ({why}). Shorten the prompt, or run with --on-long chunk or "
                    "--on-long truncate."
                ),
                attempts=0, usage=None, latency_s=0.0,
            )  # fmt: skip
        if mode == "truncate":
            text = truncate_to_tokens(item.prompt, room, model)
            self.summary.preflight["truncated"] += 1
            kept = count_tokens(text, model)
            note = (
                f"Truncated before sending: the prompt's first {kept:,} of "
                f"{count_tokens(item.prompt, model):,} tokens were sent (budget {budget:,}: {why})."
            )
            return [self._body(item, text)], note
        parts = chunk_text(item.prompt, room, model)
        self.summary.preflight["chunked"] += 1
        note = (
            f"Chunked before sending: {used:,} input tokens is over the budget of {budget:,} "
            f"({why}), so the prompt went as {len(parts)} parts cut at sentence ends; the "
            "answers are joined in order, separated by a blank line."
        )
        return [self._body(item, part) for part in parts], note

    async def _send(self, item: PromptItem, body: dict[str, Any]) -> _Outcome:
        """One request with retries, paced by the limiter; gives up early if the run stops."""
        tokens = estimate_request_tokens(body)
        attempts = 0
        error: BaseException | None = None
        retrying = False
        try:
            while True:
                # Only a request on the wire holds one of the `concurrency` slots: a prompt
                # sleeping out a backoff holds a small task, never a slot (the reason for asyncio).
                async with self.in_flight:
                    if self.stopping:
                        return _Outcome(False, attempts, error=error)
                    try:
                        if not await self._until_stopped(self.limiter.acquire_async(tokens)):
                            return _Outcome(False, attempts, error=error)
                    except ValueError as exc:  # larger than the TPM limit: can never be sent
                        return _Outcome(False, attempts, error=_TooLarge(str(exc)))
                    if retrying:
                        self.progress.retry(-1)
                        retrying = False
                    attempts += 1
                    self.summary.requests += 1
                    self.summary.reserved_tokens += tokens
                    epoch = self.pause_epoch
                    sent = self.now()
                    status: int | None = None
                    try:
                        raw = await self.client.responses.with_raw_response.create(**body)
                    except openai.APIStatusError as exc:
                        error, status = exc, exc.status_code
                        self._learn(exc.response.headers)
                    except openai.APIConnectionError as exc:  # APITimeoutError included
                        error = exc
                    except BudgetExceeded as exc:  # live only: the course's spend cap, not sent
                        attempts -= 1
                        self.summary.requests -= 1
                        self.summary.reserved_tokens -= tokens
                        self._stop("quota", str(exc), item)
                        return _Outcome(False, attempts)  # recorded as stopped, not an error
                    except openai.APIError as exc:  # e.g. an answer the SDK could not parse
                        error = exc
                    else:
                        self._learn(raw.headers)
                        response = raw.parse()
                        self._record_attempt(sent, raw.http_response.status_code, None)
                        return _Outcome(
                            True, attempts, response.output_text or "",
                            usage_dict(response.usage), raw.headers.get("x-request-id"),
                            response.status == "incomplete",
                        )  # fmt: skip
                info = classify(error)
                self._record_attempt(sent, status, info.category)
                if info.category in STOP_CATEGORIES:
                    self._stop(info.category, info.advice, item)
                    return _Outcome(False, attempts, error=error)
                if info.category == "rate_limit":
                    self.summary.rate_limited += 1
                delay = self.policy.delay_for(error, attempts, self.rng)
                if delay is None or self.stopping:
                    return _Outcome(False, attempts, error=error)
                if info.category == "rate_limit":
                    # The pool waits what the server asked (retry-after); the limiter, not
                    # random jitter, then spreads the retries: they leave one by one, paced.
                    response = getattr(error, "response", None)
                    hint = parse_retry_after(response.headers) if response is not None else None
                    delay = hint if hint is not None else delay
                self.summary.retries += 1
                self.progress.retry(+1)
                retrying = True
                self.log.info(
                    "retrying",
                    extra={
                        "operation": "responses.create", "model": body.get("model"),
                        "attempt": attempts, "error_type": info.category,
                        "request_id": info.request_id, "wait_s": round(delay, 3),
                        "prompt_id": item.id,
                    },
                )  # fmt: skip
                if info.category == "rate_limit":
                    # The server says the key is over its limit: hold the whole pool once. A 429
                    # for a request sent before the last pause began is already covered by it.
                    if epoch == self.pause_epoch:
                        self.pause_epoch += 1
                        self.limiter.pause(delay)
                elif not await self._until_stopped(self.sleep_async(delay)):
                    return _Outcome(False, attempts, error=error)
        finally:
            if retrying:
                self.progress.retry(-1)

    def _record_attempt(self, sent: float, status: int | None, category: str | None) -> None:
        if self.timeline is not None:
            now = self.now()
            self.timeline.append(Attempt(sent - self.started, now - self.started, status, category))

    def _not_attempted(self, item: PromptItem) -> Result:
        return Result(
            id=item.id, prompt=item.prompt, ok=False, output=None,
            error_type=self.stop_category or "unexpected",
            message=f"Not attempted: the run stopped {self.summary.stopped}",
            attempts=0, usage=None, latency_s=0.0,
        )  # fmt: skip

    async def _process(self, item: PromptItem) -> Result:
        started = self.now()
        plan = self._plan(item)
        if isinstance(plan, Result):
            return plan
        bodies, note = plan
        outputs: list[str] = []
        usage: dict[str, int] | None = None
        attempts = 0
        request_id = None
        incomplete = False
        for index, body in enumerate(bodies, 1):
            outcome = await self._send(item, body)
            attempts += outcome.attempts
            if not outcome.ok:
                if outcome.error is None:  # the run stopped before this request was sent
                    if attempts == 0:
                        return self._not_attempted(item)
                    return self._stopped_midway(item, attempts, started, index, len(bodies))
                return self._failure(item, outcome, attempts, started, index, len(bodies))
            outputs.append(outcome.text)
            request_id = outcome.request_id or request_id
            incomplete = incomplete or outcome.incomplete
            if outcome.usage is not None:
                usage = (
                    dict(outcome.usage)
                    if usage is None
                    else {k: usage[k] + outcome.usage[k] for k in usage}
                )
        notes = [note] if note else []
        if incomplete:
            self.summary.incomplete += 1
            notes.append(
                "The answer was cut at max_output_tokens (status incomplete): raise the cap or "
                "ask for a shorter answer."
            )
        return Result(
            id=item.id, prompt=item.prompt, ok=True, output=CHUNK_JOINER.join(outputs),
            error_type=None, message=" ".join(notes) or None, attempts=attempts, usage=usage,
            latency_s=self.now() - started, request_id=request_id,
        )  # fmt: skip

    def _stopped_midway(
        self, item: PromptItem, attempts: int, started: float, part: int, parts: int
    ) -> Result:
        return Result(
            id=item.id, prompt=item.prompt, ok=False, output=None,
            error_type=self.stop_category or "unexpected",
            message=(
                f"Stopped before {f'part {part} of {parts}' if parts > 1 else 'its next attempt'} "
                f"was sent: the run stopped {self.summary.stopped}"
            ),
            attempts=attempts, usage=None, latency_s=self.now() - started,
        )  # fmt: skip

    def _failure(
        self,
        item: PromptItem,
        outcome: _Outcome,
        attempts: int,
        started: float,
        part: int,
        parts: int,
    ) -> Result:
        error = outcome.error
        assert error is not None
        if isinstance(error, _TooLarge):
            return Result(
                id=item.id, prompt=item.prompt, ok=False, output=None,
                error_type="context_length", message=f"Not sent: {error}", attempts=attempts,
                usage=None, latency_s=self.now() - started,
            )  # fmt: skip
        info = classify(error)
        message = info.advice
        if parts > 1:
            message = f"Part {part} of {parts} failed. " + message
        if self.stopping and info.category not in STOP_CATEGORIES:
            message += " Retrying stopped because the run stopped early; --resume sends it again."
        elif attempts > 1:
            message += f" Gave up after {attempts} attempts."
        return Result(
            id=item.id, prompt=item.prompt, ok=False, output=None, error_type=info.category,
            message=message, attempts=attempts, usage=None,
            latency_s=self.now() - started, request_id=info.request_id,
        )  # fmt: skip

    def _emit(self, result: Result) -> None:
        self.sink.write(result)
        summary = self.summary
        if result.ok:
            summary.succeeded += 1
        else:
            summary.failed += 1
            summary.by_category[result.error_type or "unexpected"] += 1
            if result.attempts == 0 and self.stopping and result.error_type == self.stop_category:
                summary.not_attempted += 1
        self.progress.done(result.ok)

    # -- the pool ----------------------------------------------------------------------------

    async def _worker(self, items: Iterator[PromptItem]) -> None:
        while not self.stopping:
            item = next(items, None)
            if item is None:
                return
            self._emit(await self._process(item))

    async def run(self) -> None:
        items = (item for item in self.job.items() if item.key not in self.job.skip)
        # One prompt alone first: its answer's headers give the limits not given and the
        # allowance left right now, so the pool starts from the server's own bucket (its burst
        # included) instead of assuming a full one or an empty one.
        for _ in range(PROBES_AT_MOST):
            first = next(items, None)
            if first is None:
                break
            self._emit(await self._process(first))
            if self.heard or self.stopping:  # a refused-before-sending prompt tells nothing
                break
        tasks = self.s.concurrency * TASKS_PER_SLOT
        workers = [asyncio.ensure_future(self._worker(items)) for _ in range(tasks)]
        try:
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()
        if self.stopping:
            for item in items:
                self._emit(self._not_attempted(item))


# --- clients ------------------------------------------------------------------------------------


def _async_client(client: Any, timeout_s: float) -> tuple[openai.AsyncOpenAI, bool]:
    """An ``AsyncOpenAI`` for the run, and whether the runner owns (and closes) it.

    ``None`` means the course's backend (``COURSE_BACKEND``): the shared simulator, or the live
    API under the course's spend cap. A synchronous ``openai.OpenAI`` (``get_client()``,
    ``sim.client()``) is converted: same base URL and key, no SDK retries (the runner retries).
    Requests to the live endpoint always carry the spend guard, however the client was made.
    """
    if isinstance(client, openai.AsyncOpenAI):
        return client, False
    if client is not None and not isinstance(client, openai.OpenAI):
        raise TypeError(
            f"client must be an openai.OpenAI or openai.AsyncOpenAI (or None for the course's "
            f"backend), got {type(client).__name__}"
        )
    live = config.backend() == "openai"
    kwargs: dict[str, Any] = {"max_retries": 0, "timeout": timeout_s}
    if client is None and not live:
        client = get_simulator().client()  # read its URL and key, then let it go
        client.close()
    if client is not None:
        kwargs.update(base_url=str(client.base_url), api_key=client.api_key)
    elif not config.api_key_set():
        raise InputError(
            "COURSE_BACKEND=openai needs an API key, and OPENAI_API_KEY is not set. Set it, or "
            "unset COURSE_BACKEND to run against the offline simulator."
        )
    base = str(kwargs.get("base_url") or config.live_base_url()).rstrip("/")
    if live and base == config.live_base_url().rstrip("/"):
        kwargs["http_client"] = _guarded_async_http_client()
    return openai.AsyncOpenAI(**kwargs), True


def _guarded_async_http_client() -> Any:
    """The live spend guard (``spend.SpendGuard``) as hooks on an async HTTP client."""
    guard = spend_guard()

    async def check(request: Any) -> None:
        guard.check(request)

    async def track(response: Any) -> None:
        if response.status_code == 200 and "json" in response.headers.get("content-type", ""):
            await response.aread()
        guard.track(response)

    http = openai.DefaultAsyncHttpxClient()
    http.event_hooks = {"request": [check], "response": [track]}
    return http


# --- entry points -------------------------------------------------------------------------------


def _settings(**kwargs: Any) -> _Settings:
    s = _Settings(**kwargs)
    checks = (
        ("concurrency", s.concurrency, 1),
        ("max_retries", s.max_retries, 0),
        ("max_output_tokens", s.max_output_tokens, MIN_OUTPUT_TOKENS),
    )
    for name, value, low in checks:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InputError(f"{name} must be a whole number >= {low}, got {value!r}")
    optional = (("rpm", s.rpm), ("tpm", s.tpm), ("max_input_tokens", s.max_input_tokens))
    for label, given in optional:
        if given is not None and (
            isinstance(given, bool) or not isinstance(given, int) or given < 1
        ):
            raise InputError(f"{label} must be a whole number >= 1 (or None), got {given!r}")
    if s.on_long not in ON_LONG:
        raise InputError(f"on_long must be one of {', '.join(ON_LONG)}, got {s.on_long!r}")
    if not (isinstance(s.timeout_s, int | float) and 0 < s.timeout_s < math.inf):
        raise InputError(f"timeout must be a number of seconds > 0, got {s.timeout_s!r}")
    if not isinstance(s.model, str) or not s.model.strip():
        raise InputError(f"model must be a model id, got {s.model!r}")
    return s


def prepare(
    prompts: Any,
    output: str | os.PathLike[str] | None,
    *,
    resume: bool = False,
    overwrite: bool = False,
    **settings: Any,
) -> _Job:
    """Check everything before a single request: settings, input, output, resume state.

    Raises ``InputError`` for anything unusable; nothing has been written when it does.
    """
    s = _settings(**settings)
    if resume and overwrite:
        raise InputError(
            "--resume keeps the records in the output and --overwrite deletes them: pick one"
        )
    out = Path(output) if output is not None else None
    in_path = Path(prompts) if isinstance(prompts, str | os.PathLike) else None
    if out is None and resume:
        raise InputError("--resume needs the output file to resume from")
    if out is not None:
        check_output_path(out, in_path)
    plan = None
    skip: set[str] = set()
    if out is not None and out.exists() and out.stat().st_size > 0:
        if not (resume or overwrite):
            raise InputError(
                "already exists: add --resume to finish the prompts it lacks, or --overwrite to "
                "start afresh (its records are deleted)",
                path=out,
            )
        if resume:
            plan = plan_resume(out)
            skip = set(plan.keep)
    summary = RunSummary(output=out, timeline=[] if s.timeline else None)
    changed = None  # an id whose kept record holds a different prompt than the input now
    if in_path is not None:
        scan = scan_prompts(in_path, want=skip)
        total, present = scan.count, set(scan.digests)
        changed = next(
            (k for k, d in scan.digests.items() if skip and plan and plan.keep[k] != d), None
        )

        def items() -> Iterator[PromptItem]:
            return iter_prompts(in_path)

    else:
        listed = items_from_memory(prompts)
        total, present = len(listed), {item.key for item in listed} & skip
        if plan is not None:
            changed = next(
                (
                    i.key
                    for i in listed
                    if i.key in plan.keep and plan.keep[i.key] != prompt_digest(i.prompt)
                ),
                None,
            )

        def items() -> Iterator[PromptItem]:
            return iter(listed)

    if changed is not None:
        raise InputError(
            f"holds a record for id {changed} whose prompt differs from that id's prompt in the "
            "input now: the input changed since that run. Resume only over the same input, or "
            "start afresh with --overwrite",
            path=out,
        )
    summary.total = total
    if plan is not None:
        stale = len(plan.keep) - len(present)
        skip = present
        summary.skipped = len(skip)
        summary.succeeded = plan.kept_ok  # earlier records count towards the result set
        summary.failed = sum(plan.kept_failed.values())
        summary.by_category.update(plan.kept_failed)
        summary.notes.extend(plan.describe())
        if stale:
            summary.notes.append(f"{stale} record(s) in {out} are for ids not in this input (kept)")
    if s.rpm is not None and s.tpm is not None:
        summary.rpm, summary.tpm, summary.limits_source = float(s.rpm), float(s.tpm), "given"
    elif s.rpm is not None or s.tpm is not None:
        summary.rpm = float(s.rpm) if s.rpm else None
        summary.tpm = float(s.tpm) if s.tpm else None
        summary.limits_source = "given in part, the rest learned from x-ratelimit-* headers"
    return _Job(s, items, total, skip, out, overwrite, plan, summary)


async def execute(job: _Job, client: Any, progress: Progress) -> RunSummary:
    if job.plan is not None:
        apply_resume(job.plan)
    sink = Sink(job.output, truncate=job.truncate)
    aclient, owned = _async_client(client, job.settings.timeout_s)
    engine = _Engine(job, aclient, progress, sink)
    try:
        await engine.run()
    finally:
        job.summary.elapsed_s = engine.now() - engine.started
        sink.close()
        progress.close()
        if owned:
            await aclient.close()
    if sink.memory is not None:
        job.summary.results = sink.memory
    return job.summary


async def run_prompts_async(
    prompts: Any,
    output: str | os.PathLike[str] | None = None,
    *,
    client: Any = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    **settings: Any,
) -> RunSummary:
    """``run_prompts`` for code that is already async (``await run_prompts_async(...)``)."""
    job = prepare(prompts, output, resume=resume, overwrite=overwrite, **settings)
    bar = Progress(job.total - len(job.skip), progress)
    return await execute(job, client, bar)


def run_prompts(
    prompts: Any,
    output: str | os.PathLike[str] | None = None,
    *,
    client: Any = None,
    model: str = DEFAULT_MODEL,
    concurrency: int = DEFAULT_CONCURRENCY,
    rpm: int | None = None,
    tpm: int | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS,
    on_long: str = "chunk",
    max_input_tokens: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    seed: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    timeline: bool = False,
    clock: ScaledClock | None = None,
) -> RunSummary:
    """Run every prompt concurrently at the rate-limit ceiling; one ``Result`` per prompt.

    ``prompts`` is a .txt / .jsonl path, or a list of strings (ids 1, 2, ...) or of dicts like a
    .jsonl line. Results go to ``output`` (JSONL, one line each as it finishes) or, with no
    output, to ``summary.results``. ``rpm`` / ``tpm`` not given are learned from the server's
    headers. ``timeline=True`` keeps one ``Attempt`` per request for plots.
    """
    job = prepare(
        prompts, output, resume=resume, overwrite=overwrite, model=model,
        concurrency=concurrency, rpm=rpm, tpm=tpm, max_retries=max_retries,
        max_output_tokens=max_output_tokens, on_long=on_long,
        max_input_tokens=max_input_tokens, timeout_s=timeout_s, seed=seed, timeline=timeline,
        clock=clock,
    )  # fmt: skip
    bar = Progress(job.total - len(job.skip), progress)  # made here: Jupyter shows it here
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(execute(job, client, bar))
    # Inside Jupyter an event loop is already running in this thread: run on a private loop in
    # a helper thread and wait for it (the progress widget still updates live).
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="runner") as pool:
        return pool.submit(asyncio.run, execute(job, client, bar)).result()
