"""One run's settings, checked once: the CLI, ``run_prompts`` and ``run_batch`` all build one.

Every check is at this public edge, written once as a table; the code that runs a job trusts
its settings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from ..fitting import ON_LONG
from ..pricing import DEFAULT_MODEL, model_or_default
from ..ratelimit_extras import ScaledClock
from .inputs import MIN_OUTPUT_TOKENS, InputError

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MAX_OUTPUT_TOKENS",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT_S",
    "RunSettings",
    "whole_number",
]

DEFAULT_CONCURRENCY = 32  # requests in flight at most; the limiter, not this, sets the rate
DEFAULT_MAX_RETRIES = 5
DEFAULT_MAX_OUTPUT_TOKENS = 150  # short, predictable answers (and a small TPM reservation)
DEFAULT_TIMEOUT_S = 60.0

# setting -> the smallest whole number it takes (None is also allowed where the default is None)
_WHOLE = {
    "concurrency": 1,
    "rpm": 1,
    "tpm": 1,
    "max_retries": 0,
    "max_output_tokens": MIN_OUTPUT_TOKENS,
    "max_input_tokens": 1,
}


def whole_number(name: str, value: Any, low: int) -> int:
    """``value`` if it is a whole number >= ``low`` (not a bool), else an ``InputError``."""
    if type(value) is not int or value < low:
        raise InputError(f"{name} must be a whole number >= {low}, got {value!r}")
    return value


@dataclass(frozen=True)
class RunSettings:
    """How to run a file of prompts (online or as a batch); invalid values fail when built."""

    model: str = DEFAULT_MODEL
    concurrency: int = DEFAULT_CONCURRENCY
    rpm: int | None = None  # None: learned from the x-ratelimit-* headers
    tpm: int | None = None
    max_retries: int = DEFAULT_MAX_RETRIES
    max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS
    on_long: str = "chunk"  # a prompt over the input budget: chunk, truncate or fail it
    max_input_tokens: int | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    seed: int | None = None  # the retry jitter's seed (reproducible runs)
    timeline: bool = False  # keep one Attempt per request, for plots
    clock: ScaledClock | None = None  # a simulated clock shared with an in-process Simulator

    def __post_init__(self) -> None:
        for name, low in _WHOLE.items():
            value = getattr(self, name)
            if value is not None or name not in ("rpm", "tpm", "max_input_tokens"):
                whole_number(name, value, low)
        if not isinstance(self.model, str) or not self.model.strip():
            raise InputError(f"model must be a model id, got {self.model!r}")
        most = model_or_default(self.model).max_output
        if self.max_output_tokens > most:
            raise InputError(
                f"max_output_tokens {self.max_output_tokens:,} is over {self.model}'s maximum "
                f"output of {most:,} tokens"
            )
        if self.on_long not in ON_LONG:
            raise InputError(f"on_long must be one of {', '.join(ON_LONG)}, got {self.on_long!r}")
        seconds = self.timeout_s
        if type(seconds) not in (int, float) or not 0 < seconds < math.inf:
            raise InputError(f"timeout must be a number of seconds > 0, got {seconds!r}")
        if self.seed is not None and type(self.seed) is not int:
            raise InputError(f"seed must be a whole number (or None), got {self.seed!r}")

    @classmethod
    def known(cls, **given: Any) -> RunSettings:
        """Settings from keyword arguments; a name that is not a setting is an ``InputError``."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(given) - names)
        if unknown:
            raise InputError(
                f"unknown setting(s) {', '.join(unknown)}; the settings are "
                f"{', '.join(sorted(names))}"
            )
        return cls(**given)
