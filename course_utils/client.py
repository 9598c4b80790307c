"""``get_client()``: the one way notebooks get an ``openai.OpenAI`` client, offline or live.

``COURSE_BACKEND=simulator`` (the default) starts one shared in-process course simulator and
points the SDK at it. ``COURSE_BACKEND=openai`` builds a live client from the SDK's own
``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` and guards it with the course's spend cap
(``COURSE_BUDGET_USD``): before a request is sent its worst-case cost (input tokens counted
locally + its output cap, at catalogue prices) is checked against what is left, and the actual
cost is added from each response's ``usage``. The guard is a pair of httpx event hooks on the
client's own HTTP client, so the SDK itself is used exactly as shipped.

A request without an output cap is estimated with ``DEFAULT_OUTPUT_RESERVE_TOKENS`` output
tokens; set ``max_output_tokens`` for a hard bound. Concurrent requests are each checked against
the spend so far, so in-flight requests can together pass the cap by at most their estimates.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
from typing import Any

import httpx2
import openai

from . import config
from .pricing import UnknownModelError, estimate_cost, get_model, list_models
from .simulator import Simulator
from .tokens import DEFAULT_OUTPUT_RESERVE_TOKENS, count_request_input, requested_output_cap

__all__ = [
    "DEFAULT_SIM_LATENCY_SCALE",
    "BudgetExceeded",
    "SpendGuard",
    "backend_banner",
    "get_client",
    "get_simulator",
    "reset_spend",
    "spent_usd",
]

DEFAULT_SIM_LATENCY_SCALE = 0.02  # notebooks see model latency differences in milliseconds
_GENERATING_PATHS = ("/responses", "/chat/completions")

_lock = threading.Lock()
_shared: Simulator | None = None
_banner_shown = False


class BudgetExceeded(openai.OpenAIError):
    """A live request would pass the course's spend cap, so it was not sent."""

    def __init__(self, estimate_usd: float, spent_usd: float, budget_usd: float, what: str) -> None:
        self.estimate_usd, self.spent_usd, self.budget_usd = estimate_usd, spent_usd, budget_usd
        super().__init__(
            f"Not sent: this request could cost up to ${estimate_usd:.4f} ({what}); with "
            f"${spent_usd:.4f} already spent it would pass the course's spend cap of "
            f"${budget_usd:.2f} (COURSE_BUDGET_USD). Lower max_output_tokens, shorten the "
            "input, pick a cheaper model, or raise COURSE_BUDGET_USD deliberately."
        )


def _price_model(model: str) -> str:
    """The catalogue row to price ``model`` with: its own, else the dearest (never undercount)."""
    try:
        return get_model(model).id
    except (UnknownModelError, TypeError):
        return max(list_models(), key=lambda m: (m.output, m.input)).id


