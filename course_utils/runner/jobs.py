"""A run from start to end: check everything and lock the output (``prepare``), run the engine
(``execute``), and the public entry points ``run_prompts`` / ``run_prompts_async``."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filelock
import openai

from .. import config
from ..client import get_async_client, get_client, make_client
from ..sdk import guard_of
from ..spend import SpendGuard, spend_guard
from .engine import Engine, Progress
from .inputs import (
    InputError,
    PromptItem,
    items_from_memory,
    iter_prompts,
    prompt_digest,
    scan_prompts,
)
from .outputs import ResumePlan, Sink, apply_resume, check_output_path, hold_output, plan_resume
from .settings import RunSettings
from .summary import RunSummary

__all__ = ["Job", "execute", "open_client", "prepare", "run_prompts", "run_prompts_async"]

Output = str | os.PathLike[str] | None  # where the records go (None: summary.results)


@dataclass
class Job:
    """A checked run: where the prompts come from, where results go, what to skip."""

    settings: RunSettings
    items: Callable[[], Iterator[PromptItem]]
    total: int
    skip: set[str]
    output: Path | None
    truncate: bool
    plan: ResumePlan | None
    summary: RunSummary
    lock: filelock.BaseFileLock | None = None

    def release(self) -> None:
        """Let another run use the output."""
        if self.lock is not None:
            self.lock.release()
            self.lock = None


def open_client(given: Any, settings: RunSettings, *, sync: bool = False) -> tuple[Any, bool]:
    """The SDK client for a run (async for the runner, ``sync=True`` for the batch path), and
    whether the run owns it (and closes it). The only place the runner and batch get one, always
    from the course's client factory, so a guarded client stays guarded whatever it is given.

    ``None`` means the course's backend (``COURSE_BACKEND``): the shared simulator, or the live
    API through the spend guard. A client of the other kind is converted by the factory (same
    base URL, key, transport and guard); the runner's own client does no SDK retries (the runner
    retries). The batch path's live client carries the guard's batch variant, which lets uploads
    and batch calls through: the batch path reserves and settles each whole batch itself.
    """
    wanted = openai.OpenAI if sync else openai.AsyncOpenAI
    if given is not None and not isinstance(given, openai.OpenAI | openai.AsyncOpenAI):
        raise InputError(
            f"client must be an openai.OpenAI or openai.AsyncOpenAI (or None for the course's "
            f"backend), got {type(given).__name__}"
        )
    options: dict[str, Any] = {"timeout": settings.timeout_s}
    if not sync:
        options["max_retries"] = 0
    if given is None:
        if not sync:
            return get_async_client(**options), True
        if config.backend() == "simulator":
            return get_client(**options), True
        return make_client(guard=spend_guard().for_batches(), **options), True
    guard = guard_of(given)
    if sync and isinstance(guard, SpendGuard):
        options["guard"] = guard.for_batches()
    elif isinstance(given, wanted):
        return given, False
    return make_client(asynchronous=not sync, like=given, **options), True


def prepare(
    prompts: Any,
    output: str | os.PathLike[str] | None,
    settings: RunSettings,
    *,
    resume: bool = False,
    overwrite: bool = False,
) -> Job:
    """Check everything before a single request: input, output, resume state; lock the output.

    Raises ``InputError`` for anything unusable; nothing has been written when it does.
    """
    if resume and overwrite:
        raise InputError(
            "--resume keeps the records in the output and --overwrite deletes them: pick one"
        )
    out = Path(output) if output is not None else None
    in_path = Path(prompts) if isinstance(prompts, str | os.PathLike) else None
    if out is None and resume:
        raise InputError("--resume needs the output file to resume from")
    if in_path is not None:
        scan = scan_prompts(in_path)  # every line checked before the output is touched
    else:
        listed = items_from_memory(prompts)
    if out is not None:
        check_output_path(out, in_path)
    lock = hold_output(out) if out is not None else None
    try:
        job = _plan(in_path, out, settings, resume=resume, overwrite=overwrite)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    job.lock = lock
    if in_path is not None:
        job.total = scan.count

        def items() -> Iterator[PromptItem]:
            return iter_prompts(in_path)

    else:
        job.total = len(listed)

        def items() -> Iterator[PromptItem]:
            return iter(listed)

    job.items = items
    _match_resume(job, in_path)
    return job


def _plan(
    in_path: Path | None, out: Path | None, settings: RunSettings, *, resume: bool, overwrite: bool
) -> Job:
    plan = None
    if out is not None and out.exists() and out.stat().st_size > 0:
        if not (resume or overwrite):
            raise InputError(
                "already exists: add --resume to finish the prompts it lacks, or --overwrite to "
                "start afresh (its records are deleted)",
                path=out,
            )
        if resume:
            plan = plan_resume(out)
    summary = RunSummary(output=out, timeline=[] if settings.timeline else None)
    s = settings
    if s.rpm is not None or s.tpm is not None:
        summary.rpm = float(s.rpm) if s.rpm else None
        summary.tpm = float(s.tpm) if s.tpm else None
        both = s.rpm is not None and s.tpm is not None
        summary.limits_source = (
            "given" if both else "given in part, the rest learned from x-ratelimit-* headers"
        )
    return Job(settings, lambda: iter(()), 0, set(), out, overwrite, plan, summary)


def _match_resume(job: Job, in_path: Path | None) -> None:
    """Skip the prompts the output already finished; count them (only ids in this input)."""
    plan, summary = job.plan, job.summary
    summary.total = job.total
    if plan is None:
        return
    present: set[str] = set()
    for item in job.items():
        if item.key in plan.keep:
            present.add(item.key)
            if plan.keep[item.key] != prompt_digest(item.prompt):
                job.release()
                raise InputError(
                    f"holds a record for id {item.id} whose prompt differs from that id's prompt "
                    "in the input now: the input changed since that run. Resume only over the "
                    "same input, or start afresh with --overwrite",
                    path=job.output,
                )
    job.skip = present
    summary.skipped = len(present)
    for key in present:  # earlier records count towards the result set
        category = plan.outcome[key]
        if category is None:
            summary.succeeded += 1
        else:
            summary.failed += 1
            summary.by_category[category] += 1
    summary.notes.extend(plan.describe())
    stale = len(plan.keep) - len(present)
    if stale:
        summary.notes.append(
            f"{stale} record(s) in {job.output} are for ids not in this input: kept in the file, "
            "not counted here"
        )


async def execute(job: Job, client: Any, progress: Progress) -> RunSummary:
    """Run a prepared job to the end; the output is released however the run ends."""
    try:
        if job.plan is not None:
            apply_resume(job.plan)
        sink = Sink(job.output, truncate=job.truncate)
        aclient, owned = open_client(client, job.settings)
        engine = Engine(aclient, job.settings, job.summary, progress, sink.write)
        try:
            await engine.run(item for item in job.items() if item.key not in job.skip)
        finally:
            job.summary.elapsed_s = engine.now() - engine.started
            progress.close()
            if owned:
                await aclient.close()
            sink.close()
    finally:
        job.release()
    if sink.memory is not None:
        job.summary.results = sink.memory
    return job.summary


def _start(prompts: Any, output: Any, options: dict[str, Any]) -> tuple[Job, Progress]:
    """The job and its progress bar, from ``run_prompts``'s arguments."""
    resume, overwrite = options.pop("resume", False), options.pop("overwrite", False)
    progress = options.pop("progress", True)
    job = prepare(prompts, output, RunSettings.known(**options), resume=resume, overwrite=overwrite)
    return job, Progress(job.total - len(job.skip), progress)


