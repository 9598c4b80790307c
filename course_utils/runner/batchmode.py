"""``runner --batch``: the same prompts file, records, resume and exit codes, via the Batch API.

Online, the runner paces requests to the per-minute limits and retries 429s; in batch mode it
hands the whole file to the provider's batch engine and waits: half the price, no per-minute
limits and no 429s, results within the 24h completion window instead of within minutes.

What stays the same: the input (``runner.inputs``), the output (one ``results.Result`` JSON line
per prompt, now with ``batch_id``), ``--resume`` (finished records are kept), the summary line
``N succeeded, M failed`` and the exit codes (0 all ok, 1 some failed or not run, 2 bad input,
130 interrupted). What is new: the batches in flight are listed in ``<output>.batch.json``;
Ctrl+C leaves them running on the service, and ``--resume`` collects them by id instead of
paying for them twice; ``--cancel`` stops them and keeps what they finished.

Live, the spend cap covers batches too: each batch's worst case (every line's input plus its
output cap, at batch prices) is reserved in the spend ledger before it is uploaded
(``BudgetExceeded`` if it would pass ``COURSE_BUDGET_USD``, nothing sent) and settled at what
the answers actually cost when the batch is collected.

Batch mode sends each prompt as one request and does not chunk: a prompt over the context
budget is truncated (``--on-long truncate``) or recorded as not sent (``fail``, and ``chunk``,
which needs the online runner).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai

from .. import config
from ..batch import (
    ENDPOINT,
    MAX_FILE_BYTES,
    MAX_LINES_PER_FILE,
    BatchError,
    BatchRequest,
    BatchState,
    cancel_batches,
    collect,
    split_requests,
    submit,
    wait_for_batches,
)
from ..client import get_client, make_client
from ..pricing import DEFAULT_MODEL, model_or_default
from ..results import Result
from ..spend import BudgetExceeded, guard_of, spend_guard
from ..tokens import count_request_input, truncate_to_tokens
from .engine import DEFAULT_MAX_OUTPUT_TOKENS, prepare
from .inputs import InputError, PromptItem
from .outputs import Sink, apply_resume
from .summary import RunSummary

__all__ = ["batch_exit_code", "main_batch", "run_batch"]

ONLINE_ONLY = ("concurrency", "rpm", "tpm", "max_retries", "timeout", "seed")
LIMITS_NOTE = "batch: the per-minute limits do not apply"


class _BatchProgress:
    """A tqdm bar (a widget in Jupyter) moved by the batches' ``request_counts``."""

    def __init__(self, enabled: bool) -> None:
        self.bar: Any = None
        self.enabled = enabled

    def update(self, completed: int, failed: int, total: int, statuses: list[str]) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm.auto import tqdm  # type: ignore[import-untyped]

            self.bar = tqdm(total=total, unit="prompt", desc="batch", dynamic_ncols=True)
        self.bar.total = max(total, self.bar.total or 0)
        self.bar.n = completed + failed
        counts = ", ".join(f"{statuses.count(s)} {s}" for s in sorted(set(statuses)))
        self.bar.set_postfix_str(f"ok={completed}, failed={failed}; {counts}", refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _is_live(client: openai.OpenAI) -> bool:
    return guard_of(client) is not None


def _request(
    item: PromptItem, model: str, cap: int, on_long: str, max_input: int | None
) -> BatchRequest | Result:
    """The batch line for one prompt, or the record of a prompt that cannot be sent."""
    options = {k: v for k, v in item.options.items() if k != "extra_headers"}
    body: dict[str, Any] = {"model": model, "input": item.prompt, "max_output_tokens": cap}
    body.update(options)
    line_model = str(body["model"])
    info = model_or_default(line_model)
    line_cap = int(body.get("max_output_tokens") or cap)
    budget = info.context_window - line_cap
    why = f"{line_model}'s {info.context_window:,}-token context window less the output cap"
    if max_input is not None and max_input < budget:
        budget, why = max_input, "--max-input-tokens"
    used = count_request_input(body, line_model)
    if used <= budget:
        return BatchRequest(item.key, item.id, item.prompt, body)
    room = budget - count_request_input({**body, "input": ""}, line_model)
    if on_long == "truncate" and room > 0:
        body["input"] = truncate_to_tokens(item.prompt, room, line_model)
        return BatchRequest(item.key, item.id, item.prompt, body)
    how = (
        "Batch mode sends each prompt as one request and does not chunk: run this prompt "
        "online (the runner chunks it there), or pass --on-long truncate."
        if on_long == "chunk"
        else "Shorten the prompt, or pass --on-long truncate."
    )
    return Result(
        id=item.id, prompt=item.prompt, ok=False, output=None, error_type="context_length",
        message=f"Not sent: the request is {used:,} input tokens, over the budget of {budget:,} "
        f"({why}). {how}",
        attempts=0, usage=None, latency_s=0.0,
    )  # fmt: skip


def _reserve(client: openai.OpenAI, requests: list[BatchRequest]) -> float:
    """Live only: reserve a batch's worst case (input + output cap of every line, at batch
    prices) in the spend ledger before it is uploaded, or raise ``BudgetExceeded``.

    The spend guard bounds one generating request at a time and refuses the Batch API's
    uploads, whose cost it cannot see; the batch path bounds the whole batch instead, holds it
    while the batch runs and settles it at the answers' actual cost when it is collected.
    """
    guard = guard_of(client)
    if not requests or guard is None:
        return 0.0
    return guard.reserve_batch(
        (
            str(r.body["model"]),
            count_request_input(r.body, str(r.body["model"])),
            r.body.get("max_output_tokens"),
        )
        for r in requests
    )


def _batch_client(client: openai.OpenAI | None) -> tuple[openai.OpenAI, bool]:
    """The client for the Batch API's own endpoints, and whether this run closes it.

    Offline it is the course's client. Live, it is built by the client factory with the spend
    guard's batch variant, which lets uploads and batch calls through because the batch path
    reserves and settles each batch's cost in the ledger itself (``_reserve``).
    """
    if client is None:
        if config.backend() == "simulator":
            return get_client(), True
        return make_client(guard=spend_guard().for_batches()), True
    guard = guard_of(client)
    if guard is not None:
        batches = guard.for_batches()
        return make_client(like=client, guard=batches, max_retries=client.max_retries), True
    return client, False


def batch_exit_code(summary: RunSummary) -> int:
    """0 when every prompt succeeded; 1 when any failed or was not run (a cancel)."""
    return 1 if summary.failed or summary.stopped else 0


def run_batch(
    prompts: Any,
    output: str | Path | None = None,
    *,
    client: openai.OpenAI | None = None,
    model: str = DEFAULT_MODEL,
    max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS,
    on_long: str = "fail",
    max_input_tokens: int | None = None,
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
) -> RunSummary:
    """Run every prompt through the Batch API; one ``Result`` per prompt, as ``run_prompts``.

    ``prompts`` and ``output`` are ``run_prompts``'s (a .txt / .jsonl path or a list; JSONL
    results, or ``summary.results`` with no output). The batches in flight are kept in
    ``<output>.batch.json``: after an interruption, ``resume=True`` collects them instead of
    submitting again, and ``cancel=True`` cancels them and writes what they finished. Inputs
    over ``max_lines`` requests or ``max_bytes`` bytes (the service's 50,000 and 200 MB) go as
    several batches. ``sleep`` waits between polls (injectable for tests).
    """
    say = log or (lambda text: None)
    job = prepare(
        prompts, output, resume=resume or cancel, overwrite=overwrite, model=model,
        max_output_tokens=max_output_tokens,
        on_long=on_long, max_input_tokens=max_input_tokens,
    )  # fmt: skip
    summary = job.summary
    summary.limits_source = LIMITS_NOTE
    state = _state(job.output, model, resume=resume, overwrite=overwrite, cancel=cancel, say=say)
    if job.plan is not None:
        apply_resume(job.plan)
    sink = Sink(job.output, truncate=job.truncate)
    client, own_client = _batch_client(client)
    bar = _BatchProgress(progress)
    started = time.monotonic()
    try:
        items = {item.key: item for item in job.items() if item.key not in job.skip}
        requests = _requests_for(items, state, model, max_output_tokens, on_long, max_input_tokens)
        fresh: list[BatchRequest] = []
        for made in requests:
            if isinstance(made, Result):
                _emit(summary, sink, made)
            else:
                fresh.append(made)
        if cancel:
            if fresh:
                say(f"--cancel: {len(fresh):,} prompt(s) not in any batch are left for --resume")
            asked = cancel_batches(client, state)
            say(f"asked {len(asked)} batch(es) to cancel: {', '.join(asked) or 'none running'}")
            fresh = []
        by_id = {r.custom_id: r for r in fresh}
        for key in state.pending_ids():
            if key in items and key not in by_id:
                item = items[key]
                by_id[key] = BatchRequest(key, item.id, item.prompt, {})
        for group in _by_model(fresh):
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
            got = collect(client, batch, by_id, submitted, model=state.model)
            for result in got.results:
                _emit(summary, sink, result)
            summary.incomplete += got.incomplete
            not_run.extend(got.not_run)
            if submitted.reserved_usd or (got.cost_usd and _is_live(client)):
                spend_guard().ledger.settle(submitted.reserved_usd, got.cost_usd)
            submitted.collected, submitted.status = True, batch.status
            state.save()
            say(f"{batch.id} {batch.status}: {len(got.results):,} record(s) written")

        if state.pending:
            wait_for_batches(
                client, state, finished, on_progress=bar.update, sleep=sleep,
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
        sink.close()
        if own_client:
            client.close()
    if sink.memory is not None:
        summary.results = sink.memory
    return summary


def _state(
    output: Path | None,
    model: str,
    *,
    resume: bool,
    overwrite: bool,
    cancel: bool,
    say: Callable[[str], None],
) -> BatchState:
    """The batches already in flight for ``output`` (resume, cancel) or a fresh state."""
    if output is None:
        if cancel:
            raise InputError("--cancel needs the output file whose batches it should cancel")
        return BatchState(None, model)
    path = BatchState.path_for(output)
    if not path.exists():
        if cancel:
            raise InputError(
                f"nothing to cancel: no batches in flight for this output (no {path.name})",
                path=output,
            )
        return BatchState(path, model)
    try:
        state = BatchState.load(path)
    except BatchError as err:
        raise InputError(str(err)) from None
    if overwrite:
        ids = ", ".join(b.id for b in state.pending) or "none"
        say(
            f"--overwrite: forgetting the batches listed in {path.name} ({ids}); any still running "
            "keep running on the service until they end (cancel them with "
            "client.batches.cancel(id) if you do not want them)"
        )
        path.unlink()
        return BatchState(path, model)
    if not (resume or cancel):
        raise InputError(
            f"batches are in flight for this output ({path.name} lists them): run with --resume "
            "to collect them, --cancel to cancel them, or --overwrite to forget them",
            path=output,
        )
    if state.pending and state.model != model:
        raise InputError(
            f"the batches in flight were submitted for model {state.model!r}, not {model!r}: "
            f"resume with --model {state.model}",
            path=output,
        )
    return state


def _requests_for(
    items: dict[str, PromptItem],
    state: BatchState,
    model: str,
    cap: int,
    on_long: str,
    max_input: int | None,
) -> Iterator[BatchRequest | Result]:
    pending = state.pending_ids()
    for key, item in items.items():
        if key not in pending:
            yield _request(item, model, cap, on_long, max_input)


def _by_model(requests: list[BatchRequest]) -> list[list[BatchRequest]]:
    """One group per model: a batch input file may name only one."""
    groups: dict[str, list[BatchRequest]] = {}
    for r in requests:
        groups.setdefault(str(r.body["model"]), []).append(r)
    return list(groups.values())


def _emit(summary: RunSummary, sink: Sink, result: Result) -> None:
    sink.write(result)
    if result.ok:
        summary.succeeded += 1
    else:
        summary.failed += 1
        summary.by_category[result.error_type or "unexpected"] += 1


def main_batch(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """``runner --batch`` / ``--batch --cancel``: run, print the summary, return the exit code."""
    given = [name for name in ONLINE_ONLY if getattr(args, name) != parser.get_default(name)]
    if given:
        flags = ", ".join("--" + n.replace("_", "-") for n in given)
        print(
            f"error: {flags} apply to online runs only (a batch has no per-minute limits, "
            "retries or client timeout); drop them, or drop --batch",
            file=sys.stderr,
        )
        return 2

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    client = None
    try:
        with contextlib.redirect_stdout(sys.stderr):  # the backend banner, as online: stderr
            client = get_client()
        summary = run_batch(
            args.prompts, args.output, client=client, model=args.model,
            max_output_tokens=args.max_output_tokens, on_long=args.on_long,
            max_input_tokens=args.max_input_tokens, resume=args.resume,
            overwrite=args.overwrite, cancel=args.cancel, progress=not args.no_progress,
            log=say,
        )  # fmt: skip
    except (InputError, config.ConfigError, BatchError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except BudgetExceeded as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            f"interrupted: the batches keep running on the service and "
            f"{BatchState.path_for(args.output)} lists them; run the same command with --resume "
            "to collect them, or with --cancel to stop them",
            file=sys.stderr,
        )
        return 130
    finally:
        if client is not None:
            client.close()
    print(summary.report(), flush=True)
    return batch_exit_code(summary)
