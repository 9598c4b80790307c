"""The production runner: ``core.PromptRunner`` plus what a long unattended run needs.

What it adds, each by overriding one of the core's small methods:

- **limits from the headers** (``answered``): a limit not given is learned from the first
  answer's ``x-ratelimit-*`` headers, remaining allowance included, so the pool starts from the
  server's own bucket (its burst) and then holds ``min(RPM, TPM / tokens per request)``;
- **one pause for the whole pool** (``retry_delay``): a 429 holds every waiting request for the
  server's ``retry-after`` once (``AdaptiveRateLimiter.pause``), instead of each worker backing
  off on its own schedule; the limiter then lets the retries out one by one;
- **no slot paid twice** (``acquire``): an attempt that failed fast (a 429, a 5xx, a dropped
  connection) was refused, not served, so its retry goes out on the limiter slot it already
  took, after any pause, instead of queueing behind the whole pool for a new one;
- **stopping** (``run``, ``acquire``, ``backoff``): a quota error or a rejected key means every
  later request fails the same way, so the run stops sending and records each prompt left as not
  attempted (``attempts=0``), for ``--resume`` to send once the account is fixed;
- **the spend guard** (live): a request the guard refuses is a failed record, and the run goes
  on; a request that would pass the cap stops the run like a quota error;
- **counting**: the ``RunSummary`` figures, the progress bar, a log line per retry, and the
  ``Attempt`` timeline that plots read.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
from collections.abc import Awaitable, Iterable, Iterator
from typing import Any

import openai

from ..backoff import parse_retry_after
from ..errors import classify
from ..fitting import Fit
from ..logs import get_logger
from ..ratelimit_extras import AdaptiveRateLimiter, ScaledClock
from ..ratelimit_headers import read_rate_limit_headers
from ..results import Result
from ..spend import BudgetExceeded, LiveRequestRefused
from .core import INCOMPLETE_NOTE, NotSent, PromptRunner
from .inputs import PromptItem
from .outputs import STOP_CATEGORIES
from .settings import RunSettings
from .summary import Attempt, RunSummary

__all__ = ["PROBES_AT_MOST", "REFUSED_CATEGORY", "Engine", "Progress", "refused_result"]

# Prompts sent one at a time at the start, until an answer brings x-ratelimit-* headers (a
# server that never sends them gets the pool after this many).
PROBES_AT_MOST = 5
# The category of a request the live spend guard refuses to send (an unpriced model, images,
# built-in tools): the request itself cannot go live, so it is final, like a 400.
REFUSED_CATEGORY = "bad_request"


# The id of the prompt a worker is on (each worker is its own asyncio task, with its own value).
_PROMPT_ID: contextvars.ContextVar[Any] = contextvars.ContextVar("prompt_id", default=None)
# Whether the worker's last attempt was refused before the server counted it (see ``acquire``).
_UNCOUNTED: contextvars.ContextVar[bool] = contextvars.ContextVar("uncounted", default=False)
_TOKENS: contextvars.ContextVar[int] = contextvars.ContextVar("tokens", default=0)  # its size


class _Stopped(NotSent):
    """The run stopped before this request was sent."""


def refused_result(
    item: PromptItem, exc: LiveRequestRefused, batch_id: str | None = None
) -> Result:
    """The record of a prompt the live spend guard refused to send (nothing left the machine)."""
    return Result(
        id=item.id, prompt=item.prompt, ok=False, output=None, error_type=REFUSED_CATEGORY,
        message=f"Not sent: {exc}", attempts=0, usage=None, latency_s=0.0, batch_id=batch_id,
    )  # fmt: skip


class Progress:
    """tqdm (``tqdm.auto``: a widget in Jupyter, text in a terminal) with ok/failed/retrying."""

    def __init__(self, total: int, enabled: bool, desc: str = "prompts") -> None:
        self.ok = self.failed = self.retrying = 0
        self.bar: Any = None
        if enabled:
            from tqdm.auto import tqdm  # type: ignore[import-untyped]

            self.bar = tqdm(total=total, unit="prompt", desc=desc, dynamic_ncols=True)
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

    def polled(self, completed: int, failed: int, total: int, statuses: list[str]) -> None:
        """The batch path's bar: the ``request_counts`` of its batches after a poll."""
        self.ok, self.failed = completed, failed
        if self.bar is not None:
            self.bar.total = max(total, self.bar.total or 0)
            self.bar.n = completed + failed
            counts = ", ".join(f"{statuses.count(s)} {s}" for s in sorted(set(statuses)))
            self.bar.set_postfix_str(f"ok={completed}, failed={failed}; {counts}", refresh=False)
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self._show()
            self.bar.refresh()
            self.bar.close()


def _headroom_s(clock: ScaledClock | None) -> float:
    """How much later than the limiter let it go a request may reach the server (a new
    connection, a busy machine): 1 s of real time, which lasts ``speed`` times longer on a
    simulated clock (half a real second is enough on loopback)."""
    return 1.0 if clock is None else min(0.5 * clock.speed, 30.0)


