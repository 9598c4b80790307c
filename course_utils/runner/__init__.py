"""The mini project: run a file of prompts at the rate-limit ceiling, one result per prompt.

    python -m course_utils.runner prompts.txt -o results.jsonl [--rpm N] [--tpm N] [--resume]

Every prompt ends as exactly one JSON line in the output (the course's one record schema,
``course_utils.results.Result``), written and flushed the moment it finishes, so a crash loses
only the requests in flight and ``--resume`` carries on from what the file holds. One run at a
time per output: a second one is refused (exit 2), naming the process that holds it.

The modules, in reading order:

- ``core``: the teaching core, ``PromptRunner`` (asyncio pool + pacing + retries + records);
- ``engine``: the production extras built on it (limits from headers, a pool-wide pause after a
  429, stopping on quota, the summary and progress bar);
- ``settings`` (one ``RunSettings`` for every path), ``inputs`` (prompt files, checked),
  ``outputs`` (the JSONL file, its lock, ``--resume``, the batch state), ``summary``;
- ``jobs``: ``run_prompts`` from start to end; ``batch``: the same through the Batch API;
  ``cli``: the command line for both.

What the runner does for each prompt, in order:

1. **Pre-flight**: a prompt too long for the context budget (the model's window, and the TPM limit,
   minus the output cap) is chunked, truncated or refused before anything is sent
   (``--on-long``, ``course_utils.fitting``); the record's ``message`` says what was done.
2. **Pacing**: a client-side RPM + TPM limiter (``course_utils.ratelimit``) lets a request leave
   only when the server's buckets have room for it. Limits not given are learned from the
   ``x-ratelimit-*`` headers of the first answer, remaining allowance included, so the run spends
   the burst the server grants at the start and then holds the ceiling
   ``min(RPM, TPM / tokens per request)`` without 429s.
3. **Retries**: transient failures (``errors.classify``: rate limit, 5xx, connection, timeout) are
   retried with jittered exponential backoff that honours ``retry-after``
   (``course_utils.backoff``). A 429 is recognised by its status and exception class, never by
   the words in its body, and backs off the *whole pool once* (``RateLimiter.pause``), not every
   worker on its own schedule.
4. **Stopping**: a quota error or a rejected key means every later request fails the same way. The
   runner stops sending, records each remaining prompt as not attempted (``attempts=0``) with
   the reason, and exits 1; ``--resume`` sends them once the account is fixed.

Why asyncio and not a thread pool
---------------------------------
At the ceiling the question is *when* each request leaves, and whether enough are in flight to
hold the rate while each waits on the network (Little's law: in flight = rate x latency, so
1,200 RPM at a live 2 s latency is 40 at once), while other prompts sleep out backoffs.

- *A sleeping retry should cost nothing.* In a thread pool a thread that sleeps out a backoff
  keeps its slot, so under faults the pool runs with fewer requests on the wire just when it
  needs more, unless it is sized for the worst case. Here a slot (``--concurrency``) is held only
  while a request is on the wire; the prompts waiting on a backoff or on the limiter are small
  tasks (``TASKS_PER_SLOT`` per slot). Measured on the course machine (24 slots, 1 s answers,
  30% transient faults, 800 prompts): 45.9 s when a sleeping retry kept its slot, 40.7 s now.
- *One place decides departures.* All tasks share one limiter on one event loop: the limiter's
  reservations are exact, ``pause()`` after a 429 holds every waiter at once, and a quota stop
  is one ``Event`` every waiter sees, instead of N threads to poll and wake.
- *The 2 cores are shared.* With threads, dozens of workers contend for the GIL with the SDK's
  own response parsing (and, offline, with the simulator), which delays wake-ups and blurs the
  pacing; one loop thread wakes exactly when the limiter says (bench/runner.py: steady rate /
  ceiling 1.000 with 0 429s).

The lessons use the synchronous client for readability; the SDK's ``AsyncOpenAI`` has the same
methods, exceptions and headers, so nothing learned there changes here, and ``run_prompts`` is
a plain function that runs the same way in a script and in Jupyter (whose own event loop is
already running: the run then gets a private loop in a helper thread).

Memory stays flat over any number of prompts: the input is streamed twice (a validation pass,
then the run), results go straight to the file, and only the ids (a set, for duplicate and resume
checks) grow with the input. ``bench/runner.py`` measures it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..fitting import ON_LONG
from .batch import batch_input_file, results_cost_usd, run_batch
from .cli import build_parser, main
from .core import PromptRunner
from .inputs import REQUEST_OPTIONS, InputError, PromptItem, iter_prompts, scan_prompts
from .jobs import prepare, run_prompts, run_prompts_async
from .outputs import STOP_CATEGORIES, is_final, read_results
from .settings import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_OUTPUT_TOKENS,
    DEFAULT_MAX_RETRIES,
    RunSettings,
)
from .summary import Attempt, RunSummary

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MAX_OUTPUT_TOKENS",
    "DEFAULT_MAX_RETRIES",
    "ON_LONG",
    "REQUEST_OPTIONS",
    "SAMPLE_PROMPTS",
    "STOP_CATEGORIES",
    "Attempt",
    "InputError",
    "PromptItem",
    "PromptRunner",
    "RunSettings",
    "RunSummary",
    "batch_input_file",
    "build_parser",
    "is_final",
    "iter_prompts",
    "main",
    "prepare",
    "read_results",
    "results_cost_usd",
    "run_batch",
    "run_prompts",
    "run_prompts_async",
    "scan_prompts",
]

SAMPLE_PROMPTS = Path(str(resources.files("course_utils") / "data" / "prompts.txt"))
"""The prompts file shipped with the course (24 short questions on the course's topics)."""