async def run_prompts_async(
    prompts: Any,
    output: str | os.PathLike[str] | None = None,
    *,
    client: Any = None,
    **options: Any,
) -> RunSummary:
    """``run_prompts`` for code that is already async (``await run_prompts_async(...)``)."""
    job, bar = _start(prompts, output, options)
    return await execute(job, client, bar)


def run_prompts(
    prompts: Any,
    output: Output = None,
    *,
    client: Any = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    **settings: Any,
) -> RunSummary:
    """Run every prompt concurrently at the rate-limit ceiling; one ``Result`` per prompt.

    ``prompts`` is a .txt / .jsonl path, or a list of strings (ids 1, 2, ...) or of dicts like a
    .jsonl line. Results go to ``output`` (JSONL, one line each as it finishes) or, with no
    output, to ``summary.results``. ``settings`` are ``RunSettings``'s (``model``,
    ``concurrency``, ``rpm``, ``tpm``, ``max_retries``, ``max_output_tokens``, ``on_long``,
    ``max_input_tokens``, ``timeout_s``, ``seed``, ``timeline``, ``clock``); ``rpm`` / ``tpm``
    not given are learned from the server's headers. The work is done by
    ``runner.core.PromptRunner``, extended by ``runner.engine.Engine``.
    """
    options = {"resume": resume, "overwrite": overwrite, "progress": progress, **settings}
    job, bar = _start(prompts, output, options)  # the bar made here: Jupyter shows it here
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(execute(job, client, bar))
    # Inside Jupyter an event loop is already running in this thread: run on a private loop in
    # a helper thread and wait for it (the progress widget still updates live).
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="runner") as pool:
        return pool.submit(asyncio.run, execute(job, client, bar)).result()