def _request_json(request: httpx2.Request) -> dict | None:
    """The JSON body of a generating POST (Responses or Chat), else None."""
    if request.method != "POST" or not request.url.path.endswith(_GENERATING_PATHS):
        return None
    try:
        body = json.loads(request.content or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


class SpendGuard:
    """Checks each live request's worst case before it is sent; adds actual cost from usage."""

    def __init__(self, budget_usd: float) -> None:
        self.budget_usd = budget_usd
        self.spent_usd = 0.0
        self._lock = threading.Lock()

    def estimate(self, body: dict, path: str) -> tuple[float, str]:
        """Worst-case USD of one request body, and a short account of how it was reached."""
        model = body.get("model") if isinstance(body.get("model"), str) else ""
        priced = _price_model(model)
        endpoint = "chat" if path.endswith("/chat/completions") else "responses"
        try:
            input_tokens = count_request_input(body, priced, endpoint)
        except (TypeError, ValueError):  # an odd body: the service rejects it; estimate by size
            input_tokens = len(json.dumps(body)) // 2
        cap = requested_output_cap(body)
        if cap is None:
            cap = DEFAULT_OUTPUT_RESERVE_TOKENS
        what = f"{priced}: {input_tokens:,} input + up to {cap:,} output tokens"
        return estimate_cost(priced, input_tokens, cap), what

    def check(self, request: httpx2.Request) -> None:
        """httpx request hook: raise ``BudgetExceeded`` before a too-costly request leaves."""
        body = _request_json(request)
        if body is None:
            return
        usd, what = self.estimate(body, request.url.path)
        with self._lock:
            if self.spent_usd + usd > self.budget_usd:
                raise BudgetExceeded(usd, self.spent_usd, self.budget_usd, what)

    def track(self, response: httpx2.Response) -> None:
        """httpx response hook: add the actual cost from ``usage`` of a successful answer."""
        body = _request_json(response.request)
        if body is None or response.status_code != 200:
            return
        if "json" not in response.headers.get("content-type", ""):
            return  # a stream: its usage arrives in the last event, not here
        response.read()
        try:
            usage = response.json().get("usage") or {}
        except ValueError:
            return
        inp = usage.get("input_tokens", usage.get("prompt_tokens", 0)) or 0
        out = usage.get("output_tokens", usage.get("completion_tokens", 0)) or 0
        details = usage.get("input_tokens_details") or usage.get("prompt_tokens_details") or {}
        cached = min(details.get("cached_tokens") or 0, inp)
        usd = estimate_cost(_price_model(str(body.get("model", ""))), inp, out, cached)
        with self._lock:
            self.spent_usd += usd

    def http_client(self, client: httpx2.Client | None = None) -> httpx2.Client:
        """An HTTP client for ``openai.OpenAI(http_client=...)`` carrying this guard's hooks."""
        client = client if client is not None else openai.DefaultHttpxClient()
        hooks = client.event_hooks
        client.event_hooks = {
            "request": [*hooks.get("request", []), self.check],
            "response": [*hooks.get("response", []), self.track],
        }
        return client


_guard: SpendGuard | None = None


def _spend_guard() -> SpendGuard:
    global _guard
    with _lock:
        if _guard is None:
            _guard = SpendGuard(config.budget_usd())
        return _guard


def spent_usd() -> float:
    """What live requests in this process have cost so far, from their ``usage``."""
    return _guard.spent_usd if _guard is not None else 0.0


def reset_spend() -> None:
    """Start the spend count afresh (and re-read ``COURSE_BUDGET_USD``)."""
    global _guard
    with _lock:
        _guard = None


def _latency_scale() -> float:
    raw = os.environ.get("COURSE_SIM_LATENCY_SCALE", "").strip()
    if not raw:
        return DEFAULT_SIM_LATENCY_SCALE
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise config.ConfigError(
            f"COURSE_SIM_LATENCY_SCALE={raw!r} must be a number >= 0 (0 = no simulated model "
            f"latency, 1 = the catalogue's full latency; default {DEFAULT_SIM_LATENCY_SCALE})"
        )
    return value


def get_simulator() -> Simulator:
    """The process's shared simulator, started on first use (stopped when Python exits)."""
    global _shared
    with _lock:
        if _shared is None or not _shared.running:
            sim = Simulator(latency_scale=_latency_scale()).start()
            atexit.register(sim.stop)
            _shared = sim
        return _shared


def backend_banner() -> str:
    """One line saying which backend notebooks talk to and how to switch."""
    if config.backend() == "simulator":
        return (
            f"Backend: course simulator at {get_simulator().base_url} (offline: no key, no "
            "cost). For the live API set COURSE_BACKEND=openai and OPENAI_API_KEY."
        )
    base = os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
    return (
        f"Backend: live OpenAI-compatible API at {base}, spend cap ${config.budget_usd():.2f} "
        "(COURSE_BUDGET_USD). Set COURSE_BACKEND=simulator to work offline."
    )


def _show_banner_once() -> None:
    global _banner_shown
    if not _banner_shown:
        _banner_shown = True
        print(backend_banner(), flush=True)


def get_client(**overrides: Any) -> openai.OpenAI:
    """An ``openai.OpenAI`` for the chosen backend; ``overrides`` go to ``openai.OpenAI``."""
    if config.backend() == "simulator":
        client = get_simulator().client(**overrides)
        _show_banner_once()
        return client
    if not (overrides.get("api_key") or os.environ.get("OPENAI_API_KEY", "").strip()):
        raise config.ConfigError(
            "COURSE_BACKEND=openai needs an API key, and OPENAI_API_KEY is not set. Set it in the "
            "environment before starting Jupyter (export OPENAI_API_KEY=...), or unset "
            "COURSE_BACKEND to use the offline simulator. See notebooks/00_start_here.ipynb."
        )
    guard = _spend_guard()
    overrides["http_client"] = guard.http_client(overrides.get("http_client"))
    client = openai.OpenAI(**overrides)
    _show_banner_once()
    return client
