"""``get_client()``: the one way notebooks get an SDK client, offline or live.

``COURSE_BACKEND=simulator`` (the default) starts one shared in-process course simulator and
points the SDK at it. ``COURSE_BACKEND=openai`` builds a live client from the SDK's own
``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` and guards it with the course's spend cap
(``COURSE_BUDGET_USD``, one total per learner; see ``spend``). ``get_async_client()`` is the
same for ``openai.AsyncOpenAI``. Both are built by ``sdk.make_client``, the one client factory
(a client built by hand, ``openai.OpenAI()``, has no spend guard). Live code never loads the
simulator: ``get_simulator()`` imports it when it is first called.
"""

from __future__ import annotations

import atexit
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import openai

from . import config
from .config import DEFAULT_SIM_LATENCY_SCALE
from .platform import BROWSER_BACKEND, IN_BROWSER
from .sdk import make_client
from .spend import BudgetExceeded, SpendGuard, reset_spend, spend_guard, spend_summary, spent_usd

if TYPE_CHECKING:  # live code never imports the simulator; get_simulator() does, when called
    from course_simulator import Simulator

__all__ = [
    "DEFAULT_SIM_LATENCY_SCALE",
    "BudgetExceeded",
    "SpendGuard",
    "backend_banner",
    "get_async_client",
    "get_client",
    "get_simulator",
    "make_client",
    "reset_spend",
    "shown_url",
    "spent_usd",
]

_lock = threading.Lock()
_shared: Simulator | None = None
_banner_shown = False


def get_simulator() -> Simulator:
    """The process's shared simulator, started on first use (stopped when Python exits)."""
    from course_simulator import Simulator  # here: the live path never loads the simulator

    global _shared
    with _lock:
        if _shared is None or not _shared.running:
            sim = Simulator(latency_scale=config.sim_latency_scale()).start()
            atexit.register(sim.stop)
            _shared = sim
        return _shared


def shown_url(url: str) -> str:
    """``url`` safe to print and save: a ``user:token@`` part and query values become ``***``.

    Notebooks save the banner's output, and an OpenAI-compatible gateway's URL may carry a
    credential in either place; the host and path stay, so the learner still sees where requests
    go. Anything that does not parse as a URL is hidden whole.
    """
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = "***@" + netloc.rpartition("@")[2]
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode([(name, "***") for name, _ in pairs], safe="*")
            if not pairs:  # a bare token with no name=value shape
                query = "***"
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    except ValueError:
        return "<a URL that could not be read; not shown>"


def backend_banner() -> str:
    """One line saying which backend notebooks talk to, how to switch, and (live) the spend."""
    if config.backend() == "simulator" and IN_BROWSER:
        get_simulator()
        return BROWSER_BACKEND
    if config.backend() == "simulator":
        return (
            f"Backend: course simulator at {get_simulator().base_url} (offline: no key, no "
            "cost). For the live API set COURSE_BACKEND=openai and OPENAI_API_KEY."
        )
    return (
        f"Backend: live OpenAI-compatible API at {shown_url(config.live_base_url())}; "
        f"{spend_summary()}. "
        "Set COURSE_BACKEND=simulator to work offline."
    )


def _show_banner_once() -> None:
    global _banner_shown
    if not _banner_shown:
        _banner_shown = True
        print(backend_banner(), flush=True)


def get_client(**overrides: Any) -> openai.OpenAI:
    """An ``openai.OpenAI`` for the chosen backend; ``overrides`` go to the SDK's constructor
    (``max_retries``, ``timeout``, ...). Live, it sends through the course's spend guard."""
    client: openai.OpenAI = _backend_client(False, overrides)
    _show_banner_once()
    return client


def get_async_client(**overrides: Any) -> openai.AsyncOpenAI:
    """``get_client``'s ``openai.AsyncOpenAI`` twin: same backend, same spend guard (no banner:
    it serves code such as the runner, whose command line says where it sends)."""
    client: openai.AsyncOpenAI = _backend_client(True, overrides)
    return client


def _backend_client(asynchronous: bool, overrides: dict[str, Any]) -> Any:
    if config.backend() == "simulator":
        sim = get_simulator()
        return sim.async_client(**overrides) if asynchronous else sim.client(**overrides)
    return make_client(asynchronous=asynchronous, guard=spend_guard(), **overrides)
