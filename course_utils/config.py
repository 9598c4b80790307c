"""Course settings in one place: every environment variable the course reads, parsed once here.

- ``COURSE_BACKEND`` (``simulator``): ``simulator`` (offline) or ``openai`` (live).
- ``COURSE_BUDGET_USD`` (``0.50``): the live spend cap, one total per learner.
- ``COURSE_SPEND_LEDGER`` (``<user cache>/course_utils/spend.json``): where live spend is kept.
- ``COURSE_SIM_LATENCY_SCALE`` (``0.02``): the share of each model's latency the shared
  simulator adds.
- ``COURSE_SIM_API_KEY`` (unset): the one key ``python -m course_simulator`` accepts (a
  way to set it that ``ps`` does not show, unlike ``--api-key``).
- ``COURSE_CHECKS_RAISE`` (``0``): ``1`` makes a check that does not pass raise
  ``AssertionError`` (for graders); nbgrader's autograder (``NBGRADER_EXECUTION``) does too.
- ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``: the SDK reads them; here they are only checked for
  presence and shown (the key never).

Each is parsed by ``_setting``: unset or blank gives the default, a bad value a ``ConfigError``
naming the variable and the rule. (tiktoken's own cache variables are read in ``vocab``.)

It does not import the SDK: the simulator's process reads its settings here and never needs it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .pricing import DEFAULT_MODEL

__all__ = [
    "BACKENDS",
    "DEFAULT_BUDGET_USD",
    "DEFAULT_MODEL",
    "DEFAULT_SIM_LATENCY_SCALE",
    "ConfigError",
    "api_key_set",
    "backend",
    "budget_usd",
    "checks_raise",
    "live_base_url",
    "sim_api_key",
    "sim_latency_scale",
    "spend_ledger_path",
    "user_cache_dir",
]

BACKENDS = ("simulator", "openai")
DEFAULT_BACKEND = "simulator"
DEFAULT_BUDGET_USD = 0.50
DEFAULT_SIM_LATENCY_SCALE = 0.02  # notebooks see model latency differences in milliseconds
DEFAULT_LIVE_BASE_URL = "https://api.openai.com/v1"


T = TypeVar("T")


class ConfigError(ValueError):
    """A course setting (an environment variable) has a value the course cannot use."""


def _setting(name: str, default: T, parse: Callable[[str], T]) -> T:
    """The environment variable ``name`` parsed by ``parse``; unset or blank gives ``default``.

    ``parse`` raises ``ValueError`` saying what is wrong; the error names the variable.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return parse(raw)
    except ValueError as err:
        raise ConfigError(f"{name}={raw!r}: {err}") from None


def _number(minimum: float, rule: str) -> Callable[[str], float]:
    """A parser for a finite number >= ``minimum``; ``rule`` explains the setting's units."""

    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"not a number; {rule}") from None
        if not (math.isfinite(value) and value >= minimum):
            raise ValueError(f"must be a finite number >= {minimum:g}; {rule}")
        return value

    return parse


def _backend(raw: str) -> str:
    value = raw.lower()
    if value not in BACKENDS:
        raise ValueError(
            f"{value!r} is not a backend the course knows; use 'simulator' (offline, the "
            "default) or 'openai' (live, uses OPENAI_API_KEY / OPENAI_BASE_URL). See "
            "notebooks/00_start_here.ipynb, section 'Switching to a live model'."
        )
    return value


def backend() -> str:
    """Which backend notebooks use: ``COURSE_BACKEND``, ``simulator`` unless set to ``openai``.

    Live mode is opt-in only: an ``OPENAI_API_KEY`` in the environment never switches it on.
    """
    return _setting("COURSE_BACKEND", DEFAULT_BACKEND, _backend)


def budget_usd() -> float:
    """The live-mode spend cap in USD: ``COURSE_BUDGET_USD``, 0.50 unless set."""
    return _setting(
        "COURSE_BUDGET_USD",
        DEFAULT_BUDGET_USD,
        _number(0, "set COURSE_BUDGET_USD to an amount of dollars, e.g. 0.50"),
    )


def sim_latency_scale() -> float:
    """``COURSE_SIM_LATENCY_SCALE``: the share of each model's catalogue latency the shared
    simulator adds (0 = none, 1 = the full latency; default 0.02, a few milliseconds)."""
    return _setting(
        "COURSE_SIM_LATENCY_SCALE",
        DEFAULT_SIM_LATENCY_SCALE,
        _number(
            0,
            "0 = no simulated model latency, 1 = the catalogue's full latency "
            f"(default {DEFAULT_SIM_LATENCY_SCALE})",
        ),
    )


def _flag(raw: str) -> bool:
    if raw not in ("0", "1"):
        raise ValueError("set it to 1 (on) or 0 (off)")
    return raw == "1"


def checks_raise() -> bool:
    """True when a check that does not pass should raise ``AssertionError``: with
    ``COURSE_CHECKS_RAISE=1``, or while nbgrader executes a notebook to grade or validate it
    (it sets ``NBGRADER_EXECUTION``), so an autograder test cell loses its marks."""
    return _setting("COURSE_CHECKS_RAISE", False, _flag) or bool(
        os.environ.get("NBGRADER_EXECUTION", "").strip()
    )


def sim_api_key() -> str | None:
    """``COURSE_SIM_API_KEY``: the key a simulator started from the command line requires
    (None when unset or blank). Read only by the simulator's CLI; never printed."""
    return _setting("COURSE_SIM_API_KEY", None, str)


def user_cache_dir() -> Path:
    """The course's per-user cache folder: ``$XDG_CACHE_HOME/course_utils`` (``~/.cache/...``)."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.join(
        os.path.expanduser("~"), ".cache"
    )
    return Path(base) / "course_utils"


def _path(raw: str) -> Path:
    return Path(raw).expanduser()


def spend_ledger_path() -> Path:
    """The file that keeps live spend across notebooks and kernel restarts:
    ``COURSE_SPEND_LEDGER``, else ``spend.json`` in the course's user cache folder."""
    return _setting("COURSE_SPEND_LEDGER", user_cache_dir() / "spend.json", _path)


def live_base_url() -> str:
    """Where live requests go: the SDK's ``OPENAI_BASE_URL``, else the OpenAI API."""
    return _setting("OPENAI_BASE_URL", DEFAULT_LIVE_BASE_URL, str)


def api_key_set() -> bool:
    """Whether the SDK will find an ``OPENAI_API_KEY`` (the key itself is never read here)."""
    return bool(os.environ.get("OPENAI_API_KEY", "").strip())
