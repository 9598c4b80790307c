"""The live spend cap: one total per learner, kept in a small ledger file, enforced before sending.

``COURSE_BUDGET_USD`` (default $0.50) is one total across every notebook, script and kernel
restart, not a budget per kernel. What live requests cost (from each answer's ``usage``, at the
catalogue's prices) is added to a ledger file (``COURSE_SPEND_LEDGER``, by default ``spend.json``
in the user's cache folder), so a new kernel starts from what was already spent. ``reset_spend()``
starts the count at $0 again; nothing else ever lowers it.

Before a request leaves, ``SpendGuard`` estimates its worst case (input tokens counted locally
with ``tokens.count_request_input`` + its output cap, or ``DEFAULT_OUTPUT_RESERVE_TOKENS`` when it
sets none) and refuses it with ``BudgetExceeded`` if spent + held + estimate would pass the cap.
The estimate is *held* while the request is in flight and settled when its answer arrives, so
concurrent requests in one process cannot pass the cap together. A request that never gets an
answer (a timeout, a dropped connection) keeps its hold until ``reset_spend()`` -- the service
may have billed it. (Several kernels sending at the same instant each see the others' settled
spend only; the holds are per process.)

The guard is a pair of httpx event hooks on the client's own HTTP client, so the SDK itself is
used exactly as shipped. The ledger is safe under concurrent kernels: every update takes an
exclusive file lock (``fcntl.flock``; ``msvcrt`` on Windows) and replaces the file atomically.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import openai

from . import config
from .pricing import UnknownModelError, estimate_cost, get_model, list_models
from .tokens import DEFAULT_OUTPUT_RESERVE_TOKENS, count_request_input, requested_output_cap

__all__ = [
    "BudgetExceeded",
    "SpendGuard",
    "SpendLedger",
    "SpendTotal",
    "remaining_usd",
    "reset_spend",
    "spend_guard",
    "spend_summary",
    "spent_usd",
]

# The generating endpoints the guard estimates (path suffix -> tokens endpoint name).
_GENERATING_PATHS = {"/responses": "responses", "/chat/completions": "chat"}
_HELD = "course_spend_held_usd"  # request.extensions key: the estimate held for that request


class BudgetExceeded(openai.OpenAIError):
    """A live request would pass the course's spend cap, so it was not sent."""

    def __init__(self, estimate_usd: float, spent_usd: float, budget_usd: float, what: str) -> None:
        self.estimate_usd, self.spent_usd, self.budget_usd = estimate_usd, spent_usd, budget_usd
        super().__init__(
            f"Not sent: this request could cost up to ${estimate_usd:.4f} ({what}); with "
            f"${spent_usd:.4f} already spent it would pass the course's spend cap of "
            f"${budget_usd:.2f} (COURSE_BUDGET_USD, one total across notebooks). Lower "
            "max_output_tokens, shorten the input, pick a cheaper model, or raise "
            "COURSE_BUDGET_USD deliberately."
        )


