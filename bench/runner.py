"""The prompt runner at the rate-limit ceiling: rate, time, 429s, speed-up, faults, memory.

Each scenario starts a fresh simulator in its own process (``python -m course_simulator``,
so its buckets start full and it does not share a GIL with the runner) and prints one table.

By default (issue 30's yardstick): 900 prompts at 600 RPM, the time to a complete result set
over the physical limit ``(N - burst) / (RPM / 60)`` (burst: the 600 requests a full bucket lets
through at once; goal <= 1.05) three ways: limits told, limits not told (learned from the
headers), and limits not told with 10% of the requests failing (``--fail-rate 0.1``; lost and
duplicated prompts must be 0). ``--all`` adds the sections below:

- **given limits** (``--rpm``/``--tpm`` told to the runner) and **learned limits** (not told: read
  from the ``x-ratelimit-*`` headers): the steady-state rate over the ceiling
  ``min(RPM, TPM / tokens per request)`` (target 0.97 to 1.05); the time to a complete result set
  over the physical limit ``(N - burst) / (ceiling / 60)``, where ``burst`` is what the server's
  full buckets let through at once (target <= 1.05); the 429s seen (target 0); the speed-up over
  the same runner with one request in flight (measured on a slice, scaled to N).
- **--fail-rate 0.3**: the CLI in its own process; prompts lost and duplicated (must be 0 and 0).
- **memory**: the CLI's resident memory over a 100,000-prompt input (flat = streaming works).

    python bench/runner.py [--prompts 900] [--rpm 600] [--tpm 1000000] [--latency-ms 200]
                           [--all [--memory-prompts 100000] [--skip-memory]]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import openai
import psutil

from course_utils.pricing import DEFAULT_MODEL
from course_utils.runner import RunSummary, run_prompts_async

__all__ = ["main"]

ROOT = Path(__file__).resolve().parents[1]
KEY = "sim-bench-key"


class Sim:
    """``python -m course_simulator`` in its own process, stopped on exit."""

    def __init__(self, *flags: str) -> None:
        cmd = [sys.executable, "-m", "course_simulator", "--port", "0", *flags]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, env=env)  # fmt: skip
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip().rsplit(" ", 1)[-1]
        # Warm the server (its tokenizer loads on first use, as a live service's never needs
        # to) with a token count, which takes nothing from the rate-limit buckets.
        with openai.OpenAI(base_url=self.url, api_key=KEY) as client:
            client.responses.input_tokens.count(model=DEFAULT_MODEL, input="warm up")

    def __enter__(self) -> Sim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def prompts(n: int) -> list[str]:
    """N similar short prompts (so tokens per request, and so the ceiling, are well defined)."""
    topics = ("tokens", "rate limits", "retries", "jitter", "timeouts", "quotas", "caching")
    return [f"Explain {topics[i % len(topics)]} in one sentence ({i})." for i in range(n)]


async def run(sim: Sim, items: list[str], **settings: object) -> RunSummary:
    client = openai.AsyncOpenAI(base_url=sim.url, api_key=KEY, max_retries=0)
    try:
        return await run_prompts_async(items, client=client, progress=False, **settings)
    finally:
        await client.close()


def ceiling_figures(summary: RunSummary, n: int) -> dict[str, float]:
    """Steady rate / ceiling and time / physical limit, from the per-request timeline."""
    assert summary.timeline is not None and summary.ceiling_rpm is not None
    ceiling = summary.ceiling_rpm  # requests per minute
    burst = int(ceiling)  # full buckets: a minute's worth of requests at the ceiling
    sent = sorted(a.sent_s for a in summary.timeline)
    # Steady state: the second half of the requests that had to wait for a refill (the first
    # ones after the burst still ride on what refilled while the burst was in flight).
    paced = max(len(sent) - burst, 20)
    steady = sent[-(paced // 2) :]
    rate = 60 * (len(steady) - 1) / (steady[-1] - steady[0])
    physical = max(n - burst, 1) / (ceiling / 60)
    return {
        "ceiling": ceiling,
        "burst": burst,
        "rate": rate,
        "rate_ratio": rate / ceiling,
        "time": summary.elapsed_s,
        "physical": physical,
        "time_ratio": summary.elapsed_s / physical,
    }


def yardstick(args: argparse.Namespace) -> list[tuple[str, str]]:
    """Time / physical limit: limits told, not told, and not told with 10% faults."""
    limits = ["--rpm", str(args.rpm), "--tpm", str(args.tpm), "--latency-ms", str(args.latency_ms)]
    items = prompts(args.prompts)
    burst = min(args.rpm, args.prompts)
    physical = max(args.prompts - burst, 1) / (args.rpm / 60)
    rows: list[tuple[str, str]] = []
    scenarios = (
        ("limits told", {"rpm": args.rpm, "tpm": args.tpm}, []),
        ("limits not told", {}, []),
        ("not told, 10% faults", {"max_retries": 12}, ["--fail-rate", "0.1", "--seed", "7"]),
    )
    load = os.getloadavg()[0]
    for label, settings, flags in scenarios:
        with Sim(*limits, *flags) as sim:
            asyncio.run(run(sim, items[:1]))  # warm up this process (tokenizer, SDK imports)
            time.sleep(60 * 1 / args.rpm)  # the warm-up's request back in the bucket
            summary = asyncio.run(run(sim, items, seed=1, **settings))
        assert summary.results is not None
        ids = Counter(r.id for r in summary.results)
        lost = args.prompts - sum(1 for r in summary.results if r.ok)
        twice = sum(n - 1 for n in ids.values())
        ratio = summary.elapsed_s / physical
        rows.append((label, f"{summary.elapsed_s:.1f} s / {physical:.1f} s = {ratio:.3f}x "
                            f"(goal <= 1.05); {summary.requests:,} requests, "
                            f"{summary.rate_limited} answered 429, lost {lost}, "
                            f"duplicated {twice}"))  # fmt: skip
    rows.append(("machine load (1 min)", f"{load:.1f} before, {os.getloadavg()[0]:.1f} after, "
                                         f"on {os.cpu_count()} CPUs"))  # fmt: skip
    return rows


def pacing(args: argparse.Namespace) -> list[tuple[str, str]]:
    limits = ["--rpm", str(args.rpm), "--tpm", str(args.tpm), "--latency-ms", str(args.latency_ms)]
    items = prompts(args.prompts)
    rows: list[tuple[str, str]] = []
    with Sim(*limits) as sim:  # one prompt at a time, the baseline
        asyncio.run(run(sim, items[:1]))  # warm up this process (tokenizer, SDK imports)
        seq = asyncio.run(run(sim, items[: args.sequential_slice], concurrency=1))
    per_prompt = seq.elapsed_s / args.sequential_slice
    rows.append(("sequential (1 in flight)", f"{per_prompt * 1000:.0f} ms per prompt, "
                 f"{per_prompt * args.prompts:.0f} s for {args.prompts:,} (scaled from "
                 f"{args.sequential_slice})"))  # fmt: skip
    for label, given in (("limits given", True), ("limits learned from headers", False)):
        extra = {"rpm": args.rpm, "tpm": args.tpm} if given else {}
        with Sim(*limits) as sim:
            summary = asyncio.run(run(sim, items, timeline=True, seed=1, **extra))
        f = ceiling_figures(summary, args.prompts)
        rows += [
            (label, f"{summary.line()}; limits {summary.rpm:,.0f} RPM, {summary.tpm:,.0f} TPM "
                    f"({summary.limits_source}); {summary.tokens_per_request:.0f} tokens/request"),
            ("  ceiling", f"{f['ceiling']:,.0f} requests/min = min(RPM, TPM / tokens per request); "
                          f"burst {f['burst']:,}"),
            ("  steady rate / ceiling", f"{f['rate']:,.0f} / {f['ceiling']:,.0f} = "
                                        f"{f['rate_ratio']:.3f}  (target 0.97-1.05)"),
            ("  time / physical limit", f"{f['time']:.1f} s / {f['physical']:.1f} s = "
                                        f"{f['time_ratio']:.3f}  (target <= 1.05)"),
            ("  429s", f"{summary.rate_limited}  (target 0)"),
            ("  speed-up over sequential", f"{per_prompt * args.prompts / f['time']:.1f}x"),
        ]  # fmt: skip
    return rows


def cli_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "COURSE_"))}
    ledger = Path(tempfile.gettempdir()) / "runner-bench-spend.json"  # simulator dollars only
    env.update(
        PYTHONPATH=str(ROOT), COURSE_BACKEND="openai", OPENAI_BASE_URL=url, OPENAI_API_KEY=KEY,
        COURSE_BUDGET_USD="1000000", COURSE_SPEND_LEDGER=str(ledger),
    )  # fmt: skip
    return env


def faults(args: argparse.Namespace, tmp: Path) -> list[tuple[str, str]]:
    path = tmp / "faults.txt"
    path.write_text("".join(p + "\n" for p in prompts(args.prompts)), "utf-8")
    out = tmp / "faults.jsonl"
    with Sim("--fail-rate", "0.3", "--seed", "7") as sim:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "course_utils.runner", str(path), "-o", str(out),
             "--no-progress", "--seed", "1"],
            env=cli_env(sim.url), capture_output=True, text=True,
        )  # fmt: skip
        took = time.monotonic() - started
    records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    ids = Counter(r["id"] for r in records)
    lost = args.prompts - len(ids)
    duplicated = sum(n - 1 for n in ids.values())
    attempts = sum(r["attempts"] for r in records)
    failed = Counter(r["error_type"] for r in records if not r["ok"])
    return [
        ("--fail-rate 0.3 (CLI process)", f"exit {done.returncode}; {done.stdout.splitlines()[0]}"
                                          f"; {attempts:,} requests for {args.prompts:,} prompts "
                                          f"in {took:.1f} s"),
        ("  lost / duplicated", f"{lost} / {duplicated}  (target 0 / 0)"),
        ("  failed after retries", ", ".join(f"{k}: {v}" for k, v in failed.items()) or "none"),
    ]  # fmt: skip


def memory(args: argparse.Namespace, tmp: Path) -> list[tuple[str, str]]:
    n = args.memory_prompts
    path = tmp / "many.txt"
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(n):
            handle.write(f"Explain retry {i} in one sentence.\n")
    out = tmp / "many.jsonl"
    samples: list[tuple[int, float]] = []  # (bytes written, RSS MB); bytes become records below
    with Sim() as sim:
        proc = subprocess.Popen(
            [sys.executable, "-m", "course_utils.runner", str(path), "-o", str(out),
             "--no-progress", "--max-output-tokens", "16", "--concurrency", "16"],
            env=cli_env(sim.url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        watched = psutil.Process(proc.pid)
        stop = threading.Event()

        def watch() -> None:
            while not stop.wait(0.5):
                try:
                    rss = watched.memory_info().rss / 2**20
                except psutil.Error:
                    return
                samples.append((out.stat().st_size if out.exists() else 0, rss))

        watcher = threading.Thread(target=watch, daemon=True)
        started = time.monotonic()
        watcher.start()
        stdout, _ = proc.communicate()
        took = time.monotonic() - started
        stop.set()
        watcher.join()
    per_record = out.stat().st_size / n
    samples = [(int(size / per_record), rss) for size, rss in samples]
    marks = []
    for share in (0.01, 0.1, 0.5, 0.9):
        near = [s for s in samples if s[0] >= share * n]
        if near:
            marks.append(f"{near[0][0]:,}: {near[0][1]:.0f} MB")
    peak = max(s[1] for s in samples) if samples else float("nan")
    first = next((s[1] for s in samples if s[0] >= 0.01 * n), float("nan"))
    return [
        (f"memory over {n:,} prompts (CLI)", f"{stdout.splitlines()[0]} in {took:.0f} s "
                                             f"({n / took:,.0f} prompts/s)"),
        ("  RSS after N records", "; ".join(marks)),
        ("  peak RSS / RSS at 1%", f"{peak:.0f} MB / {first:.0f} MB = {peak / first:.2f}"),
    ]  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--prompts", type=int, default=900)
    p.add_argument("--rpm", type=int, default=600)
    p.add_argument("--tpm", type=int, default=1_000_000)
    p.add_argument("--latency-ms", type=int, default=200)
    p.add_argument("--sequential-slice", type=int, default=60)
    p.add_argument("--memory-prompts", type=int, default=100_000)
    p.add_argument("--skip-memory", action="store_true")
    p.add_argument("--all", action="store_true", help="also pacing, 30%% faults, memory")
    p.add_argument("--only", choices=("yardstick", "pacing", "faults", "memory"))
    args = p.parse_args()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.only in (None, "yardstick"):
            rows += yardstick(args)
        if not (args.all or args.only):
            pass
        elif args.only in (None, "pacing"):
            rows += pacing(args)
        if (args.all or args.only) and args.only in (None, "faults"):
            rows += faults(args, Path(tmp))
        if (args.all or args.only) and args.only in (None, "memory") and not args.skip_memory:
            rows += memory(args, Path(tmp))
    print(f"\nrunner bench: {args.prompts:,} prompts, {args.rpm:,} RPM, {args.tpm:,} TPM, "
          f"{args.latency_ms} ms simulated latency, {os.cpu_count()} CPUs")  # fmt: skip
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


if __name__ == "__main__":
    main()
