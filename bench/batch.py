"""``runner --batch`` at scale: N prompts through the Batch API, against the online runner.

A simulator runs in its own process at the default batch time scale (3600: a simulated hour per
real second, a 24h window in 24 s); both runs are the real CLI in its own process, pointed at it
as an OpenAI-compatible server. Printed:

- batch: wall time (upload to the last record written), batches used, records written, ids
  missing or duplicated (must be 0 and 0), 429s (none: batch work has no per-minute limits),
  and the cost at batch prices;
- online (the same prompts, the same model and output cap): wall time, 429s, cost at online
  prices; and the time the online run would need at a tier-1-like limit (``--rpm``/``--tpm``),
  computed from the tokens per request, since running it would take many minutes.

    python bench/batch.py [--prompts 10000] [--max-lines 50000] [--rpm 500] [--tpm 200000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from course_utils.pricing import DEFAULT_MODEL
from course_utils.runner import read_results, results_cost_usd

__all__ = ["main"]

ROOT = Path(__file__).resolve().parents[1]
KEY = "sim-bench-key"
TOPICS = ("tokens", "rate limits", "retries", "jitter", "timeouts", "quotas", "batches", "caching")


def prompts(n: int) -> list[str]:
    """N short prompts, varied enough that the answers differ."""
    return [f"Explain {TOPICS[i % len(TOPICS)]} in one sentence ({i})." for i in range(n)]


def cli(env: dict[str, str], *args: str) -> tuple[float, str, str, int]:
    """Run the runner CLI in its own process: (wall seconds, stdout, stderr, exit code)."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "course_utils.runner", *args, "--no-progress"],
        env=env, capture_output=True, text=True, timeout=3600, check=False,
    )  # fmt: skip
    return time.monotonic() - started, done.stdout, done.stderr, done.returncode


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--prompts", type=int, default=10_000)
    p.add_argument("--max-output-tokens", type=int, default=150)
    p.add_argument("--rpm", type=int, default=500, help="online limit for the computed time")
    p.add_argument("--tpm", type=int, default=200_000, help="online limit for the computed time")
    p.add_argument("--skip-online", action="store_true")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "prompts.txt").write_text("\n".join(prompts(args.prompts)) + "\n", "utf-8")
        sim = subprocess.Popen(
            [sys.executable, "-m", "course_simulator", "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        try:
            assert sim.stdout is not None
            url = sim.stdout.readline().strip().rsplit(" ", 1)[-1]
            env = {
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "COURSE_BACKEND": "openai",  # any OpenAI-compatible server: here, the simulator
                "OPENAI_BASE_URL": url,
                "OPENAI_API_KEY": KEY,
                "COURSE_BUDGET_USD": "1000",
                "COURSE_SPEND_LEDGER": str(folder / "spend.json"),
            }
            common = ["--max-output-tokens", str(args.max_output_tokens), "--model", DEFAULT_MODEL]
            wall, out, err, code = cli(
                env, str(folder / "prompts.txt"), "-o", str(folder / "batch.jsonl"), "--batch",
                *common,
            )  # fmt: skip
            records = read_results(folder / "batch.jsonl")
            ids = Counter(str(r.id) for r in records)
            want = {str(i) for i in range(1, args.prompts + 1)}
            batches = {r.batch_id for r in records}
            print(f"batch  ({args.prompts:,} prompts, exit {code}): {wall:.1f} s wall, "
                  f"{len(batches)} batch(es), {len(records):,} records, "
                  f"missing {len(want - set(ids))}, duplicated {sum(n > 1 for n in ids.values())}, "
                  f"{out.splitlines()[0] if out else err.strip()[-300:]}")  # fmt: skip
            batch_cost = results_cost_usd(records, DEFAULT_MODEL, batch=True)
            print(f"         429s: 0 (batch work has no per-minute buckets); "
                  f"cost at batch prices ${batch_cost:.4f}")  # fmt: skip
            if args.skip_online:
                return 0
            wall_o, out_o, _, code_o = cli(
                env, str(folder / "prompts.txt"), "-o", str(folder / "online.jsonl"), *common
            )
            online = read_results(folder / "online.jsonl")
            online_cost = results_cost_usd(online, DEFAULT_MODEL)
            rate_limited = next(
                (line for line in out_o.splitlines() if "answered 429" in line), "?"
            )
            print(f"online ({args.prompts:,} prompts, exit {code_o}): {wall_o:.1f} s wall with no "
                  f"limit enforced, {len(online):,} records; {rate_limited.strip()}")  # fmt: skip
            same = sum(
                a.output == b.output
                for a, b in zip(
                    sorted(records, key=lambda r: int(r.id)),
                    sorted(online, key=lambda r: int(r.id)),
                    strict=False,
                )
            )
            inputs = [(r.usage or {}).get("input_tokens", 0) for r in online]
            tokens = sum(inputs) / max(1, len(inputs))
            per_request = tokens + args.max_output_tokens  # what the TPM bucket reserves
            ceiling = min(args.rpm, args.tpm / per_request)
            print(f"         cost at online prices ${online_cost:.4f} "
                  f"(batch / online = {batch_cost / online_cost:.2f}); identical answers: "
                  f"{same:,} of {len(online):,}")  # fmt: skip
            minutes = args.prompts / ceiling
            print(f"         at {args.rpm:,} RPM / {args.tpm:,} TPM ({per_request:.0f} tokens "
                  f"reserved per request) online needs >= {minutes:.1f} min")  # fmt: skip
        finally:
            sim.terminate()
            sim.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
