"""Simulator throughput on loopback: sustained requests/s and p50/p99 latency (prints only).

The server runs as its own process (``python -m course_simulator``), as in class, so client
and server do not share a GIL. Two clients are measured, each from N threads for a fixed time:
``httpx2`` (the HTTP library the SDK uses, raw JSON) and the real ``openai`` SDK (which adds request
building and response parsing). No latency is injected. A last row serves the same httpx2
requests in this process with no socket (``Simulator(serve=False)``, ``sim.transport()``), from
one thread: the cost of the app alone.

Requests/s move with whatever else the machine runs (client and server share its cores); the
CPU time per request moves much less, so each row also prints the server process's (read from
``/proc/PID/stat``, Linux only) and this process's: the figures to compare between two versions
of the server.

    python bench/simulator.py [--seconds 5] [--threads 16]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import httpx2
import openai

from course_simulator import Simulator
from course_utils.pricing import DEFAULT_MODEL

__all__ = ["main"]

PROMPT = "Explain rate limits in 3 bullet points."
KEY = "sim-bench-key"


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds process ``pid`` has used so far (None off Linux)."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    """User + system CPU seconds of this process (the clients, or the in-process app)."""
    t = os.times()
    return t.user + t.system


def _run(
    name: str,
    make_call: Callable[[], Callable[[], None]],
    threads: int,
    seconds: float,
    server_pid: int | None = None,
) -> None:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker() -> None:
        nonlocal errors
        call = make_call()
        mine, bad = [], 0
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            try:
                call()
            except Exception:
                bad += 1
                continue
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)
            errors += bad

    cpu_before, own_before = _cpu_seconds(server_pid), _own_cpu_seconds()
    start = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start
    cpu_after, own_after = _cpu_seconds(server_pid), _own_cpu_seconds()
    latencies.sort()
    p = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    print(
        f"{name:<8} {len(latencies) / elapsed:8.0f} req/s  p50 {p[49] * 1000:6.2f} ms  "
        f"p99 {p[98] * 1000:6.2f} ms  ({len(latencies)} ok, {errors} errors, {threads} threads, "
        f"{elapsed:.1f} s)"
    )
    if latencies:
        client = (own_after - own_before) / len(latencies) * 1e6
        server = ""
        if cpu_before is not None and cpu_after is not None:
            server = f"server {(cpu_after - cpu_before) / len(latencies) * 1e6:6.0f} µs, "
        print(f"{'':<8} CPU per request: {server}this process {client:6.0f} µs")


def main(argv: list[str] | None = None) -> None:
    """Start a simulator process, measure both clients, stop it."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=16)
    args = ap.parse_args(argv)
    proc = subprocess.Popen(
        [sys.executable, "-m", "course_simulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        base = proc.stdout.readline().split()[-1]  # type: ignore[union-attr]
        body = {"model": DEFAULT_MODEL, "input": PROMPT, "max_output_tokens": 100}
        headers = {"Authorization": f"Bearer {KEY}"}
        shared_http = httpx2.Client(
            base_url=base, headers=headers, limits=httpx2.Limits(max_connections=64)
        )

        def httpx_call() -> Callable[[], None]:
            def call() -> None:
                shared_http.post("/responses", json=body).raise_for_status()

            return call

        sdk = openai.OpenAI(base_url=base, api_key=KEY, max_retries=0)

        def sdk_call() -> Callable[[], None]:
            def call() -> None:
                sdk.responses.create(**body)

            return call

        print(f"simulator at {base}; cores: {os.cpu_count()}; load: {os.getloadavg()[0]:.2f}")
        _run("warm-up", httpx_call, args.threads, 1.0)
        _run("httpx2", httpx_call, args.threads, args.seconds, proc.pid)
        _run("openai", sdk_call, args.threads, args.seconds, proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    with Simulator(serve=False) as sim:
        local = httpx2.Client(base_url=sim.base_url, headers=headers, transport=sim.transport())

        def in_process_call() -> Callable[[], None]:
            def call() -> None:
                local.post("/responses", json=body).raise_for_status()

            return call

        _run("warm-up", in_process_call, 1, 1.0)
        _run("in-proc", in_process_call, 1, args.seconds)


if __name__ == "__main__":
    main()
