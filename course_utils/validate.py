"""One shared way to check a setting where it enters the course's public API.

The teaching modules (``backoff``, ``ratelimit``, ``results``) trust their own types inside and
check only what a learner passes in, here, so every message has the same shape: the setting's
name, what it must be, and what it got.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["number", "whole"]


def number(
    name: str, value: object, *, low: float = 0.0, high: float = math.inf, above: bool = False,
    unit: str = "seconds",
) -> float:  # fmt: skip
    """``value`` as a float if it is a finite number from ``low`` (or ``above`` it) to ``high``."""
    finite = isinstance(value, numbers.Real) and math.isfinite(value)
    if finite and (value > low if above else value >= low) and value <= high:  # type: ignore[operator]
        return float(value)  # type: ignore[arg-type]
    bound = f"{'>' if above else '>='} {low:g}" + (f" and <= {high:g}" if high < math.inf else "")
    raise ValueError(f"{name} must be a finite number of {unit} {bound}, got {value!r}")


def whole(
    name: str, value: object, *, low: int = 0, high: float = math.inf, meaning: str = ""
) -> int:
    """``value`` when it is a whole number from ``low`` to ``high``; ``meaning``: what it counts."""
    if isinstance(value, numbers.Integral) and low <= int(value) <= high:
        return int(value)
    bound = f">= {low}" if high == math.inf else f"from {low} to {high:g}"
    extra = f" ({meaning})" if meaning else ""
    raise ValueError(f"{name} must be a whole number {bound}{extra}, got {value!r}")
