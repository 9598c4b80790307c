"""The client-side limiter against the simulator's limits: prints the ratio, asserts nothing.

A burst of work (more than a minute's worth) goes through one shared ``RateLimiter`` from many
threads to a simulator enforcing 600 RPM and 60,000 TPM in real time, each request reserving
about 100 tokens, so both limits bind together. Target: 0 requests refused (429) and served
requests >= 0.97 of the ceiling, the most the limits allow between the first and the last
request (a full minute's bucket, then the refill).
Run: python bench/ratelimit.py [--requests 800] [--threads 16]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

import openai

from course_simulator import Simulator
from course_utils.ratelimit import RateLimiter
from course_utils.timeline import ceiling, events_from_log, outcome_counts, throughput_ratio
from course_utils.tokens import count_tokens, estimate_request_tokens

MODEL = "gpt-5.4-mini"
RPM, TPM = 600, 60_000


def body(i: int, tokens_each: int) -> dict:
    """A request whose reservation is exactly ``tokens_each`` (input + cap)."""
    request = {"model": MODEL, "input": f"Question {i:04d}: what is a token bucket?"}
    cap = tokens_each - estimate_request_tokens({**request, "max_output_tokens": 0})
    return {**request, "max_output_tokens": cap}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=800)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--tokens-each", type=int, default=TPM // RPM)
    args = parser.parse_args()

    count_tokens("warm up", MODEL)  # load the vocabulary before the clock starts
    with Simulator(rpm=RPM, tpm=TPM) as sim:
        client = sim.client(max_retries=0)  # a 429 must show, not be retried away
        client.models.list()  # open a connection (not a generating request: no budget used)
        limiter = RateLimiter(rpm=RPM, tpm=TPM)
        bodies = [body(i, args.tokens_each) for i in range(args.requests)]
        reserved = [estimate_request_tokens(b) for b in bodies]

        def send(i: int) -> str:
            try:
                with limiter.slot(reserved[i]):
                    client.responses.create(**bodies[i])
                return "ok"
            except openai.RateLimitError:
                return "429"

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            outcomes = list(pool.map(send, range(args.requests)))
        elapsed = time.monotonic() - started
        events = events_from_log(sim.requests)

    counts = outcome_counts(events)
    served_times = [e.time_s for e in events if e.ok]
    window = max(served_times) - min(served_times)
    tokens_served = sum(r for r, o in zip(reserved, outcomes, strict=True) if o == "ok")
    by_requests = throughput_ratio(events, RPM)
    by_tokens = tokens_served / (TPM + TPM / 60 * window)
    print(
        f"{args.requests} requests of {args.tokens_each} tokens from {args.threads} threads "
        f"against {RPM} RPM / {TPM:,} TPM, {elapsed:.1f} s"
    )
    print(f"served {counts['ok']}, refused (429) {counts['429']}, other {counts['other']}")
    print(
        f"ceiling over the {window:.1f} s window: {ceiling(RPM, window):.0f} requests, "
        f"{TPM + TPM / 60 * window:,.0f} tokens"
    )
    print(f"served / ceiling: requests {by_requests:.3f}, tokens {by_tokens:.3f}")
    print(
        f"ratio {max(by_requests, by_tokens):.3f} of the binding limit with "
        f"{counts['429']} 429s  (target >= 0.97 with 0)"
    )
    print(limiter)


if __name__ == "__main__":
    main()
