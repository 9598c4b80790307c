"""Simulator throughput on loopback: sustained requests/s and p50/p99 latency (prints only).

The server runs as its own process (``python -m course_simulator``), as in class, so client
and server do not share a GIL. Every row sends the same request, ``POST /v1/responses`` with a
key and the same JSON body (``raw-new`` changes only the prompt's words), for a fixed time; no
latency is injected. The rows:

- ``raw``: what the server itself can serve. A minimal HTTP/1.1 keep-alive client on plain
  sockets (``--connections`` of them, a thread each): the request's bytes are built once, each
  response is read by its Content-Length, its status must be 200 and its body a Responses-API
  object (``"object": "response"``, parsed). Its own CPU per request is a fraction of the
  server's (about a fifth; the httpx2 client's is twice the server's), so this row's requests/s
  is the server's own rate on this machine (the figure issue 30 asks to be at least 1,000).
  After the first, its answer comes from the server's memory of answers already written
  (``course_simulator.answer_memo``), as a room's repeated lesson cells do.
- ``raw-new``: the same client, but every request's prompt is new (a number appended), so each
  answer is written afresh: what a room of different prompts costs the server.
- ``httpx2``: the HTTP library the SDK uses, posting JSON from ``--threads`` threads: what a
  learner's hand-written HTTP code costs (its client takes as much CPU as the server).
- ``openai``: the real SDK from ``--threads`` threads (request building, response parsing and
  validation on top): what a lesson's client code costs.
- ``in-proc``: the httpx2 requests served in this process with no socket
  (``Simulator(serve=False)``, ``sim.transport()``), from one thread: the app alone.

Requests/s move with whatever else the machine runs (client and server share its cores); the
CPU time per request moves much less, so each row also prints the server process's (read from
``/proc/PID/stat``, Linux only) and this process's (the client's; in-proc: client and app):
the figures to compare between two versions of the server.

    python bench/simulator.py [--seconds 5] [--threads 16] [--connections 4]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import socket
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


class RawConnection:
    """One keep-alive HTTP/1.1 connection that sends prepared requests and checks the answers.

    Deliberately minimal (no header parsing beyond the status line and Content-Length), so its
    CPU per request stays a small fraction of the server's. ``next_request()`` gives the bytes
    of the next request to send.
    """

    def __init__(self, host: str, port: int, next_request: Callable[[], bytes]) -> None:
        self._sock = socket.create_connection((host, port))
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._next_request = next_request
        self._buffer = b""

    def call(self) -> None:
        """Send a request; read and check one response (raises on anything but a 200
        whose body is a Responses-API object)."""
        self._sock.sendall(self._next_request())
        data = self._buffer
        while (end := data.find(b"\r\n\r\n")) < 0:
            data += self._receive()
        head, data = data[: end + 2], data[end + 4 :]
        start = head.find(b"\r\ncontent-length:") + 1 or head.find(b"\r\nContent-Length:") + 1
        if not start:
            raise ValueError(f"no Content-Length in {head[:200]!r}")
        length = int(head[start + 16 : head.index(b"\r\n", start)])
        while len(data) < length:
            data += self._receive()
        body, self._buffer = data[:length], data[length:]
        if not head.startswith(b"HTTP/1.1 200 "):
            raise ValueError(f"{head[:40]!r}: {body[:200]!r}")
        if json.loads(body).get("object") != "response":
            raise ValueError(f"not a Responses-API object: {body[:200]!r}")

    def _receive(self) -> bytes:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk


def _address(base: str) -> tuple[str, int]:
    host, port = base.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)
    return host, int(port)


def _raw_request(base: str, body: dict, key: str) -> bytes:
    """The bytes of a POST /v1/responses with ``body`` and ``key`` (as the other rows send)."""
    host, port = _address(base)
    payload = json.dumps(body).encode()
    head = (
        f"POST /v1/responses HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


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
    ap.add_argument("--threads", type=int, default=16, help="httpx2 and openai client threads")
    ap.add_argument("--connections", type=int, default=4, help="raw client connections")
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

        host, port = _address(base)
        same = itertools.repeat(_raw_request(base, body, KEY)).__next__
        numbers = itertools.count()  # shared by the threads (next() is atomic)

        def new_prompt() -> bytes:
            prompt = f"{PROMPT} (request {next(numbers)})"
            return _raw_request(base, {**body, "input": prompt}, KEY)

        def raw_call() -> Callable[[], None]:
            return RawConnection(host, port, same).call

        def raw_new_call() -> Callable[[], None]:
            return RawConnection(host, port, new_prompt).call

        print(f"simulator at {base}; cores: {os.cpu_count()}; load: {os.getloadavg()[0]:.2f}")
        _run("warm-up", raw_call, args.connections, 1.0)
        _run("raw", raw_call, args.connections, args.seconds, proc.pid)
        _run("raw-new", raw_new_call, args.connections, args.seconds, proc.pid)
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
