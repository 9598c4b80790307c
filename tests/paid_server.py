"""A fake *paid* OpenAI-compatible server for the spend-guard tests: it answers on loopback with
the usage a test chooses, as JSON or as the service's server-sent events (Responses'
``response.completed`` carrying usage; Chat's last chunk when ``stream_options.include_usage``
asks), and can hang, drop the connection, gzip its answer (as asked, or regardless) or fail with
a 500 on demand. It
counts what arrives, so a test can assert that a refused request never left the machine.

Not the course simulator on purpose: the guard must be proven against the shapes the real
service sends, whatever the simulator does or does not simulate yet.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Arrival:
    method: str
    path: str
    body: dict | None


@dataclass
class PaidServer:
    """``with PaidServer() as paid: openai.OpenAI(base_url=paid.base_url, ...)``."""

    input_tokens: int = 10
    output_tokens: int = 20
    delay_s: float = 0.0  # before answering (so that requests overlap)
    usage_delay_s: float = 0.0  # in a stream: between the first delta and the usage event
    # set: every answer waits until the test opens it (requests in flight together, for sure)
    gate: threading.Event | None = None
    # next requests: hang, drop, 500, gzip (when the request accepts it), gzip-anyway
    modes: deque[str] = field(default_factory=deque)
    arrivals: list[Arrival] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> PaidServer:
        owner = self

        class Handler(_Handler):
            paid = owner

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # A short poll: shutdown() waits up to one poll_interval (0.5 s by default, per test).
        serve = self._server.serve_forever
        threading.Thread(target=serve, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        if self.gate is not None:
            self.gate.set()
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def next_mode(self) -> str:
        with self._lock:
            return self.modes.popleft() if self.modes else "ok"

    def arrived(self, arrival: Arrival) -> None:
        with self._lock:
            self.arrivals.append(arrival)

    def usage(self, chat: bool) -> dict[str, Any]:
        if chat:
            return {
                "prompt_tokens": self.input_tokens,
                "completion_tokens": self.output_tokens,
                "total_tokens": self.input_tokens + self.output_tokens,
            }
        return {
            "input_tokens": self.input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": self.output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": self.input_tokens + self.output_tokens,
        }


def _response(model: str, usage: dict | None) -> dict:
    return {
        "id": "resp_paid",
        "object": "response",
        "created_at": 1_767_225_600,
        "status": "completed",
        "model": model,
        "output": [
            {
                "type": "message",
                "id": "msg_paid",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Paid answer.", "annotations": []}],
            }
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": usage,
    }


def _chat(model: str, usage: dict | None) -> dict:
    return {
        "id": "chatcmpl-paid",
        "object": "chat.completion",
        "created": 1_767_225_600,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Paid answer."},
                "finish_reason": "stop",
            }
        ],
        "usage": usage,
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    paid: PaidServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.paid.arrived(Arrival("GET", self.path, None))
        self._json(200, {"object": "list", "data": [{"id": "gpt-5.4-mini", "object": "model"}]})

    def do_DELETE(self) -> None:
        self.do_GET()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        self.paid.arrived(Arrival("POST", self.path, body))
        mode = self.paid.next_mode()
        if mode == "hang":
            self.paid._release.wait(30)
            self.close_connection = True
            return
        if mode == "drop":
            self.close_connection = True
            return
        if self.paid.gate is not None:
            self.paid.gate.wait(30)
        if self.paid.delay_s:
            time.sleep(self.paid.delay_s)
        if mode == "500":
            error = {"message": "boom", "type": "server_error", "param": None, "code": None}
            self._json(500, {"error": error})
            return
        if not isinstance(body, dict) or self.path.endswith("/input_tokens"):
            self._json(200, {"object": "response.input_tokens", "input_tokens": 7})
            return
        chat = self.path.endswith("/chat/completions")
        if not (chat or self.path.endswith("/responses")):
            self._json(200, {"object": "list", "data": []})  # any other paid endpoint
            return
        model = str(body.get("model"))
        if body.get("stream"):
            self._stream(chat, model, body)
            return
        answer = (_chat if chat else _response)(model, self.paid.usage(chat))
        accepts_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        self._json(200, answer, gzipped=mode == "gzip-anyway" or (mode == "gzip" and accepts_gzip))

    def _json(self, status: int, body: dict, gzipped: bool = False) -> None:
        data = json.dumps(body).encode()
        if gzipped:
            data = gzip.compress(data)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", "req_paid")
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, chat: bool, model: str, body: dict) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

        def send(event: dict, name: str | None = None) -> None:
            head = f"event: {name}\n" if name else ""
            self.wfile.write(f"{head}data: {json.dumps(event)}\n\n".encode())
            self.wfile.flush()

        try:
            if chat:
                chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": model}
                for piece in ("Paid ", "answer."):
                    delta = {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                    send({**chunk, "choices": [delta], "usage": None})
                time.sleep(self.paid.usage_delay_s)
                options = body.get("stream_options") or {}
                if options.get("include_usage"):
                    send({**chunk, "choices": [], "usage": self.paid.usage(True)})
                self.wfile.write(b"data: [DONE]\n\n")
            else:
                start = _response(model, None) | {"status": "in_progress", "output": []}
                send({"type": "response.created", "sequence_number": 0, "response": start})
                for i, piece in enumerate(("Paid ", "answer.")):
                    delta = {
                        "type": "response.output_text.delta", "sequence_number": i + 1,
                        "item_id": "msg_paid", "output_index": 0, "content_index": 0,
                        "delta": piece, "logprobs": [],
                    }  # fmt: skip
                    send(delta, delta["type"])
                time.sleep(self.paid.usage_delay_s)
                done = _response(model, self.paid.usage(False))
                send({"type": "response.completed", "sequence_number": 9, "response": done})
            self.wfile.flush()
        except OSError:
            pass  # the client went away mid-stream
