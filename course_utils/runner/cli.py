"""``python -m course_utils.runner PROMPTS [-o results.jsonl] ...``: the command line.

Exit codes: 0 every prompt succeeded; 1 some failed (or the run stopped early); 2 bad usage or
input (nothing is written then).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from collections.abc import Callable

from .. import config
from ..client import backend_banner
from ..pricing import DEFAULT_MODEL
from .engine import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_OUTPUT_TOKENS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT_S,
    ON_LONG,
    Progress,
    execute,
    prepare,
)
from .inputs import MIN_OUTPUT_TOKENS, InputError

__all__ = ["build_parser", "main"]


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
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("-v", "--verbose", action="store_true", help="log every retry decision")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 all ok, 1 some failed, 2 bad usage or input)."""
    args = build_parser().parse_args(argv)  # bad usage: argparse exits 2 with the usage line
    if args.verbose:
        from ..logs import setup_logging

        setup_logging("INFO", stream=sys.stderr)
    try:
        job = prepare(
            args.prompts, args.output, resume=args.resume, overwrite=args.overwrite,
            model=args.model, concurrency=args.concurrency, rpm=args.rpm, tpm=args.tpm,
            max_retries=args.max_retries, max_output_tokens=args.max_output_tokens,
            on_long=args.on_long, max_input_tokens=args.max_input_tokens,
            timeout_s=args.timeout, seed=args.seed,
        )  # fmt: skip
        print(backend_banner(), file=sys.stderr, flush=True)
        for note in job.summary.notes:
            print(note, file=sys.stderr, flush=True)
        bar = Progress(job.total - len(job.skip), not args.no_progress)
        summary = asyncio.run(execute(job, None, bar))
    except (InputError, config.ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"interrupted: the records written so far are in {args.output}; run the same "
            "command with --resume to finish",
            file=sys.stderr,
        )
        return 130
    print(summary.report(), flush=True)
    return summary.exit_code


if __name__ == "__main__":
    sys.exit(main())
