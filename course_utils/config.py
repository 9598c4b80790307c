"""Course settings in one block: the backend choice, the spend cap and the SDK's retry defaults.

The retry numbers are read from the installed ``openai`` package, so what a notebook says about
the SDK's built-in retries is what the SDK really does.
"""

from __future__ import annotations

import os

from openai import _constants as _sdk

from .pricing import DEFAULT_MODEL

__all__ = [
    "BACKENDS",
    "DEFAULT_BUDGET_USD",
    "DEFAULT_MODEL",
    "SDK_DEFAULT_MAX_RETRIES",
    "SDK_INITIAL_RETRY_DELAY_S",
    "SDK_MAX_RETRY_AFTER_S",
    "SDK_MAX_RETRY_DELAY_S",
    "SDK_TIMEOUT_S",
    "ConfigError",
    "backend",
    "budget_usd",
]

BACKENDS = ("simulator", "openai")
DEFAULT_BACKEND = "simulator"
DEFAULT_BUDGET_USD = 0.50

SDK_DEFAULT_MAX_RETRIES: int = _sdk.DEFAULT_MAX_RETRIES
SDK_INITIAL_RETRY_DELAY_S: float = _sdk.INITIAL_RETRY_DELAY
SDK_MAX_RETRY_DELAY_S: float = _sdk.MAX_RETRY_DELAY
SDK_MAX_RETRY_AFTER_S: float = float(_sdk.MAX_RETRY_AFTER_DELAY)
SDK_TIMEOUT_S: float = float(_sdk.DEFAULT_TIMEOUT.read or 600)


class ConfigError(ValueError):
    """A course setting (an environment variable) has a value the course cannot use."""


def backend() -> str:
    """Which backend notebooks use: ``COURSE_BACKEND``, ``simulator`` unless set to ``openai``.

    Live mode is opt-in only: an ``OPENAI_API_KEY`` in the environment never switches it on.
    """
    value = os.environ.get("COURSE_BACKEND", DEFAULT_BACKEND).strip().lower() or DEFAULT_BACKEND
    if value not in BACKENDS:
        raise ConfigError(
            f"COURSE_BACKEND={value!r} is not a backend the course knows; use 'simulator' "
            "(offline, the default) or 'openai' (live, uses OPENAI_API_KEY / OPENAI_BASE_URL). "
            "See notebooks/00_start_here.ipynb, section 'Switching to a live model'."
        )
    return value


def budget_usd() -> float:
    """The live-mode spend cap in USD: ``COURSE_BUDGET_USD``, 0.50 unless set."""
    raw = os.environ.get("COURSE_BUDGET_USD", "").strip()
    if not raw:
        return DEFAULT_BUDGET_USD
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(
            f"COURSE_BUDGET_USD={raw!r} is not a number; set it to dollars, e.g. 0.50"
        ) from None
    if not value >= 0 or value == float("inf"):
        raise ConfigError(f"COURSE_BUDGET_USD must be a finite amount >= 0, got {raw!r}")
    return value
