"""Class-server capacity on loopback: a room of learners, and one learner's flood (prints only).

The server runs as its own process (``python -m course_simulator``), as in class. Each
learner is one keep-alive connection with its own key that sends a small Responses request
every few seconds (``--interval``, jittered). Every row prints the learners, the requests/s the
room got, p50/p99 latency, errors (anything but a 200, or a broken connection), and the server
process's CPU (share of one core) and memory (peak resident set). With ``--flood`` a last row
repeats the smallest room while one more key floods the server from ``--flood`` connections
at once from another address (127.0.0.2), and reports the room's figures only (the fair share
at work).

    python bench/classroom.py [--learners 30 100 300] [--seconds 20] [--interval 3] [--flood 300]

Loopback only; every loop is bounded by ``--seconds``. A benchmark, not a test: figures vary with
the machine's load (note ``uptime`` beside them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

from course_utils.pricing import DEFAULT_MODEL

__all__ = ["main"]

BODY = json.dumps({"model": DEFAULT_MODEL, "input": "Explain rate limits in 3 bullet points."})
CONNECT_TIMEOUT_S = 10.0
REPLY_TIMEOUT_S = 30.0


@dataclass
class Tally:
    """What the room saw: one latency per answered request, and the errors."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0


def _request(host: str, key: str) -> bytes:
    body = BODY.encode()
    return (
        f"POST /v1/responses HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> int:
    """Send one request on the connection and read its whole reply; its status."""
    writer.write(raw)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(lines[0].split()[1])


async def _learner(port: int, key: str, stop_at: float, interval: float, tally: Tally) -> None:
    """One learner: one keep-alive connection, a request every ``interval`` s (jittered)."""
    await asyncio.sleep(random.uniform(0, interval))  # learners start at different moments
    raw = _request(f"127.0.0.1:{port}", key)
    writer = None
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port), CONNECT_TIMEOUT_S
        )
        while True:
            started = time.monotonic()
            status = await asyncio.wait_for(_exchange(reader, writer, raw), REPLY_TIMEOUT_S)
            if status == 200:
                tally.latencies.append(time.monotonic() - started)
            else:
                tally.errors += 1
            if started >= stop_at:
                break
            await asyncio.sleep(max(0.0, interval * random.uniform(0.5, 1.5)))
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
        tally.errors += 1  # a broken connection ends this learner's session
    finally:
        if writer is not None:
            writer.close()


async def _flooder(port: int, stop_at: float) -> None:
    """One connection of the flooding key: requests back to back, errors ignored."""
    raw = _request(f"127.0.0.1:{port}", "sk-one-learner-flooding")
    try:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1",
            port,
            local_addr=("127.0.0.2", 0),  # another machine in the room
        )
        while time.monotonic() < stop_at:
            await asyncio.wait_for(_exchange(reader, writer, raw), REPLY_TIMEOUT_S)
        writer.close()
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
        pass


async def _room(port: int, learners: int, seconds: float, interval: float, flood: int) -> Tally:
    tally = Tally()
    stop_at = time.monotonic() + seconds
    tasks = [_learner(port, f"sk-learner-{i:04d}", stop_at, interval, tally)
             for i in range(learners)]  # fmt: skip
    tasks += [_flooder(port, stop_at) for _ in range(flood)]
    await asyncio.gather(*tasks)
    return tally


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _row(learners: int, seconds: float, interval: float, flood: int) -> str:
    server = subprocess.Popen(
        [sys.executable, "-m", "course_simulator", "--port", "0"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        line = server.stdout.readline()  # "Simulator listening on http://127.0.0.1:PORT/v1"
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        asyncio.run(_room(port, 1, 0.0, 0.0, 0))  # warm up (tokenizer, model tables), unmeasured
        cpu_before, started = _cpu_s(server.pid), time.monotonic()
        tally = asyncio.run(_room(port, learners, seconds, interval, flood))
        elapsed = time.monotonic() - started
        cpu = 100 * (_cpu_s(server.pid) - cpu_before) / elapsed
        memory = _peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(10)
    lat = sorted(tally.latencies) or [float("nan")]
    p50 = statistics.median(lat) * 1000
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1000
    label = f"{learners} + flood x{flood}" if flood else str(learners)
    return (
        f"{label:>16} {len(tally.latencies) / elapsed:8.1f} {p50:8.1f} {p99:8.1f} "
        f"{tally.errors:7d} {cpu:7.0f}% {memory:8.0f}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, nargs="+", default=[30, 100, 300])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each row")
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between requests")
    parser.add_argument("--flood", type=int, default=300, help="flooding connections (0: none)")
    args = parser.parse_args(argv)
    print(f"{'learners':>16} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
          f"{'CPU':>8} {'RSS MB':>8}")  # fmt: skip
    for learners in args.learners:
        print(_row(learners, args.seconds, args.interval, 0), flush=True)
    if args.flood:
        print(_row(min(args.learners), args.seconds, args.interval, args.flood), flush=True)
    print(f"(load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