# --- the ledger ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpendTotal:
    """What the ledger holds: dollars spent, answered requests, and since when (UTC, ISO)."""

    spent_usd: float = 0.0
    requests: int = 0
    since: str = ""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SpendLedger:
    """The spend total in one small JSON file, safe to update from several processes at once."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._thread_lock = threading.Lock()  # flock is per process: threads queue here first

    def __repr__(self) -> str:
        return f"<SpendLedger {self.path}>"

    def read(self) -> SpendTotal:
        """The current total ($0 when the file does not exist yet).

        Readers need no lock: writers replace the file atomically, so a read sees one whole
        version. A damaged file is an error, never a silent $0: the cap must not reset itself.
        """
        try:
            text = self.path.read_text("utf-8")
        except FileNotFoundError:
            return SpendTotal()
        except OSError as err:
            raise self._damaged(f"it cannot be read: {err.strerror}") from None
        try:
            data = json.loads(text)
            spent, requests = data["spent_usd"], data["requests"]
            since = str(data.get("since", ""))
        except (ValueError, TypeError, KeyError):
            raise self._damaged("it is not the course's JSON ledger") from None
        if (
            isinstance(spent, bool)
            or not isinstance(spent, int | float)
            or not (math.isfinite(spent) and spent >= 0)
            or isinstance(requests, bool)
            or not isinstance(requests, int)
            or requests < 0
        ):
            raise self._damaged("its spent_usd / requests values are not valid amounts")
        return SpendTotal(float(spent), requests, since)

    def add(self, usd: float) -> SpendTotal:
        """Add one answered request's cost; returns the new total."""
        if isinstance(usd, bool) or not isinstance(usd, int | float) or not usd >= 0:
            raise ValueError(f"a cost must be a number of dollars >= 0, got {usd!r}")
        with self._locked():
            old = self.read()
            new = SpendTotal(old.spent_usd + usd, old.requests + 1, old.since or _now())
            self._write(new)
        return new

    def reset(self) -> None:
        """Start again at $0 (the only way the total ever goes down)."""
        with self._locked():
            self._write(SpendTotal(since=_now()))

    def _damaged(self, why: str) -> config.ConfigError:
        return config.ConfigError(
            f"The course's spend ledger {self.path} is damaged: {why}. It keeps your live spend "
            "across notebooks, so live requests stop until it is fixed. Look at your usage on "
            "the provider's dashboard, then call course_utils.reset_spend() to start the count "
            "at $0 (or set COURSE_SPEND_LEDGER to another file)."
        )

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the ledger's exclusive lock (threads of this process, then other processes)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._thread_lock, open(self._lock_path, "a+b") as lock:
            if sys.platform == "win32":
                import msvcrt

                lock.seek(0)
                msvcrt.locking(lock.fileno(), msvcrt.LK_LOCK, 1)
                try:
                    yield
                finally:
                    lock.seek(0)
                    msvcrt.locking(lock.fileno(), msvcrt.LK_UNLCK, 1)
            else:
                import fcntl

                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _write(self, total: SpendTotal) -> None:
        """Write ``total`` atomically: a temporary file in the same folder, then a rename."""
        data = {
            "spent_usd": total.spent_usd,
            "requests": total.requests,
            "since": total.since,
            "about": "Live API spend of the course (course_utils.spend); reset_spend() zeroes it.",
        }
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


# --- the guard ----------------------------------------------------------------------------------


def _price_model(model: str) -> str:
    """The catalogue row to price ``model`` with: its own, else the dearest (never undercount)."""
    try:
        return get_model(model).id
    except (UnknownModelError, TypeError):
        return max(list_models(), key=lambda m: (m.output, m.input)).id


def _endpoint(request: httpx2.Request) -> str | None:
    """``responses`` / ``chat`` for a generating POST, else None (not estimated)."""
    if request.method != "POST":
        return None
    for suffix, endpoint in _GENERATING_PATHS.items():
        if request.url.path.endswith(suffix):
            return endpoint
    return None