class Engine(PromptRunner):
    """``PromptRunner`` with header learning, a pool-wide pause, stopping and the summary."""

    limiter: AdaptiveRateLimiter  # the core's limiter, plus header learning and the pause

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        settings: RunSettings,
        summary: RunSummary,
        progress: Progress,
        write: Any,
    ) -> None:
        clock = settings.clock
        if clock is None:
            super().__init__(client, settings, self._emit)
        else:
            super().__init__(client, settings, self._emit, clock=clock, sleep=clock.sleep_async)
        self.limiter = AdaptiveRateLimiter(
            settings.rpm, settings.tpm, clock=self.now, async_sleep=self.sleep,
            headroom_s=_headroom_s(clock),
        )  # fmt: skip
        self.summary, self.progress, self.sink_write = summary, progress, write
        self.stop_event = asyncio.Event()
        self.stop_category: str | None = None
        self.paused_at = float("-inf")  # when the last pool-wide pause began
        self.paused_until = float("-inf")  # ... and when it ends
        self.heard = False  # an answer's x-ratelimit-* headers have been read
        self.started = self.now()
        self.unsent: Iterator[PromptItem] = iter(())
        self.log = get_logger("runner")

    @property
    def stopping(self) -> bool:
        return self.stop_event.is_set()

    # -- the pool: probe first, stop early -------------------------------------------------

    async def run(self, items: Iterable[PromptItem]) -> None:
        """One prompt alone first (its headers give the limits and the allowance left), then
        the pool; once the run stops, every prompt not yet taken is recorded as not attempted."""
        queue = self._until_stopped_items(iter(items))
        for first in itertools.islice(queue, PROBES_AT_MOST):
            self.write(await self.run_one(first))
            if self.heard or self.stopping:
                break
        await super().run(queue)
        for item in self.unsent:
            self.write(self._not_attempted(item))

    def _until_stopped_items(self, items: Iterator[PromptItem]) -> Iterator[PromptItem]:
        for item in items:
            if self.stopping:
                self.unsent = itertools.chain([item], items)
                return
            yield item

    def _stop(self, category: str, advice: str) -> None:
        if self.stopping:
            return
        self.stop_category = category
        self.summary.stopped = (
            f"after a {category} error on prompt {_PROMPT_ID.get()!r}, which no retry fixes. "
            f"{advice} Every prompt not yet sent is recorded as not attempted: fix the cause, "
            "then run again with --resume to send them."
        )
        self.stop_event.set()

    async def _unless_stopped(self, awaitable: Awaitable[Any]) -> None:
        """Await ``awaitable``, or raise ``_Stopped`` (cancelling it) if the run stops first."""
        if self.stopping:
            if asyncio.iscoroutine(awaitable):
                awaitable.close()
            raise _Stopped("the run stopped")
        task = asyncio.ensure_future(awaitable)
        stopper = asyncio.ensure_future(self.stop_event.wait())
        done, _ = await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            stopper.cancel()
            task.result()
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise _Stopped("the run stopped")

    # -- the core's steps, extended ----------------------------------------------------------

    def fit(self, item: PromptItem) -> Fit:
        fit = super().fit(item)
        if fit.refused:
            self.summary.preflight["refused"] += 1
        elif len(fit.bodies) > 1:
            self.summary.preflight["chunked"] += 1
        elif fit.note:
            self.summary.preflight["truncated"] += 1
        return fit

    async def run_one(self, item: PromptItem) -> Result:
        _PROMPT_ID.set(item.id)
        result = await super().run_one(item)
        if result.ok and INCOMPLETE_NOTE in (result.message or ""):
            self.summary.incomplete += 1
        return result

    async def acquire(self, tokens: int) -> None:
        _TOKENS.set(tokens)
        if _UNCOUNTED.get():  # the last attempt's slot was never used by the server: reuse it
            _UNCOUNTED.set(False)
            await self._unless_stopped(self.sleep(max(0.0, self.paused_until - self.now())))
        else:
            await self._unless_stopped(super().acquire(tokens))
            self.summary.reserved_tokens += tokens
        self.summary.requests += 1

    def answered(self, raw: Any, sent: float) -> None:
        self._learn(raw.headers)
        self._record_attempt(sent, raw.http_response.status_code, None)

    def retry_delay(self, error: BaseException, attempt: int, sent: float) -> float | None:
        if isinstance(error, LiveRequestRefused):  # the spend guard: nothing was sent
            self.summary.requests -= 1
            if isinstance(error, BudgetExceeded):
                self._stop("quota", str(error))
            return None
        response = getattr(error, "response", None)
        if isinstance(error, openai.APIStatusError):
            self._learn(response.headers if response is not None else None)
        info = classify(error)
        self._record_attempt(sent, getattr(error, "status_code", None), info.category)

        if info.category in STOP_CATEGORIES:
            self._stop(info.category, info.advice)
            return None
        if info.category == "rate_limit":
            self.summary.rate_limited += 1
        delay = super().retry_delay(error, attempt, sent)
        if delay is None or self.stopping:
            return None
        self.summary.retries += 1
        # An attempt that failed fast (a 429, a 5xx, a dropped connection) gives its limiter
        # slot to its retry: the server refused it rather than served it. If the server did
        # count it after all, its next answer's headers lower the limiter and a 429 pauses the
        # pool, so the optimism costs a pause, never a prompt.
        _UNCOUNTED.set(info.category in ("rate_limit", "server_error", "connection"))
        self.log.info(
            "retrying",
            extra={"operation": "responses.create", "attempt": attempt,
                   "error_type": info.category, "request_id": info.request_id,
                   "wait_s": round(delay, 3)},
        )  # fmt: skip
        if info.category != "rate_limit":
            return delay
        # The server says the key is over its limit: hold the whole pool once, for what it
        # asked (retry-after); the limiter, not random jitter, then spreads the retries. A 429
        # for a request sent before the last pause began is already covered by that pause, and
        # one whose own headers show allowance left is about this request alone.
        hint = parse_retry_after(response.headers) if response is not None else None
        left = read_rate_limit_headers(response.headers if response is not None else {})
        room = (left.remaining_requests or 0) >= 1 and (left.remaining_tokens or 0) >= _TOKENS.get()
        if room:
            return hint if hint is not None else delay
        if sent >= self.paused_at:
            pause = hint if hint is not None else delay
            self.paused_at, self.paused_until = self.now(), self.now() + pause
            self.limiter.pause(pause)
        return 0.0

    async def backoff(self, delay: float) -> None:
        self.progress.retry(+1)
        try:
            await self._unless_stopped(super().backoff(delay))
        finally:
            self.progress.retry(-1)

    def failure(
        self, item: PromptItem, error: BaseException, attempts: int, latency_s: float,
        where: tuple[int, int],
    ) -> Result:  # fmt: skip
        part, parts = where
        if isinstance(error, LiveRequestRefused):
            attempts -= 1  # the guard refused that attempt: it never left
            if not isinstance(error, BudgetExceeded):
                return refused_result(item, error).with_(attempts=attempts, latency_s=latency_s)
        if isinstance(error, BudgetExceeded | _Stopped):
            if attempts == 0 and part == 1:
                return self._not_attempted(item)
            midway = f"part {part} of {parts}" if parts > 1 else "its next attempt"
            return Result(
                id=item.id, prompt=item.prompt, ok=False, output=None,
                error_type=self.stop_category or "unexpected",
                message=f"Stopped before {midway} was sent: the run stopped {self.summary.stopped}",
                attempts=attempts, usage=None, latency_s=latency_s,
            )  # fmt: skip
        if isinstance(error, NotSent):  # larger than the TPM limit
            return Result(
                id=item.id, prompt=item.prompt, ok=False, output=None,
                error_type="context_length", message=f"Not sent: {error}", attempts=attempts,
                usage=None, latency_s=latency_s,
            )  # fmt: skip
        result = super().failure(item, error, attempts, latency_s, where)
        category = result.error_type
        if self.stopping and category not in STOP_CATEGORIES:
            tail = " Retrying stopped because the run stopped early; --resume sends it again."
        else:
            tail = f" Gave up after {attempts} attempts." if attempts > 1 else ""
        return result.with_(message=(result.message or "") + tail)

    # -- limits, records -------------------------------------------------------------------

    def _learn(self, headers: Any) -> None:
        """Feed an answer's ``x-ratelimit-*`` headers to the limiter; a limit not given is
        learned from the first answer (with the allowance left), after which the limiter only
        ever lowers what it thinks is left (other clients may share the key)."""
        if headers is None:
            return
        if not self.limiter.update_from_headers(headers).empty:
            self.heard = True
        s, summary = self.settings, self.summary
        summary.rpm = float(self.limiter.rpm) if self.limiter.rpm else None
        summary.tpm = float(self.limiter.tpm) if self.limiter.tpm else None
        given = [x for x in (s.rpm, s.tpm) if x is not None]
        if len(given) == 2:
            source = "given"
        elif given:
            source = "given in part, the rest learned from x-ratelimit-* headers"
        elif summary.rpm or summary.tpm:
            source = "learned from x-ratelimit-* headers"
        else:
            source = "none"
        lowered = (s.rpm is not None and self.limiter.rpm != s.rpm) or (
            s.tpm is not None and self.limiter.tpm != s.tpm
        )
        summary.limits_source = source + (", lowered to what the server reports" if lowered else "")

    def _record_attempt(self, sent: float, status: int | None, category: str | None) -> None:
        if self.summary.timeline is not None:
            now = self.now()
            self.summary.timeline.append(
                Attempt(sent - self.started, now - self.started, status, category)
            )

    def _not_attempted(self, item: PromptItem) -> Result:
        return Result(
            id=item.id, prompt=item.prompt, ok=False, output=None,
            error_type=self.stop_category or "unexpected",
            message=f"Not attempted: the run stopped {self.summary.stopped}",
            attempts=0, usage=None, latency_s=0.0,
        )  # fmt: skip

    def _emit(self, result: Result) -> None:
        self.sink_write(result)
        self.summary.count(result)
        if result.attempts == 0 and self.stopping and result.error_type == self.stop_category:
            self.summary.not_attempted += 1
        self.progress.done(result.ok)
