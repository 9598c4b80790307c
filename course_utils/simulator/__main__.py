"""``python -m course_utils.simulator``: run the simulator in the foreground until a signal."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from .server import HOLD_MAX_S, Simulator

__all__ = ["build_parser", "main"]


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (a probability), got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds > 0, got {text}")
    return value


def _non_negative(kind: type) -> argparse._ActionType:  # type: ignore[name-defined]
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__}") from None
        if value < 0:
            raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The CLI's flags (the same names as the ``Simulator`` arguments)."""
    p = argparse.ArgumentParser(
        prog="python -m course_utils.simulator",
        description="Serve the course's offline OpenAI-compatible API until Ctrl+C / SIGTERM.",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default: loopback)")
    p.add_argument("--port", type=_non_negative(int), default=0, help="0 picks a free port")
    p.add_argument("--rpm", type=_positive_int, help="requests per minute per key")
    p.add_argument("--tpm", type=_positive_int, help="tokens per minute per key")
    p.add_argument("--fail-rate", type=_probability, default=0.0, help="share of transient faults")
    p.add_argument("--latency-ms", type=_non_negative(float), default=0.0, help="added latency")
    p.add_argument("--seed", type=int, default=0, help="seed of the --fail-rate draw")
    p.add_argument("--api-key", help="accept only this key (others get 401); never printed")
    p.add_argument(
        "--latency-scale", type=_non_negative(float), default=0.0,
        help="share of each model's catalogue latency to add (1 = full)",
    )  # fmt: skip
    p.add_argument(
        "--hold-max-s", type=_positive_float, default=HOLD_MAX_S,
        help=f"seconds a 'timeout' fault holds a request, then drops it (default {HOLD_MAX_S:g})",
    )  # fmt: skip
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Start, print the URL line first, serve until SIGINT/SIGTERM, exit 0."""
    args = build_parser().parse_args(argv)
    stop = threading.Event()
    sim = Simulator(
        host=args.host,
        port=args.port,
        rpm=args.rpm,
        tpm=args.tpm,
        fail_rate=args.fail_rate,
        latency_ms=args.latency_ms,
        seed=args.seed,
        api_key=args.api_key,
        latency_scale=args.latency_scale,
        hold_max_s=args.hold_max_s,
    )
    try:
        sim.start()
    except OSError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"Simulator listening on {sim.base_url}", flush=True)
    limits = f"rpm={args.rpm or 'not enforced'}, tpm={args.tpm or 'not enforced'}"
    auth = "one API key required" if args.api_key else "any API key accepted"
    print(f"{limits}, fail-rate={args.fail_rate}, {auth}. Stop with Ctrl+C.", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
    print("Simulator stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
