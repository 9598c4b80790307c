"""``python -m course_utils.runner PROMPTS [-o results.jsonl] ...``: the command line.

Exit codes: 0 every prompt succeeded; 1 some failed (or the run stopped early, or the output
could not be written: ``--resume`` finishes it); 2 bad usage or input, or the output is in use
by another run (nothing is written then); 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import sys
from collections.abc import Callable

import openai

from .. import config
from ..client import backend_banner
from ..fitting import ON_LONG
from ..pricing import DEFAULT_MODEL
from ..spend import BudgetExceeded
from .batch import BatchError, batch_exit_code, run_batch
from .engine import Progress
from .inputs import MIN_OUTPUT_TOKENS, InputError
from .jobs import execute, prepare
from .outputs import BatchState, OutputError
from .settings import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_OUTPUT_TOKENS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT_S,
    RunSettings,
)

__all__ = ["build_parser", "main", "main_batch", "settings_from"]

ONLINE_ONLY = ("concurrency", "rpm", "tpm", "max_retries", "timeout", "seed")


def _whole(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {text}")
        return value

    return parse


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a number of seconds > 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The CLI's flags (DESIGN.md, "Runner CLI", plus --on-long and a few more)."""
    p = argparse.ArgumentParser(
        prog="python -m course_utils.runner",
        description=(
            "Run every prompt of a file at the rate-limit ceiling, retrying what is transient; "
            "one JSON line per prompt. Exit 0: all succeeded; 1: some failed; 2: bad usage or "
            "input. The backend is the notebooks' (COURSE_BACKEND)."
        ),
    )
    p.add_argument("prompts", help='.txt (one prompt a line) or .jsonl ({"id", "prompt", options})')
    p.add_argument(
        "-o", "--output", default="results.jsonl", help="JSONL results (default: %(default)s)"
    )
    p.add_argument("--model", default=DEFAULT_MODEL, help="model id (default: %(default)s)")
    p.add_argument(
        "--concurrency",
        type=_whole(1),
        default=DEFAULT_CONCURRENCY,
        help="requests in flight at most (default: %(default)s)",
    )
    p.add_argument(
        "--rpm",
        type=_whole(1),
        help="requests per minute to pace to (default: learned from headers)",
    )
    p.add_argument(
        "--tpm", type=_whole(1), help="tokens per minute to pace to (default: learned from headers)"
    )
    p.add_argument(
        "--max-retries",
        type=_whole(0),
        default=DEFAULT_MAX_RETRIES,
        help="retries per request for transient errors (default: %(default)s)",
    )
    p.add_argument(
        "--max-output-tokens",
        type=_whole(MIN_OUTPUT_TOKENS),
        default=DEFAULT_MAX_OUTPUT_TOKENS,
        help="output cap per request (default: %(default)s)",
    )
    p.add_argument(
        "--on-long",
        choices=ON_LONG,
        default="chunk",
        help="a prompt over the context budget: chunk it, truncate it, or fail it unsent "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--max-input-tokens",
        type=_whole(1),
        help="input tokens per request at most (default: the model's context window and the "
        "TPM limit, less the output cap)",
    )
    p.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT_S,
        help="seconds to wait for one answer (default: %(default)s)",
    )
    p.add_argument("--seed", type=int, help="seed for the retry jitter (reproducible runs)")
    p.add_argument(
        "--resume",
        action="store_true",
        help="keep the output's finished records and run only the rest",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="delete an existing output and start afresh"
    )
    p.add_argument(
        "--batch",
        action="store_true",
        help="send the prompts through the Batch API instead: half price, no per-minute limits, "
        "results within 24h; Ctrl+C leaves the batches running (--resume collects them)",
    )
    p.add_argument(
        "--cancel",
        action="store_true",
        help="with --batch: cancel this output's batches in flight and write what they finished",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("-v", "--verbose", action="store_true", help="log every retry decision")
    return p


def settings_from(args: argparse.Namespace) -> RunSettings:
    """The run's settings from the parsed flags (online and batch runs share them)."""
    return RunSettings(
        model=args.model, concurrency=args.concurrency, rpm=args.rpm, tpm=args.tpm,
        max_retries=args.max_retries, max_output_tokens=args.max_output_tokens,
        on_long=args.on_long, max_input_tokens=args.max_input_tokens, timeout_s=args.timeout,
        seed=args.seed,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 all ok, 1 some failed, 2 bad usage or input)."""
    parser = build_parser()
    args = parser.parse_args(argv)  # bad usage: argparse exits 2 with the usage line
    if args.cancel and not args.batch:
        parser.error("--cancel stops batches: use it with --batch")
    try:
        settings = settings_from(args)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.batch:
        return main_batch(args, parser, settings)
    if args.verbose:
        from ..logs import setup_logging

        setup_logging("INFO", stream=sys.stderr)
    try:
        job = prepare(
            args.prompts, args.output, settings, resume=args.resume, overwrite=args.overwrite
        )
        print(backend_banner(), file=sys.stderr, flush=True)
        for note in job.summary.notes:
            print(note, file=sys.stderr, flush=True)
        bar = Progress(job.total - len(job.skip), not args.no_progress)
        summary = asyncio.run(execute(job, None, bar))
    except (InputError, config.ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OutputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            f"interrupted: the records written so far are in {args.output}; run the same "
            "command with --resume to finish",
            file=sys.stderr,
        )
        return 130
    print(summary.report(), flush=True)
    return summary.exit_code


def _service_error(err: openai.OpenAIError, output: str) -> tuple[str, int]:
    """What to tell the user about an API error the batch path met, and the exit code."""
    state = BatchState.path_for(output).name
    if isinstance(err, openai.AuthenticationError | openai.PermissionDeniedError):
        return (
            f"the service refused the API key ({err.status_code}): check OPENAI_API_KEY (and "
            "OPENAI_BASE_URL), then run the same command again with --resume",
            2,
        )
    if isinstance(err, openai.APIConnectionError):
        return (
            f"cannot reach the service ({type(err).__name__}): is it running, and is "
            "OPENAI_BASE_URL right? Batches already submitted keep running there and "
            f"{state} lists them: run again with --resume once it answers",
            1,
        )
    status = getattr(err, "status_code", "?")
    return (f"the service answered {status}: {err}. Run again with --resume to carry on", 1)


def main_batch(
    args: argparse.Namespace, parser: argparse.ArgumentParser, settings: RunSettings
) -> int:
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

    try:
        with contextlib.redirect_stdout(sys.stderr):  # the backend banner, as online: stderr
            summary = run_batch(
                args.prompts, args.output, resume=args.resume, overwrite=args.overwrite,
                cancel=args.cancel, progress=not args.no_progress, log=say, settings=settings,
            )  # fmt: skip
    except (InputError, config.ConfigError, BatchError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (BudgetExceeded, OutputError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except openai.OpenAIError as err:
        message, code = _service_error(err, args.output)
        print(f"error: {message}", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        print(
            f"interrupted: the batches keep running on the service and "
            f"{BatchState.path_for(args.output)} lists them; run the same command with --resume "
            "to collect them, or with --cancel to stop them",
            file=sys.stderr,
        )
        return 130
    print(summary.report(), flush=True)
    return batch_exit_code(summary)


if __name__ == "__main__":
    sys.exit(main())