def _request_json(request: httpx2.Request) -> dict | None:
    """The JSON body of a generating POST (Responses or Chat), else None."""
    if _endpoint(request) is None:
        return None
    try:
        body = json.loads(request.content or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


class SpendGuard:
    """Checks each live request's worst case before it is sent; adds actual cost from usage.

    ``budget_usd`` None reads ``COURSE_BUDGET_USD`` at every check, so raising the cap in a
    running kernel takes effect at once.
    """

    def __init__(self, budget_usd: float | None = None, ledger: SpendLedger | None = None) -> None:
        self._budget_usd = budget_usd
        self.ledger = ledger if ledger is not None else SpendLedger(config.spend_ledger_path())
        self.held_usd = 0.0  # estimates of this process's requests still in flight
        self._lock = threading.Lock()

    @property
    def budget_usd(self) -> float:
        """The cap in USD."""
        return self._budget_usd if self._budget_usd is not None else config.budget_usd()

    @property
    def spent_usd(self) -> float:
        """What answered live requests have cost, all notebooks and kernels together."""
        return self.ledger.read().spent_usd

    def estimate(self, body: dict, path: str) -> tuple[float, str]:
        """Worst-case USD of one request body, and a short account of how it was reached."""
        model = body.get("model")
        priced = _price_model(model if isinstance(model, str) else "")
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
        """httpx request hook: raise ``BudgetExceeded`` before a too-costly request leaves;
        otherwise hold its estimate until its answer arrives."""
        body = _request_json(request)
        if body is None:
            return
        usd, what = self.estimate(body, request.url.path)
        budget = self.budget_usd
        with self._lock:
            committed = self.ledger.read().spent_usd + self.held_usd
            if committed + usd > budget:
                raise BudgetExceeded(usd, committed, budget, what)
            self.held_usd += usd
        request.extensions[_HELD] = usd

    def track(self, response: httpx2.Response) -> None:
        """httpx response hook: release the hold; add the actual cost from ``usage``."""
        held = response.request.extensions.pop(_HELD, 0.0)
        try:
            usd = self._cost(response)
            if usd:
                self.ledger.add(usd)  # before the hold goes, so no check sees neither
        finally:
            with self._lock:
                self.held_usd = max(0.0, self.held_usd - held)

    def _cost(self, response: httpx2.Response) -> float:
        """The cost of one answer from its ``usage``; 0 for errors (the service bills none)."""
        body = _request_json(response.request)
        if body is None or response.status_code != 200:
            return 0.0
        if "json" not in response.headers.get("content-type", ""):
            return 0.0  # a stream: its usage arrives in the last event, not here
        response.read()
        try:
            usage = response.json().get("usage") or {}
        except ValueError:
            return 0.0
        inp = usage.get("input_tokens", usage.get("prompt_tokens", 0)) or 0
        out = usage.get("output_tokens", usage.get("completion_tokens", 0)) or 0
        details = usage.get("input_tokens_details") or usage.get("prompt_tokens_details") or {}
        cached = min(details.get("cached_tokens") or 0, inp)
        return estimate_cost(_price_model(str(body.get("model", ""))), inp, out, cached)

    def http_client(self, client: httpx2.Client | None = None) -> httpx2.Client:
        """An HTTP client for ``openai.OpenAI(http_client=...)`` carrying this guard's hooks."""
        client = client if client is not None else openai.DefaultHttpxClient()
        hooks = client.event_hooks
        client.event_hooks = {
            "request": [*hooks.get("request", []), self.check],
            "response": [*hooks.get("response", []), self.track],
        }
        return client


# --- the process's guard and the learner-facing helpers -------------------------------------------

_lock = threading.Lock()
_guard: SpendGuard | None = None


def spend_guard() -> SpendGuard:
    """The process's one guard (shared by every live client, so holds add up across them)."""
    global _guard
    with _lock:
        if _guard is None:
            _guard = SpendGuard()
        return _guard


def spent_usd() -> float:
    """What live requests have cost so far: one total across notebooks and kernel restarts."""
    return SpendLedger(config.spend_ledger_path()).read().spent_usd


def remaining_usd() -> float:
    """What is left of the spend cap (``COURSE_BUDGET_USD``), never below $0."""
    return max(0.0, config.budget_usd() - spent_usd())


def spend_summary() -> str:
    """One line: spent, cap, remaining, and where the total is kept."""
    ledger = SpendLedger(config.spend_ledger_path())
    total = ledger.read()
    budget = config.budget_usd()
    return (
        f"spent ${total.spent_usd:.4f} of the ${budget:.2f} spend cap (COURSE_BUDGET_USD), "
        f"${max(0.0, budget - total.spent_usd):.4f} remaining "
        f"({total.requests} live request{'s' if total.requests != 1 else ''}; one total across "
        f"notebooks and restarts, kept in {ledger.path}; reset_spend() starts again at $0)"
    )


def reset_spend() -> None:
    """Start the spend count again at $0 (deliberately: nothing else lowers it)."""
    global _guard
    with _lock:
        SpendLedger(config.spend_ledger_path()).reset()
        _guard = None
