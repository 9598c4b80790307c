"""``python -m course_simulator``: run the simulator in the foreground until a signal.

The one API key a class server accepts can come from ``--api-key-file PATH`` (first line of the
file) or the ``COURSE_SIM_API_KEY`` environment variable; ``--api-key KEY`` works too, but every
local user can read a command line with ``ps``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from course_utils import config

from . import classroom, instructor
from .batch_worker import DEFAULT_BATCH_TIME_SCALE, DEFAULT_ENQUEUED_TOKEN_LIMIT
from .class_keys import ClassroomError
from .http import MAX_CONNECTIONS, READ_TIMEOUT_S
from .server import HOLD_MAX_S, Simulator

__all__ = ["build_parser", "main"]


def _number(kind: type, ok: Callable[[float], bool], rule: str) -> Callable[[str], float]:
    """An argparse ``type=`` that parses ``kind`` and explains the rule a bad value broke."""
    noun = "whole number" if kind is int else "number"

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {noun}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {rule}, got {text}")
        return value

    return parse


_probability = _number(float, lambda v: 0.0 <= v <= 1.0, "between 0 and 1 (a probability)")
_positive_int = _number(int, lambda v: v > 0, "> 0")
_positive_seconds = _number(float, lambda v: 0 < v < float("inf"), "a number of seconds > 0")
_non_negative_int = _number(int, lambda v: v >= 0, ">= 0")
_non_negative_float = _number(float, lambda v: 0 <= v < float("inf"), ">= 0")


def build_parser() -> argparse.ArgumentParser:
    """The CLI's flags (the same names as the ``Simulator`` arguments)."""
    p = argparse.ArgumentParser(
        prog="python -m course_simulator",
        description="Serve the course's offline OpenAI-compatible API until Ctrl+C / SIGTERM.",
        epilog=(
            "API key: with none of --api-key, --api-key-file or COURSE_SIM_API_KEY, any key is "
            "accepted. Prefer --api-key-file or the COURSE_SIM_API_KEY environment variable on "
            "a shared machine: every local user can see a command line (and so --api-key) "
            "with ps. The key is never printed."
        ),
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default: loopback)")
    p.add_argument("--port", type=_non_negative_int, default=0, help="0 picks a free port")
    p.add_argument("--rpm", type=_positive_int, help="requests per minute per key")
    p.add_argument("--tpm", type=_positive_int, help="tokens per minute per key")
    p.add_argument("--fail-rate", type=_probability, default=0.0, help="share of transient faults")
    p.add_argument("--latency-ms", type=_non_negative_float, default=0.0, help="added latency")
    p.add_argument("--seed", type=int, default=0, help="seed of the --fail-rate draw")
    key = p.add_mutually_exclusive_group()
    key.add_argument(
        "--api-key",
        help="accept only this key (others get 401); visible to other users through ps, so "
        "prefer --api-key-file or COURSE_SIM_API_KEY",
    )
    key.add_argument(
        "--api-key-file",
        metavar="PATH",
        type=Path,
        help="read the one accepted key from the first line of this file (not visible in ps)",
    )
    p.add_argument(
        "--latency-scale", type=_non_negative_float, default=0.0,
        help="share of each model's catalogue latency to add (1 = full)",
    )  # fmt: skip
    p.add_argument(
        "--hold-max-s", type=_positive_seconds, default=HOLD_MAX_S,
        help=f"seconds a 'timeout' fault holds a request, then drops it (default {HOLD_MAX_S:g})",
    )  # fmt: skip
    p.add_argument(
        "--batch-time-scale", type=_positive_seconds, default=DEFAULT_BATCH_TIME_SCALE,
        help="simulated seconds of batch work per real second (default %(default)g: a 24h "
        "completion window lasts 24 s)",
    )  # fmt: skip
    p.add_argument(
        "--batch-enqueued-tokens", type=_positive_int, default=DEFAULT_ENQUEUED_TOKEN_LIMIT,
        help="input tokens one key may have enqueued per model in unfinished batches "
        "(default %(default)s)",
    )  # fmt: skip
    p.add_argument(
        "--read-timeout-s", type=_positive_seconds, default=READ_TIMEOUT_S,
        help="seconds an idle connection stays open, and a request has to arrive whole "
        f"(default {READ_TIMEOUT_S:g}; a stalled client gets a 408)",
    )  # fmt: skip
    p.add_argument(
        "--max-connections", type=_positive_int, default=MAX_CONNECTIONS,
        help=f"connections served at once; one more gets a 503 (default {MAX_CONNECTIONS})",
    )  # fmt: skip
    classroom.add_arguments(p)
    return p


def _api_key(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str | None:
    """The one accepted key: --api-key, else --api-key-file, else COURSE_SIM_API_KEY."""
    if args.api_key is not None:
        return str(args.api_key)
    if args.api_key_file is not None:
        path: Path = args.api_key_file
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as err:
            parser.error(f"--api-key-file {path}: the file cannot be read ({err})")
        lines = text.strip().splitlines()
        key = lines[0].strip() if lines else ""
        if not key:
            parser.error(f"--api-key-file {path}: the file is empty; put the key on its first line")
        return key
    try:
        return config.sim_api_key()
    except config.ConfigError as err:
        parser.error(str(err))


def main(argv: Sequence[str] | None = None) -> int:
    """Start, print the URL line first, serve until SIGINT/SIGTERM, exit 0."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in instructor.COMMANDS:  # `admin ...`, `make-keys ...`
        return instructor.main(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    api_key = _api_key(parser, args)
    stop = threading.Event()
    sim = Simulator(
        host=args.host,
        port=args.port,
        rpm=args.rpm,
        tpm=args.tpm,
        fail_rate=args.fail_rate,
        latency_ms=args.latency_ms,
        seed=args.seed,
        api_key=api_key,
        latency_scale=args.latency_scale,
        hold_max_s=args.hold_max_s,
        read_timeout_s=args.read_timeout_s,
        max_connections=args.max_connections,
        batch_time_scale=args.batch_time_scale,
        batch_enqueued_tokens=args.batch_enqueued_tokens,
    )
    try:
        room = classroom.from_args(sim, args)
    except ClassroomError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        sim.start()
    except OSError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"Simulator listening on {sim.base_url}", flush=True)
    now = classroom.current_settings(sim)  # the command line's, or what a restart restored
    limits = f"rpm={now['rpm'] or 'not enforced'}, tpm={now['tpm'] or 'not enforced'}"
    auth = "one API key required" if api_key else "any API key accepted"
    if room.keys is not None:
        auth = "class keys only"
    print(f"{limits}, fail-rate={now['fail_rate']}, {auth}. Stop with Ctrl+C.", flush=True)
    for line in classroom.banner_lines(room):
        print(line, flush=True)
    warning = classroom.host_warning(
        args.host, urlsplit(sim.base_url).port or 0,
        key_rule=room.keys is not None or api_key is not None,
        admin=room.admin_enabled, urls=room.learner_urls(),
    )  # fmt: skip
    if warning:
        print(warning, file=sys.stderr, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
    print("Simulator stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
