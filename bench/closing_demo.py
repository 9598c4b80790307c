"""The closing demo with a whole room at once: prints what the room sees, asserts nothing.

INSTRUCTOR.md's closing demo has every learner run lesson 05 §6 together: the runner CLI on the
course's 24 sample prompts, each learner on their own key, against the class server at the run
sheet's closing values (20 RPM and 10,000 TPM per key, chaos 0.3). This starts that class server
on loopback (30 keys, as a keys file makes them), launches LEARNERS runner processes at the same
moment, each exactly as the notebook cell does (``python -m course_utils.runner PROMPTS -o
OUT --no-progress`` with the class server's variables), and prints, per runner and in sum: wall
time from launch to exit, the summary's first line, the exit code, and the requests the server
saw for that key (429s and faults among them), then the server's CPU time.

Everything is bounded: each runner is killed after --timeout seconds (reported, not hidden).
All the runners share this machine's cores, unlike a room where each runs on its own laptop, so
run it once with --learners 1 as well: the lone figure is what the pacing alone costs.

Run: python bench/closing_demo.py [--learners 30] [--fail-rate 0.3] [--max-connections 256]
     [--timeout 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from course_simulator import Simulator
from course_simulator.class_keys import ClassKeys, make_keys
from course_simulator.classroom import attach
from course_utils.runner import SAMPLE_PROMPTS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--rpm", type=int, default=20)
    parser.add_argument("--tpm", type=int, default=10_000)
    parser.add_argument("--fail-rate", type=float, default=0.3)
    parser.add_argument("--max-connections", type=int, default=256, help="the server's bound")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per runner, at most")
    args = parser.parse_args()

    roster = dict(make_keys(args.learners))
    sim = Simulator(
        rpm=args.rpm, tpm=args.tpm, fail_rate=args.fail_rate, seed=1,
        max_connections=args.max_connections,
    ).start()  # fmt: skip
    attach(sim, keys=ClassKeys(roster))
    cpu_before = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        procs = []
        started = time.monotonic()
        for n, key in enumerate(roster):
            env = {
                **os.environ,
                "COURSE_BACKEND": "openai",
                "OPENAI_BASE_URL": sim.base_url,
                "OPENAI_API_KEY": key,
                "COURSE_SPEND_LEDGER": str(work / f"spend-{n}.json"),
            }
            command = [sys.executable, "-m", "course_utils.runner", str(SAMPLE_PROMPTS),
                       "-o", str(work / f"results-{n}.jsonl"), "--no-progress"]  # fmt: skip
            procs.append(
                subprocess.Popen(
                    command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
                )
            )
        rows: list[tuple[int, float, int | str, list[str]]] = []
        lock = threading.Lock()

        def wait(n: int, proc: subprocess.Popen[str]) -> None:
            """Each runner's own exit time (waiting in turn would stamp a late one)."""
            try:
                out, _ = proc.communicate(timeout=args.timeout)
                code: int | str = proc.returncode
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
                code = "killed"
            seconds = time.monotonic() - started
            with lock:
                rows.append((n, seconds, code, (out or "").strip().splitlines()))

        waiters = [threading.Thread(target=wait, args=item) for item in enumerate(procs)]
        for waiter in waiters:
            waiter.start()
        for waiter in waiters:
            waiter.join()
        rows.sort()
        elapsed = time.monotonic() - started
    server_cpu = time.process_time() - cpu_before
    sim.stop()

    counts: Counter[str] = Counter()
    for record in sim.requests:
        if record.fault:
            counts["injected faults"] += 1
        elif record.status is not None and 200 <= record.status < 300:
            counts["answered"] += 1
        else:
            counts[f"{record.status} {record.outcome}"] += 1

    print(
        f"{args.learners} runners at once, 24 prompts each, {args.rpm} RPM / {args.tpm} TPM "
        f"per key, chaos {args.fail_rate:g}, --max-connections {args.max_connections}; "
        f"load before: {os.getloadavg()[0]:.2f}"
    )
    print(f"{'runner':>6} {'seconds':>8} {'exit':>6}  summary")
    for n, seconds, code, lines in rows:
        first = next((line for line in lines if "succeeded" in line), "(no summary)")
        print(f"{n:>6} {seconds:>8.1f} {code!s:>6}  {first}")
    times = [seconds for _, seconds, _, _ in rows]
    ok = sum(1 for _, _, code, _ in rows if code == 0)
    print(
        f"\nwall time per runner: min {min(times):.1f} s, median {statistics.median(times):.1f} s, "
        f"max {max(times):.1f} s; all done in {elapsed:.1f} s"
    )
    print(f"runners with every prompt answered (exit 0): {ok} of {len(rows)}")
    kinds = ", ".join(f"{n} {kind}" for kind, n in counts.most_common())
    print(f"requests the server saw: {sum(counts.values())} ({kinds}) for {24 * len(rows)} prompts")
    load = os.getloadavg()[0]
    print(f"server CPU: {server_cpu:.1f} s in {elapsed:.1f} s; load after: {load:.2f}")


if __name__ == "__main__":
    main()
