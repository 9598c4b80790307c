"""The runner core: many prompts at the rate-limit ceiling, one JSON line each.

Four ideas, each a few lines of ``PromptRunner``:

- **a pool**: ``concurrency x TASKS_PER_SLOT`` asyncio workers take prompts from one shared
  iterator. A slot (a semaphore) is held only while a request is on the wire, so a prompt
  sleeping out a backoff costs nothing and the wire stays full;
- **pacing**: before each request the course's limiter (``ratelimit.RateLimiter``) waits until
  the RPM and TPM buckets have room for it, so the server never has to say 429;
- **retries**: a transient failure (429, 5xx, a dropped connection, a timeout) is retried after
  the course's backoff (``backoff.RetryPolicy``: full jitter, ``retry-after`` honoured);
  anything else fails the prompt at once;
- **records**: every prompt ends as exactly one ``results.Result``, handed to ``write`` (which
  appends it to the JSONL file as one line).

The production runner (``runner.engine``) builds on this class through its small methods: it
learns the limits from the headers, pauses the whole pool after a 429, stops on a quota error,
and counts what happened for the summary.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import openai

from ..backoff import RetryPolicy, exponential, full_jitter
from ..errors import CourseError
from ..fitting import Fit, fit_request, input_budget
from ..ratelimit import RateLimiter
from ..results import Result, usage_dict
from ..tokens import estimate_request_tokens
from .inputs import PromptItem
from .settings import RunSettings

__all__ = [
    "CHUNK_JOINER",
    "INCOMPLETE_NOTE",
    "TASKS_PER_SLOT",
    "NotSent",
    "Outcome",
    "PromptRunner",
]

TASKS_PER_SLOT = 4  # prompts worked on per slot: the others wait out backoffs or the limiter
CHUNK_JOINER = "\n\n"  # the answers to a chunked prompt's parts, joined in order
INCOMPLETE_NOTE = (
    "The answer was cut at max_output_tokens (status incomplete): raise the cap or ask for a "
    "shorter answer."
)


class NotSent(CourseError, RuntimeError):
    """A request that never left: larger than the TPM limit, or the run stopped first."""


@dataclass
class Outcome:
    """How one request ended after its retries: an answer, or the last error."""

    response: Any
    error: BaseException | None
    attempts: int
    request_id: str | None = None


Sleep = Callable[[float], Awaitable[Any]]


class PromptRunner:
    """Runs prompts concurrently at the rate-limit ceiling; one ``Result`` each, to ``write``."""

    def __init__(
        self, client: openai.AsyncOpenAI, settings: RunSettings, write: Callable[[Result], None],
        *, clock: Callable[[], float] = time.monotonic, sleep: Sleep = asyncio.sleep,
    ) -> None:  # fmt: skip
        self.client, self.settings, self.write = client, settings, write
        self.now, self.sleep = clock, sleep
        self.limiter = RateLimiter(settings.rpm, settings.tpm, clock=clock, async_sleep=sleep)
        self.policy = RetryPolicy(settings.max_retries, full_jitter(exponential(0.5, 2.0, 8.0)))
        self.rng = random.Random(settings.seed)
        self.slots = asyncio.Semaphore(settings.concurrency)

    async def run(self, items: Iterable[PromptItem]) -> None:
        """Run every prompt: each worker takes the next one until none is left."""
        queue = iter(items)

        async def worker() -> None:
            for item in queue:  # the shared iterator hands each prompt to exactly one worker
                self.write(await self.run_one(item))

        workers = self.settings.concurrency * TASKS_PER_SLOT
        await asyncio.gather(*(worker() for _ in range(workers)))

    def fit(self, item: PromptItem) -> Fit:
        """The prompt's request, fitted to its input budget (chunked, truncated or refused)."""
        s = self.settings
        body: dict[str, Any] = {"model": s.model, "input": item.prompt}
        body.update({"max_output_tokens": s.max_output_tokens, **item.options})
        model, cap = str(body["model"]), int(body["max_output_tokens"])
        budget, why = input_budget(model, cap, self.limiter.tpm, s.max_input_tokens)
        return fit_request(body, budget, s.on_long, why)

    async def run_one(self, item: PromptItem) -> Result:
        """One prompt: fit it, send each part (with retries), and make its one record."""
        started = self.now()
        fit = self.fit(item)
        if fit.refused:
            return Result(id=item.id, prompt=item.prompt, ok=False, output=None, attempts=0,
                          error_type="context_length", message=fit.refusal, usage=None,
                          latency_s=0.0)  # fmt: skip
        texts, notes, attempts, usage, request_id = [], [fit.note], 0, None, None
        for part, body in enumerate(fit.bodies, 1):
            outcome = await self.send(body)
            attempts += outcome.attempts
            if outcome.error is not None:
                where = (part, len(fit.bodies))
                return self.failure(item, outcome.error, attempts, self.now() - started, where)
            answer = outcome.response
            texts.append(answer.output_text or "")
            if answer.status == "incomplete":
                notes.append(INCOMPLETE_NOTE)
            got = usage_dict(answer.usage)
            if got is not None:
                usage = got if usage is None else {k: usage[k] + got[k] for k in usage}
            request_id = outcome.request_id or request_id
        return Result(
            id=item.id, prompt=item.prompt, ok=True, output=CHUNK_JOINER.join(texts),
            error_type=None, message=" ".join(n for n in dict.fromkeys(notes) if n) or None,
            attempts=attempts, usage=usage, latency_s=self.now() - started,
            request_id=request_id,
        )  # fmt: skip

    async def send(self, body: dict[str, Any]) -> Outcome:
        """One request: wait for the limiter, send, and retry while the error is transient."""
        tokens = estimate_request_tokens(body)
        attempt = 0
        while True:
            attempt += 1
            async with self.slots:  # a slot only while on the wire: a sleeping retry holds none
                try:
                    await self.acquire(tokens)
                except NotSent as exc:
                    return Outcome(None, exc, attempt - 1)
                sent = self.now()
                try:
                    raw = await self.client.responses.with_raw_response.create(**body)
                except openai.OpenAIError as exc:
                    error: BaseException = exc
                else:
                    self.answered(raw, sent)
                    return Outcome(raw.parse(), None, attempt, raw.headers.get("x-request-id"))
            delay = self.retry_delay(error, attempt, sent)
            if delay is None:
                return Outcome(None, error, attempt)
            try:
                await self.backoff(delay)
            except NotSent:  # the run stopped while this prompt waited to retry
                return Outcome(None, error, attempt)

    async def acquire(self, tokens: int) -> None:
        """Wait until the limiter lets a request of ``tokens`` go."""
        try:
            await self.limiter.acquire_async(tokens)
        except ValueError as exc:  # more tokens than the TPM limit: it can never go
            raise NotSent(str(exc)) from None

    def answered(self, raw: Any, sent: float) -> None:
        """Called with each answer's raw response (its headers); the engine learns limits here."""

    def retry_delay(self, error: BaseException, attempt: int, sent: float) -> float | None:
        """Seconds to wait before retrying after ``error``, or None: do not retry."""
        return self.policy.delay_for(error, attempt, self.rng)

    async def backoff(self, delay: float) -> None:
        """Wait out a retry's delay (holding no slot)."""
        await self.sleep(delay)

    def failure(
        self, item: PromptItem, error: BaseException, attempts: int, latency_s: float,
        where: tuple[int, int],
    ) -> Result:  # fmt: skip
        """The record of a prompt whose request failed (``where``: part n of m)."""
        result = Result.from_error(item.id, item.prompt, error, attempts=attempts,
                                   latency_s=latency_s)  # fmt: skip
        part, parts = where
        if parts > 1:
            result = result.with_(message=f"Part {part} of {parts} failed. {result.message}")
        return result
